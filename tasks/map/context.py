"""What mapping needs besides the rows, for all the pemda of a run at once: their kamus and OPD masters as
frames keyed by kode_pemda (so a whole level maps by joins), planners' verified corrections, and a text
classifier per pemda (pemda whose training rows are equal share one fit, see tasks.map.classify)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from reference import store
from schemas import MAPPING_VERIFIED
from tasks.extract.wilayah import name_key
from tasks.map.opd import text_key

REVIEW_THRESHOLD = 0.5  # classifier confidence below this goes to review
SLOTS = ("bidang_urusan_1", "bidang_urusan_2", "bidang_urusan_3")


@dataclass(frozen=True)
class RegionFrames:
    """The kamus and OPD masters of many pemda, as frames with a kode_pemda column."""

    kamus: pd.DataFrame  # ref_kamus rows
    opd: pd.DataFrame  # ref_opd rows
    opd_names: pd.DataFrame  # kode_pemda, key (text_key of a name or singkatan), kode_skpd: first one wins
    carriers: pd.DataFrame  # kode_pemda, kode_bidang_urusan, kode_skpd, n (OPD carrying it), rank (master order)
    program_carrier: pd.DataFrame  # kode_pemda, program (U.BB.PP), kode_skpd most used by the kamus for it
    kecamatan_skpd: pd.DataFrame  # kode_pemda, kode_kecamatan, kode_skpd of the kecamatan's own SKPD


def _kecamatan_skpd(kode_pemda: str, opd: pd.DataFrame, kecamatan: pd.DataFrame) -> pd.DataFrame:
    kode_of_name = {name_key(n): k for k, n in zip(kecamatan.kode, kecamatan.nama)}
    kec = opd[opd.kode_skpd.str.startswith("7.01.")]
    rows = []
    for kode, nama in zip(kec.kode_skpd, kec.nama_skpd):
        key = name_key(re.sub(r"^kecamatan\s+", "", nama, flags=re.I))
        if key in kode_of_name:
            rows.append((kode_pemda, kode_of_name[key], kode))
    return pd.DataFrame(rows, columns=["kode_pemda", "kode_kecamatan", "kode_skpd"]).drop_duplicates(
        ["kode_pemda", "kode_kecamatan"], keep="last"
    )


def region_frames(pemda: Iterable[str]) -> RegionFrames:
    """Kamus and OPD masters of `pemda`, with the look-ups mapping joins on."""
    pemda = sorted(set(pemda))
    w = store.wilayah()
    kecamatan = w[w.tingkat == "kecamatan"]
    kecamatan = kecamatan[kecamatan.kode_induk.isin(pemda)]
    kamus, opd, names, kec_skpd = [], [], [], []
    for kode in pemda:
        o = store.opd(kode).assign(kode_pemda=kode)
        k = store.kamus(kode).assign(kode_pemda=kode)
        opd.append(o)
        kamus.append(k)
        names.append(pd.DataFrame({"kode_pemda": kode, "key": text_key(o.nama_skpd), "kode_skpd": o.kode_skpd}))
        names.append(pd.DataFrame({"kode_pemda": kode, "key": text_key(o.singkatan), "kode_skpd": o.kode_skpd}))
        kec_skpd.append(_kecamatan_skpd(kode, o, kecamatan[kecamatan.kode_induk == kode]))
    opd_frame = pd.concat(opd, ignore_index=True) if opd else store.opd().iloc[:0]
    kamus_frame = pd.concat(kamus, ignore_index=True) if kamus else store.kamus().iloc[:0]
    opd_names = (
        pd.concat(names, ignore_index=True) if names else pd.DataFrame(columns=["kode_pemda", "key", "kode_skpd"])
    )
    opd_names = opd_names[opd_names.key != ""].drop_duplicates(["kode_pemda", "key"], keep="first")

    slots = (
        opd_frame.reset_index(names="rank")
        .melt(id_vars=["kode_pemda", "kode_skpd", "rank"], value_vars=list(SLOTS), value_name="kode_bidang_urusan")
        .dropna(subset=["kode_bidang_urusan"])
    )
    slots = slots.sort_values(["kode_pemda", "kode_bidang_urusan", "variable", "rank"], kind="stable")
    slots["n"] = slots.groupby(["kode_pemda", "kode_bidang_urusan"]).kode_skpd.transform("size")
    carriers = slots[["kode_pemda", "kode_bidang_urusan", "kode_skpd", "n", "rank"]].reset_index(drop=True)

    by_program = kamus_frame.assign(program=kamus_frame.kode_sub_kegiatan.str[:7]).dropna(subset=["program"])
    counts = by_program.groupby(["kode_pemda", "program", "kode_skpd"], sort=False).size().rename("uses").reset_index()
    counts["first"] = counts.groupby(["kode_pemda", "program"]).cumcount()
    program_carrier = counts.sort_values(
        ["kode_pemda", "program", "uses", "first"], ascending=[True, True, False, True]
    )
    program_carrier = program_carrier.drop_duplicates(["kode_pemda", "program"])[["kode_pemda", "program", "kode_skpd"]]
    kec = (
        pd.concat(kec_skpd, ignore_index=True)
        if kec_skpd
        else pd.DataFrame(columns=["kode_pemda", "kode_kecamatan", "kode_skpd"])
    )
    return RegionFrames(kamus_frame, opd_frame, opd_names, carriers, program_carrier, kec)


def _lookup(keys: pd.DataFrame, table: pd.DataFrame, on: list[str], value: str) -> pd.Series:
    """`table[value]` for each row of `keys` matched on `on` (missing where none), aligned with `keys`."""
    found = keys[on].astype(object).merge(table[[*on, value]].astype(object), on=on, how="left")
    return pd.Series(found[value].to_numpy(), index=keys.index).astype("string")


def opd_kode_of(frames: RegionFrames, kode_pemda: pd.Series, kode: pd.Series, nama: pd.Series) -> pd.Series:
    """Kode SKPD from a given kode (when in the pemda's master) or else from the OPD name."""
    keys = pd.DataFrame({"kode_pemda": kode_pemda, "kode_skpd": kode})
    known = _lookup(keys, frames.opd.assign(_k=frames.opd.kode_skpd), ["kode_pemda", "kode_skpd"], "_k")
    by_name = _lookup(
        pd.DataFrame({"kode_pemda": kode_pemda, "key": text_key(nama)}),
        frames.opd_names,
        ["kode_pemda", "key"],
        "kode_skpd",
    )
    return known.fillna(by_name).astype("string")


def opd_nama_of(frames: RegionFrames, kode_pemda: pd.Series, kode: pd.Series) -> pd.Series:
    return _lookup(
        pd.DataFrame({"kode_pemda": kode_pemda, "kode_skpd": kode}),
        frames.opd,
        ["kode_pemda", "kode_skpd"],
        "nama_skpd",
    )


def single_bidang_of(frames: RegionFrames, kode_pemda: pd.Series, kode: pd.Series) -> pd.Series:
    """The bidang of an OPD that carries only one."""
    single = frames.opd.assign(_b=frames.opd.bidang_urusan_1.where(frames.opd.bidang_urusan_2.isna()))
    return _lookup(
        pd.DataFrame({"kode_pemda": kode_pemda, "kode_skpd": kode}), single, ["kode_pemda", "kode_skpd"], "_b"
    )


def kecamatan_skpd_of(frames: RegionFrames, kode_pemda: pd.Series, kode_kecamatan: pd.Series) -> pd.Series:
    return _lookup(
        pd.DataFrame({"kode_pemda": kode_pemda, "kode_kecamatan": kode_kecamatan}),
        frames.kecamatan_skpd,
        ["kode_pemda", "kode_kecamatan"],
        "kode_skpd",
    )


def carrier_of(
    frames: RegionFrames, kode_pemda: pd.Series, bidang: pd.Series, sub_kegiatan: pd.Series, kode_kecamatan: pd.Series
) -> pd.Series:
    """The OPD that carries a bidang: the kecamatan itself for 7.01; the only OPD with that bidang; among
    twins (e.g. Satpol PP and BPBD for 1.05) the one whose kamus entries use the program; else the first."""
    keys = pd.DataFrame({"kode_pemda": kode_pemda, "kode_bidang_urusan": bidang})
    carriers = frames.carriers
    only = carriers[carriers.n == 1]
    first = carriers.drop_duplicates(["kode_pemda", "kode_bidang_urusan"], keep="first")
    out = _lookup(keys, only, ["kode_pemda", "kode_bidang_urusan"], "kode_skpd")
    program = pd.DataFrame({"kode_pemda": kode_pemda, "program": sub_kegiatan.astype("string").str[:7]})
    out = out.fillna(_lookup(program, frames.program_carrier, ["kode_pemda", "program"], "kode_skpd"))
    out = out.fillna(_lookup(keys, first, ["kode_pemda", "kode_bidang_urusan"], "kode_skpd"))
    kecamatan = kecamatan_skpd_of(frames, kode_pemda, kode_kecamatan)
    return out.mask(bidang == "7.01", kecamatan)


def read_corrections(engine: sa.Engine, pemda: list[str]) -> pd.DataFrame:
    """Planners' verified corrections of the pemda (one query)."""
    from warehouse.models import TABLES

    table = TABLES[MAPPING_VERIFIED.name]
    with engine.connect() as connection:
        frame = pd.read_sql(sa.select(table).where(table.c.kode_pemda.in_(list(pemda))), connection)
    return MAPPING_VERIFIED.conform(frame)


def prepare_context(tahun: int, pemda: list[str], corrections: pd.DataFrame, models_dir: Path) -> MappingContext:
    """The reference frames of the pemda and a text classifier per pemda, each trained with its planners'
    verified corrections (fits are shared by pemda with the same training rows, and cached on disk)."""
    from tasks.map.classify import train_cached

    classifiers = {}
    for kode in pemda:
        verified = corrections[corrections.kode_pemda == kode]
        classifiers[kode] = train_cached(tahun, kode, verified if len(verified) else None, cache_dir=models_dir)
    return MappingContext(tahun, region_frames(pemda), corrections, classifiers)


@dataclass
class MappingContext:
    """Everything the mapping of a run needs: reference frames, corrections, classifiers per pemda."""

    tahun: int
    frames: RegionFrames
    verified: pd.DataFrame  # mapping_verified rows of the run's pemda (the tahun's corrections)
    classifiers: dict[str, object] = field(default_factory=dict)  # kode_pemda -> tasks.map.classify.Classifier
    threshold: float = REVIEW_THRESHOLD
