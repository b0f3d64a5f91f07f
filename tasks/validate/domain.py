"""Domain rules on the mapped usulan of a level: wilayah and nomenclature in force for the tahun, satuan,
volume, plausible anggaran, prioritas per forum, duplicates, repeats of earlier years, lineage and alasan.

Every check is vectorised over the whole level (all slices, all pemda) and returns an issues frame (see
`tasks.validate.issues`). Checks that compare within a forum group by the slice as well, so a slice is
judged on its own rows. History comes in as frames: the level below from this run or the lake
(`lower`), and what earlier years accepted (`accepted_before`); nothing here reads the warehouse.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from reference import store
from reference.store import DATA, NOMENKLATUR_VERSIONS, WILAYAH_VERSIONS, version_for
from schemas import LEVELS, SLICE_KEY
from tasks.map.opd import text_key
from tasks.validate.issues import concat_issues, issues_frame

ANGGARAN_BAND = (0.2, 5.0)  # plausible anggaran / (volume x kamus unit price)
FORUM_OF_LEVEL = {
    "desa": "kode_desa",
    "kecamatan": "kode_kecamatan",
    "forum_opd": "kode_opd_akhir",
    "kabkota": "kode_opd_akhir",
    "provinsi": "kode_pemda",
    "nasional": "kode_pemda",
}
DOMAIN_RULES = (
    "wilayah_not_in_force",
    "bidang_unknown",
    "sub_kegiatan_unknown",
    "satuan_unknown",
    "volume_missing",
    "anggaran_implausible",
    "prioritas_duplicate",
    "duplicate_text",
    "repeat_accepted",
    "lineage_missing",
    "alasan_missing",
)
SLICE = [*SLICE_KEY, "stream"]


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
    codes, written = pd.factorize(satuan.fillna("").astype("string"), sort=False)  # each distinct one once
    key = pd.Series(written, dtype="string").str.lower().str.replace(r"[^0-9a-z²³' ]+", " ", regex=True)
    key = key.str.split().str.join(" ")
    canonical = pd.Series(key.map(satuan_index()).astype("string").array.take(codes), index=satuan.index)
    unknown = satuan.notna() & canonical.isna()
    return canonical.fillna(satuan), unknown


@lru_cache(maxsize=8)
def codes_in_force(tahun: int) -> tuple[frozenset, frozenset, frozenset]:
    """Kode wilayah, bidang urusan and sub kegiatan codes of the versions in force for the tahun."""
    w, n = store.wilayah(), store.nomenklatur()
    w = w[w.versi == version_for(WILAYAH_VERSIONS, tahun).versi]
    n = n[n.versi == version_for(NOMENKLATUR_VERSIONS, tahun).versi]
    return (
        frozenset(w.kode),
        frozenset(n.kode[n.tingkat == "bidang"]),
        frozenset(n.kode[n.tingkat == "sub_kegiatan"]),
    )


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


def check_volume_and_anggaran(
    frame: pd.DataFrame, kamus: pd.DataFrame, satuan_unknown: pd.Series
) -> list[pd.DataFrame]:
    """Satuan known; volume given where the kamus item needs one; anggaran plausible for volume x the kamus
    unit price (`kamus`: kode_pemda, id_kamus, harga_satuan of the run's pemda)."""
    price = frame[["kode_pemda", "id_kamus"]].merge(
        kamus[["kode_pemda", "id_kamus", "harga_satuan"]].drop_duplicates(["kode_pemda", "id_kamus"]),
        on=["kode_pemda", "id_kamus"],
        how="left",
        indicator=True,
    )
    has_kamus = pd.Series((price["_merge"] == "both").to_numpy(), index=frame.index)
    price = pd.Series(price["harga_satuan"].to_numpy(), index=frame.index).astype("Float64")
    no_volume = has_kamus & (frame.volume.isna() | (frame.volume <= 0))
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


def check_forum(frame: pd.DataFrame, level: str) -> list[pd.DataFrame]:
    """Within each slice: a prioritas used twice in one forum; the same text twice for one desa."""
    out = []
    musrenbang = frame.stream == "musrenbang"
    forum = frame[FORUM_OF_LEVEL[level]]
    keyed = frame[SLICE].assign(_f=forum, _p=frame.prioritas)
    dup = musrenbang & frame.prioritas.notna() & forum.notna() & keyed.duplicated([*SLICE, "_f", "_p"])
    out.append(_issues(frame, dup, "prioritas_duplicate", "prioritas", frame.prioritas, forum.astype("string")))
    text = text_key(frame.uraian_usulan)
    keyed = frame[[*SLICE, "kode_desa", "id_usulan"]].assign(_text=text)
    has_desa = frame.kode_desa.notna()
    first_id = keyed[has_desa].groupby([*SLICE, "kode_desa", "_text"]).id_usulan.transform("first")
    same = pd.Series(False, index=frame.index)
    same[first_id.index] = (first_id != keyed.loc[first_id.index, "id_usulan"]).to_numpy()
    detail = pd.Series("", index=frame.index, dtype="string")
    detail[first_id.index] = ("id " + first_id).to_numpy()
    out.append(_issues(frame, same, "duplicate_text", "uraian_usulan", frame.uraian_usulan, detail))
    return out


def lower_level_rows(published: pd.DataFrame) -> pd.DataFrame:
    """What lineage needs of a level's published rows: kode_pemda, id_usulan, kode_desa and the text key."""
    musrenbang = published[published.stream == "musrenbang"]
    return pd.DataFrame(
        {
            "kode_pemda": musrenbang.kode_pemda.astype(str).to_numpy(),
            "id_usulan": musrenbang.id_usulan.to_numpy(),
            "kode_desa": musrenbang.kode_desa.to_numpy(),
            "text": text_key(musrenbang.uraian_usulan).to_numpy(),
        }
    )


def trace_lineage(frame: pd.DataFrame, lower: pd.DataFrame) -> pd.Series:
    """id_usulan_asal of each row: its own when found below in its pemda; else the one lower usulan of the same
    desa with the same normalised text (annexes and legacy lists carry no SIPD id); else missing."""
    asal = frame.id_usulan_asal.fillna(frame.id_usulan)
    known = pd.MultiIndex.from_frame(lower[["kode_pemda", "id_usulan"]].astype(str))
    found = asal.where(pd.MultiIndex.from_arrays([frame.kode_pemda.astype(str), asal.astype(str)]).isin(known))
    unique = lower.dropna(subset=["kode_desa"]).drop_duplicates(["kode_desa", "text"], keep=False)
    by_text = pd.DataFrame({"kode_desa": frame.kode_desa, "text": text_key(frame.uraian_usulan)}, index=frame.index)
    matched = by_text.reset_index().merge(unique[["kode_desa", "text", "id_usulan"]], on=["kode_desa", "text"])
    matched = matched.set_index("index").id_usulan
    return found.fillna(matched.reindex(frame.index)).astype("string")


def check_history(
    frame: pd.DataFrame,
    level: str,
    lower: pd.DataFrame | None,
    accepted_before: pd.DataFrame,
    opd_names: pd.DataFrame,
) -> tuple[pd.Series, list[pd.DataFrame]]:
    """Lineage to the level below (musrenbang rows of pemda that have rows there), repeats of usulan accepted in
    earlier years, and a rejection without a reason. Returns the traced id_usulan_asal and the issues."""
    out = []
    asal = frame.id_usulan_asal
    if lower is not None and len(lower) and LEVELS.index(level) > 0:
        checked = (frame.stream == "musrenbang") & frame.kode_pemda.isin(set(lower.kode_pemda))
        pengusul = pd.MultiIndex.from_arrays([frame.kode_pemda.astype(str), text_key(frame.pengusul)])
        own_entry = pengusul.isin(pd.MultiIndex.from_frame(opd_names[["kode_pemda", "key"]]))
        traced = trace_lineage(frame, lower)
        missing = checked & ~own_entry & traced.isna()
        below = LEVELS[LEVELS.index(level) - 1]
        out.append(
            _issues(
                frame, missing, "lineage_missing", "id_usulan_asal", frame.id_usulan_asal.fillna(frame.id_usulan), below
            )
        )
        asal = traced.where(checked).fillna(frame.id_usulan_asal)
    if len(accepted_before):
        keys = pd.DataFrame({"kode_desa": frame.kode_desa, "text": text_key(frame.uraian_usulan)}, index=frame.index)
        found = keys.reset_index().merge(accepted_before, on=["kode_desa", "text"]).set_index("index")
        mask = pd.Series(frame.index.isin(found.index), index=frame.index)
        detail = found.tahun.astype(str).reindex(frame.index).fillna("")
        out.append(_issues(frame, mask, "repeat_accepted", "uraian_usulan", frame.uraian_usulan, detail))
    rejected = (frame.status == "ditolak") & frame.alasan.isna()
    out.append(_issues(frame, rejected, "alasan_missing", "alasan", None))
    return asal, out


def accepted_rows(published: pd.DataFrame) -> pd.DataFrame:
    """kode_desa, text and tahun of usulan accepted at the kab/kota forum (for repeats in later years)."""
    accepted = published[
        (published.level == "kabkota") & (published.status == "diterima") & published.kode_desa.notna()
    ]
    frame = pd.DataFrame(
        {
            "kode_desa": accepted.kode_desa.to_numpy(),
            "text": text_key(accepted.uraian_usulan).to_numpy(),
            "tahun": accepted.tahun.to_numpy(),
        }
    )
    return frame.sort_values("tahun", kind="stable").drop_duplicates(["kode_desa", "text"], keep="last")


def domain_issues(
    frame: pd.DataFrame,
    level: str,
    tahun: int,
    kamus: pd.DataFrame,
    opd_names: pd.DataFrame,
    lower: pd.DataFrame | None,
    accepted_before: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame with satuan normalised and lineage traced, and the issues of every domain rule."""
    frame = frame.copy()
    frame["satuan"], satuan_unknown = normalise_satuan(frame["satuan"])
    asal, history = check_history(frame, level, lower, accepted_before, opd_names)
    issues = [
        *check_in_force(frame, tahun),
        *check_volume_and_anggaran(frame, kamus, satuan_unknown),
        *check_forum(frame, level),
        *history,
    ]
    frame["id_usulan_asal"] = asal
    return frame, concat_issues(issues)
