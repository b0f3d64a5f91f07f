"""Mapping speed on 1,000,000 usulan: kamus rows alone, and all rows (kamus + text classifier), with the
classifier loaded from its cache. Run: `python -m bench.mapping [--workdir DIR]` after `python -m bench.extract`
has built the 1M-row CSV there."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from schemas import MAPPING_VERIFIED
from tasks.extract.discover import files_frame
from tasks.extract.read import read_files
from tasks.map.classify import train_cached
from tasks.map.context import MappingContext, region_frames
from tasks.map.mapping import map_level


def timed(label: str, rows: int, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"{label:<48} {rows:>10,} rows {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s")
    return result


def run(workdir: Path) -> None:
    staged = read_files(files_frame([workdir / "desa_1m.csv"], workdir, "desa")).rows
    classifier = timed(
        "train or load the classifier", 1, lambda: train_cached(2025, "18.02", cache_dir=workdir / "models")
    )
    context = MappingContext(
        2025, region_frames(["18.02"], 2025), MAPPING_VERIFIED.empty_frame(), {"18.02": classifier}
    )
    kamus_rows = staged[staged.nama_kamus.notna()]
    print(
        f"{len(staged):,} usulan, {staged.uraian_usulan.nunique():,} distinct texts, {len(kamus_rows):,} with a kamus"
    )
    timed("kamus rows", len(kamus_rows), lambda: map_level(kamus_rows, context))
    mapped = timed("all rows (kamus, source, classifier)", len(staged), lambda: map_level(staged, context))
    print(mapped.mapping_method.value_counts(dropna=False).to_string())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    run(parser.parse_args().workdir)
