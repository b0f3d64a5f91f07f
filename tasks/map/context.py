"""What mapping needs besides the rows, for all the pemda of a run at once: their kamus and OPD masters as
frames keyed by kode_pemda (so a whole level maps by joins), planners' verified corrections, and a text
classifier per pemda (pemda whose training rows are equal share one fit, see tasks.map.classify)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from reference import store
from schemas import KAMUS, MAPPING_VERIFIED, OPD
from tasks.distinct import distinct_rows
from tasks.map.opd import named_opd, route_opd, text_key


@dataclass(frozen=True)
class RegionFrames:
    """The kamus and OPD masters of many pemda in force for one tahun, as frames with a kode_pemda column."""

    tahun: int
    kamus: pd.DataFrame  # ref_kamus rows
    opd: pd.DataFrame  # ref_opd rows
    opd_names: pd.DataFrame  # kode_pemda, key (text_key of a name or singkatan), kode_skpd: first one wins
    kecamatan_skpd: pd.DataFrame  # kode_pemda, kode_kecamatan, kode_skpd of the kecamatan's own SKPD


def region_frames(pemda: Iterable[str], tahun: int) -> RegionFrames:
    """Kamus and OPD masters of `pemda` in force for `tahun` (each its own, or the template's), with the
    look-ups mapping joins on."""
    pemda = sorted(set(pemda))
    opd = [store.opd(kode, tahun).assign(kode_pemda=kode) for kode in pemda]
    kamus = [store.kamus(kode, tahun).assign(kode_pemda=kode) for kode in pemda]
    opd_frame = pd.concat(opd, ignore_index=True) if opd else OPD.empty_frame()
    kamus_frame = pd.concat(kamus, ignore_index=True) if kamus else KAMUS.empty_frame()
    names = pd.concat(
        [
            pd.DataFrame(
                {"kode_pemda": opd_frame.kode_pemda, "key": text_key(column), "kode_skpd": opd_frame.kode_skpd}
            )
            for column in (opd_frame.nama_skpd, opd_frame.singkatan)
        ],
        ignore_index=True,
    )
    names = names[names.key != ""].drop_duplicates(["kode_pemda", "key"], keep="first")
    units = opd_frame[opd_frame.kode_kecamatan.notna() & opd_frame.kode_skpd.str.endswith(".0000")]
    kecamatan = units[["kode_pemda", "kode_kecamatan", "kode_skpd"]].drop_duplicates(
        ["kode_pemda", "kode_kecamatan"], keep="last"
    )
    return RegionFrames(tahun, kamus_frame, opd_frame, names, kecamatan)


def _lookup(keys: pd.DataFrame, table: pd.DataFrame, on: list[str], value: str) -> pd.Series:
    """`table[value]` for each row of `keys` matched on `on` (missing where none), aligned with `keys`; each
    distinct key is looked up once."""
    distinct, at = distinct_rows(keys[on])
    found = distinct.astype(object).merge(table[[*on, value]].astype(object), on=on, how="left", validate="many_to_one")
    return pd.Series(found[value].to_numpy()[at], index=keys.index).astype("string")


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


def route(
    frames: RegionFrames,
    kode_pemda: pd.Series,
    bidang: pd.Series,
    sub_kegiatan: pd.Series,
    kode_kecamatan: pd.Series,
    uraian: pd.Series,
) -> pd.DataFrame:
    """kode_opd and opd_alternatif of each row by `tasks.map.opd.route_opd` (the pemda's list of the tahun,
    its Renja and kamus as evidence, the usulan's words among units of one bidang), each distinct (pemda, bidang,
    sub kegiatan, kecamatan, named unit) routed once."""
    keys = pd.DataFrame(
        {
            "kode_pemda": kode_pemda.astype("string"),
            "kode_bidang_urusan": bidang.astype("string"),
            "kode_sub_kegiatan": sub_kegiatan.astype("string"),
            "kode_kecamatan": kode_kecamatan.astype("string").where(bidang == store.KECAMATAN_BIDANG),
        }
    )
    keys["kode_opd_teks"] = named_opd(keys.assign(tahun=frames.tahun), uraian)
    on = list(keys.columns)
    rows, at = distinct_rows(keys)
    distinct = rows[rows.kode_bidang_urusan.notna()].reset_index(drop=True)
    routed = pd.concat([distinct, route_opd(distinct.assign(tahun=frames.tahun))], axis=1)
    found = rows.astype(object).merge(routed.astype(object), on=on, how="left", validate="many_to_one")
    return pd.DataFrame(
        {
            "kode_opd": found.kode_opd.to_numpy()[at],
            "opd_alternatif": found.opd_alternatif.to_numpy()[at],
        },
        index=keys.index,
        dtype="string",
    )


def route_sets(
    frames: RegionFrames, *sets: tuple[pd.Series, pd.Series, pd.Series, pd.Series, pd.Series]
) -> list[pd.DataFrame]:
    """`route` of several sets of rows (kode_pemda, bidang, sub kegiatan, kode_kecamatan, uraian each) in one
    call, each set's answer with its own index: the per-pemda work of routing is done once, each distinct key
    routed once."""
    found = route(frames, *(pd.concat([s[i] for s in sets], ignore_index=True) for i in range(5)))
    bounds = np.cumsum([0, *(len(s[0]) for s in sets)])
    return [found.iloc[a:b].set_axis(s[0].index) for s, a, b in zip(sets, bounds[:-1], bounds[1:], strict=True)]


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
    return MappingContext(tahun, region_frames(pemda, tahun), corrections, classifiers)


@dataclass
class MappingContext:
    """Everything the mapping of a run needs: reference frames, corrections, classifiers per pemda."""

    tahun: int
    frames: RegionFrames
    verified: pd.DataFrame  # mapping_verified rows of the run's pemda (the tahun's corrections)
    classifiers: dict[str, object] = field(default_factory=dict)  # kode_pemda -> tasks.map.classify.Classifier
    threshold: float | None = None  # review threshold; None: each classifier's own, chosen for 95 % precision
