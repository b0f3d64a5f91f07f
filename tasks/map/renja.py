"""The Renja sub kegiatan a pemda carries, per OPD: evidence of which bidang and OPD do what in that region.

A small adapter over the shipped files `reference/renja/renja_<PP_KK>_<tahun>.csv` (SIPD-RI Renja exports),
shaped like `reference.store.renja(kode_pemda, tahun)` (helper "reference", issue 16) so that loader can replace
it. The Renja of the tahun is used, else the nearest earlier one, else the nearest later one.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from reference import store

COLUMNS = [
    "kode_sub_kegiatan",
    "nama_sub_kegiatan",
    "kode_skpd",
    "nama_skpd",
    "kode_bidang_urusan",
    "tolok_ukur_output",
]


def _years(kode_pemda: str) -> dict[int, str]:
    stem = f"renja_{kode_pemda.replace('.', '_')}_"
    return {int(p.stem.removeprefix(stem)): p.name for p in (store.DATA / "renja").glob(f"{stem}*.csv")}


@lru_cache(maxsize=16)
def renja(kode_pemda: str, tahun: int) -> pd.DataFrame:
    """Distinct (sub kegiatan, OPD) lines of the region's Renja outside the penunjang programs (X.XX.01), with
    the bidang of the sub kegiatan code; an empty frame where the region ships none."""
    years = _years(kode_pemda)
    if not years:
        return pd.DataFrame(columns=COLUMNS, dtype="string")
    earlier = [y for y in years if y <= tahun]
    year = max(earlier) if earlier else min(years)
    raw = pd.read_csv(store.DATA / "renja" / years[year], dtype=str, keep_default_na=False)
    raw = raw[~raw.kode_program.str.endswith(".01") & raw.kode_sub_kegiatan.ne("")]
    raw = raw.assign(kode_bidang_urusan=raw.kode_sub_kegiatan.str[:4])
    return raw[COLUMNS].drop_duplicates(["kode_sub_kegiatan", "kode_skpd"]).reset_index(drop=True).astype("string")
