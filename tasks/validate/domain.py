"""Domain rules on mapped usulan: wilayah and nomenclature in force for the tahun, satuan, volume,
plausible anggaran, prioritas per forum, duplicates, repeats of earlier years, lineage and alasan.

Every check is vectorised over the slice and returns an issues frame (see `tasks.validate.issues`).
Checks that need history (lineage, earlier years) read it from the warehouse once per slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import sqlalchemy as sa

from reference import store
from reference.store import DATA, NOMENKLATUR_VERSIONS, WILAYAH_VERSIONS, version_for
from schemas import LEVELS
from tasks.batch import SliceKey
from tasks.map.opd import OpdIndex, opd_index, text_key
from tasks.validate.issues import concat_issues, issues_frame
from warehouse.models import TABLES

ANGGARAN_BAND = (0.2, 5.0)  # plausible anggaran / (volume x kamus unit price)
FORUM_OF_LEVEL = {
    "desa": "kode_desa",
    "kecamatan": "kode_kecamatan",
    "forum_opd": "kode_opd_akhir",
    "kabkota": "kode_opd_akhir",
    "provinsi": "kode_pemda",
    "nasional": "kode_pemda",
}


@lru_cache(maxsize=1)
def satuan_index() -> dict[str, str]:
    """Written variant (lower case) -> canonical satuan, from reference/satuan/satuan.csv."""
    table = pd.read_csv(DATA / "satuan/satuan.csv", dtype=str)
    index = {}
    for canonical, variants in zip(table.satuan, table.varian):
        for variant in [canonical, *variants.split("|")]:
            index[" ".join(variant.lower().split())] = canonical
    return index


def normalise_satuan(satuan: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Canonical satuan where known ('mtr' -> 'Meter', 'Klpk' -> 'Kelompok') and the unknown mask."""
    key = satuan.fillna("").astype("string").str.lower().str.replace(r"[^0-9a-z²³' ]+", " ", regex=True)
    key = key.str.split().str.join(" ")
    canonical = key.map(satuan_index()).astype("string")
    unknown = satuan.notna() & canonical.isna()
    return canonical.fillna(satuan), unknown


@lru_cache(maxsize=8)
def codes_in_force(tahun: int) -> tuple[frozenset, frozenset, frozenset]:
    """Kode wilayah, bidang urusan and sub kegiatan codes of the versions in force for the tahun."""
    w, n = store.wilayah(), store.nomenklatur()
    w = w[w.versi == version_for(WILAYAH_VERSIONS, tahun).versi]
    n = n[n.versi == version_for(NOMENKLATUR_VERSIONS, tahun).versi]
    return (frozenset(w.kode), frozenset(n.kode[n.tingkat == "bidang"]), frozenset(n.kode[n.tingkat == "sub_kegiatan"]))


@dataclass
class History:
    """What the warehouse already holds that the checks compare against."""

    lower_level: pd.DataFrame | None  # id_usulan, kode_desa, text at the level below; None when it has no rows
    accepted_before: pd.DataFrame  # kode_desa, text, tahun of usulan accepted at kab/kota in earlier years

    @classmethod
    def read(cls, engine: sa.Engine, key: SliceKey) -> History:
        usulan = TABLES["usulan"]
        lower = None
        position = LEVELS.index(key.level)
        with engine.connect() as connection:
            if position > 0 and key.stream == "musrenbang":
                lower = pd.read_sql(
                    sa.select(usulan.c.id_usulan, usulan.c.kode_desa, usulan.c.uraian_usulan).where(
                        usulan.c.tahun == key.tahun,
                        usulan.c.kode_pemda == key.kode_pemda,
                        usulan.c.level == LEVELS[position - 1],
                        usulan.c.stream == "musrenbang",
                    ),
                    connection,
                )
                lower = lower.assign(text=text_key(lower.pop("uraian_usulan"))) if len(lower) else None
            earlier = pd.read_sql(
                sa.select(usulan.c.kode_desa, usulan.c.uraian_usulan, usulan.c.tahun).where(
                    usulan.c.tahun < key.tahun,
                    usulan.c.kode_pemda == key.kode_pemda,
                    usulan.c.level == "kabkota",
                    usulan.c.status == "diterima",
                    usulan.c.kode_desa.is_not(None),
                ),
                connection,
            )
        earlier["text"] = text_key(earlier.pop("uraian_usulan"))
        return cls(lower, earlier.drop_duplicates(["kode_desa", "text"], keep="last"))


def _issues(frame: pd.DataFrame, mask: pd.Series, rule: str, field: str | None, values, detail="") -> pd.DataFrame:
    mask = mask.fillna(False).astype(bool)
    values = values[mask] if isinstance(values, pd.Series) else values
    detail = detail[mask] if isinstance(detail, pd.Series) else detail
    return issues_frame(frame.index[mask], rule, field, values, detail)


def _not_in(values: pd.Series, allowed: frozenset) -> pd.Series:
    """Mask of values missing from `allowed`, testing each distinct value once."""
    unknown = {v for v in values.dropna().unique() if v not in allowed}
    return values.isin(unknown)


def check_in_force(frame: pd.DataFrame, tahun: int) -> list[pd.DataFrame]:
    wilayah, bidang, sub_kegiatan = codes_in_force(tahun)
    checks = (
        ("kode_desa", wilayah, "wilayah_not_in_force"),
        ("kode_kecamatan", wilayah, "wilayah_not_in_force"),
        ("kode_bidang_urusan", bidang, "bidang_unknown"),
        ("kode_sub_kegiatan", sub_kegiatan, "sub_kegiatan_unknown"),
    )
    return [
        _issues(frame, _not_in(frame[field], allowed), rule, field, frame[field], str(tahun))
        for field, allowed, rule in checks
    ]


