"""Realistic sample inbox of Musrenbang usulan and pokir DPRD, from desa forums up to the provinsi.

`generate` simulates the funnel of each pemda, writes the files the way regions hand them over
(CSV dialects, SIPD Excel exports, SIPD-like JSON pages), plants controlled defects and records
them in a manifest per pemda (`<out_dir>/<tahun>/<kode_pemda>/_generated.json`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from sample import manifest
from sample.inbox import generate_pemda
from sample.regions import load_region, pemda_codes

__all__ = ["generate", "generate_pemda"]


def _warm_caches(tahun: int) -> None:
    """Load the shared reference once in the parent so forked workers inherit it."""
    load_region("18.02", tahun)


def generate(
    out_dir: Path, tahun: int = 2025, pemda: Sequence[str] = ("18.02",), seed: int = 42, defect_rate: float = 0.03
) -> dict:
    """Write the inbox of the given pemda (("all",) = every kab/kota) and return the run manifest.

    Same arguments give byte-identical files. Returns {"tahun", "seed", "defect_rate", "pemda":
    {kode: manifest}, "totals": {level: {...}}}.
    """
    out_dir = Path(out_dir)
    codes = pemda_codes(tahun) if tuple(pemda) == ("all",) else list(dict.fromkeys(pemda))
    unknown = sorted(set(codes) - set(pemda_codes(tahun)))
    if unknown:
        raise ValueError(f"unknown kode pemda for tahun {tahun}: {unknown}")
    job = partial(generate_pemda, out_dir, tahun, seed=seed, defect_rate=defect_rate)
    workers = min(os.cpu_count() or 1, len(codes))
    if workers > 1 and len(codes) > 2:
        _warm_caches(tahun)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(job, codes, chunksize=4))
    else:
        results = [job(code) for code in codes]
    return {
        "tahun": tahun,
        "seed": seed,
        "defect_rate": defect_rate,
        "pemda": {m["kode_pemda"]: m for m in results},
        "totals": manifest.grand_totals(results),
    }
