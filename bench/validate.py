"""Validation speed on 1,000,000 usulan: the contract-only GX suite against the full rule set
(contract + duplicate keys + every domain rule). Run: `python -m bench.validate [--workdir DIR]`
after `python -m bench.extract` has built the 1M-row CSV there."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tasks.batch import SliceKey
from tasks.extract import extract_slice
from tasks.map.mapping import MappingContext, map_usulan
from tasks.validate.domain import domain_issues
from tasks.validate.gx import check_contract, contract_issues
from warehouse.db import create_engine
from warehouse.migrate import upgrade


def timed(label: str, rows: int, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    print(f"{label:<52} {rows:>10,} rows {seconds:8.2f} s {rows / seconds:>12,.0f} rows/s")
    return result, seconds


def run(workdir: Path) -> None:
    csv = workdir / "desa_1m.csv"
    key = SliceKey(2025, "desa", "musrenbang", "18.02", "csv")
    batch = extract_slice(key, [csv], "bench", workdir)
    rows = len(batch.staged)
    contract_issues(batch.clean().head(100))  # import GX and build the suite outside the timings
    engine = create_engine(f"sqlite:///{workdir / 'validate.sqlite'}")
    upgrade(engine)
    _, contract_only = timed("contract-only GX suite", rows, lambda: contract_issues(batch.clean()))
    _, contract = timed("full: contract suite + duplicate keys", rows, lambda: check_contract([batch]))
    context = MappingContext(key.tahun, key.kode_pemda)
    mapped, _ = timed("(mapping, not validation)", rows, lambda: map_usulan(batch.clean(), context))
    _, domain = timed("full: domain rules", rows, lambda: domain_issues(mapped, key, engine))
    full = contract + domain
    print(f"{'full rule set':<52} {rows:>10,} rows {full:8.2f} s {rows / full:>12,.0f} rows/s")
    print(f"full / contract-only = {full / contract_only:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench"))
    run(parser.parse_args().workdir)