def check_volume_and_anggaran(frame: pd.DataFrame, kode_pemda: str, satuan_unknown: pd.Series) -> list[pd.DataFrame]:
    kamus = store.kamus(kode_pemda).drop_duplicates("id_kamus").set_index("id_kamus")
    has_kamus = frame.id_kamus.isin(kamus.index)
    no_volume = has_kamus & (frame.volume.isna() | (frame.volume <= 0))
    price = frame.id_kamus.map(kamus.harga_satuan).astype("Float64")
    expected = frame.volume * price
    ratio = frame.anggaran / expected
    implausible = (
        has_kamus & expected.gt(0).fillna(False) & frame.anggaran.notna() & ~ratio.between(*ANGGARAN_BAND).fillna(False)
    ).astype(bool)
    bad = frame[implausible]
    detail = pd.Series(
        [f" ({v:g} x Rp {p:,.0f})" for v, p in zip(bad.volume, price[implausible])], index=bad.index, dtype=object
    )
    anggaran = pd.Series([f"{v:,.0f}" for v in bad.anggaran], index=bad.index, dtype=object)
    return [
        _issues(frame, satuan_unknown, "satuan_unknown", "satuan", frame.satuan),
        _issues(frame, no_volume, "volume_missing", "volume", frame.volume, frame.id_kamus.astype("string")),
        issues_frame(bad.index, "anggaran_implausible", "anggaran", anggaran, detail),
    ]


def check_forum(frame: pd.DataFrame, key: SliceKey) -> list[pd.DataFrame]:
    out = []
    if key.stream == "musrenbang":
        forum = frame[FORUM_OF_LEVEL[key.level]]
        dup = frame.prioritas.notna() & forum.notna() & frame.assign(_f=forum).duplicated(["_f", "prioritas"])
        out.append(_issues(frame, dup, "prioritas_duplicate", "prioritas", frame.prioritas, forum.astype("string")))
    text = text_key(frame.uraian_usulan)
    keyed = frame.assign(_text=text)
    has_desa = frame.kode_desa.notna()
    first_id = keyed[has_desa].groupby(["kode_desa", "_text"]).id_usulan.transform("first")
    same = pd.Series(False, index=frame.index)
    same[first_id.index] = (first_id != keyed.loc[first_id.index, "id_usulan"]).to_numpy()
    detail = pd.Series("", index=frame.index, dtype="string")
    detail[first_id.index] = ("id " + first_id).to_numpy()
    out.append(_issues(frame, same, "duplicate_text", "uraian_usulan", frame.uraian_usulan, detail))
    return out


def trace_lineage(frame: pd.DataFrame, lower: pd.DataFrame) -> pd.Series:
    """id_usulan_asal of each row: its own when found below; else the one lower usulan of the same desa
    with the same normalised text (annexes and legacy lists carry no SIPD id); else missing."""
    asal = frame.id_usulan_asal.fillna(frame.id_usulan)
    found = asal.where(asal.isin(set(lower.id_usulan)))
    unique = lower.dropna(subset=["kode_desa"]).drop_duplicates(["kode_desa", "text"], keep=False)
    by_text = pd.DataFrame({"kode_desa": frame.kode_desa, "text": text_key(frame.uraian_usulan)}, index=frame.index)
    matched = by_text.reset_index().merge(unique, on=["kode_desa", "text"]).set_index("index").id_usulan
    return found.fillna(matched.reindex(frame.index)).astype("string")


def check_history(frame: pd.DataFrame, key: SliceKey, history: History, opd: OpdIndex) -> list[pd.DataFrame]:
    out = []
    if history.lower_level is not None:
        own_entry = text_key(frame.pengusul).isin(opd.by_name.index)  # an OPD's own usulan has no lower row
        traced = trace_lineage(frame, history.lower_level)
        missing = ~own_entry & traced.isna()
        out.append(
            _issues(
                frame,
                missing,
                "lineage_missing",
                "id_usulan_asal",
                frame.id_usulan_asal.fillna(frame.id_usulan),
                LEVELS[LEVELS.index(key.level) - 1],
            )
        )
        frame["id_usulan_asal"] = traced.fillna(frame.id_usulan_asal)
    if len(history.accepted_before):
        keys = pd.DataFrame({"kode_desa": frame.kode_desa, "text": text_key(frame.uraian_usulan)}, index=frame.index)
        found = keys.reset_index().merge(history.accepted_before, on=["kode_desa", "text"]).set_index("index")
        mask = pd.Series(frame.index.isin(found.index), index=frame.index)
        detail = found.tahun.astype(str).reindex(frame.index).fillna("")
        out.append(_issues(frame, mask, "repeat_accepted", "uraian_usulan", frame.uraian_usulan, detail))
    rejected = (frame.status == "ditolak") & frame.alasan.isna()
    out.append(_issues(frame, rejected, "alasan_missing", "alasan", None))
    return out


def domain_issues(frame: pd.DataFrame, key: SliceKey, engine: sa.Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the frame with satuan normalised, and the issues of every domain rule."""
    frame = frame.copy()
    frame["satuan"], satuan_unknown = normalise_satuan(frame["satuan"])
    issues = [
        *check_in_force(frame, key.tahun),
        *check_volume_and_anggaran(frame, key.kode_pemda, satuan_unknown),
        *check_forum(frame, key),
        *check_history(frame, key, History.read(engine, key), opd_index(key.kode_pemda)),
    ]
    return frame, concat_issues(issues)
