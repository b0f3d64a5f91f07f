"""Mapping speed on 1,000,000 usulan: kamus rows alone, and all rows (kamus + text classifier), with
the classifier loaded from its cache. Run: `python -m bench.mapping [--workdir DIR]` after
`python -m bench.extract` has built the 1M-row CSV there."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tasks.batch import SliceKey
from tasks.extract import extract_slice
from tasks.map.classify import train_cached
from tasks.map.mapping import MappingContext, map_usulan


def timed(label: str, rows: int, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"{label:<48} {rows:>10,} rows {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s")
    return result


def run(workdir: Path) -> None:
    key = SliceKey(2025, "desa", "musrenbang", "18.02", "csv")
    staged = extract_slice(key, [workdir / "desa_1m.csv"], "bench", workdir).clean()
    classifier = timed(
        "train or load the classifier", 1, lambda: train_cached(2025, "18.02", cache_dir=workdir / "models")
    )
    context = MappingContext(2025, "18.02", None, classifier)
    kamus_rows = staged[staged.nama_kamus.notna()]
    print(
        f"{len(staged):,} usulan, {staged.uraian_usulan.nunique():,} distinct texts, {len(kamus_rows):,} with a kamus"
    )
    timed("kamus rows", len(kamus_rows), lambda: map_usulan(kamus_rows, context))
    mapped = timed("all rows (kamus, source, classifier)", len(staged), lambda: map_usulan(staged, context))
    print(mapped.mapping_method.value_counts(dropna=False).to_string())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    run(parser.parse_args().workdir)
