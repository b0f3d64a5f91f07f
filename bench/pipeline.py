"""Whole-pipeline speed on N regions (default 4; `--regions 514` is the national scale): generate the
sample, run the annual flow on threads and on Dask, and print wall seconds, rows/s and peak memory
beside the floors measured in the same run (reading the files raw with pyarrow/calamine/json, writing
the loaded rows as one Parquet file). Run: `python -m bench.pipeline [--regions N] [--workdir DIR]`."""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import sample
from reference import loaders
from schemas import USULAN
from warehouse.lake import read_dataset


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def read_floor(inbox: Path) -> int:
    """Read every source file with the fastest raw reader, parsing nothing; returns records."""
    import python_calamine

    records = 0
    for path in inbox.rglob("*"):
        if path.name.startswith("_") or not path.is_file():
            continue
        if path.suffix == ".csv":
            head = path.read_bytes()[:4096]
            options = pacsv.ParseOptions(delimiter=";" if head.count(b";") > head.count(b",") else ",")
            encoding = "utf8" if head.startswith(b"\xef\xbb\xbf") else "cp1252"
            records += pacsv.read_csv(path, parse_options=options,
                                      read_options=pacsv.ReadOptions(encoding=encoding)).num_rows
        elif path.suffix == ".xlsx":
            workbook = python_calamine.CalamineWorkbook.from_path(str(path))
            records += sum(len(workbook.get_sheet_by_name(n).to_python()) for n in workbook.sheet_names)
        elif path.suffix == ".json":
            records += len(json.loads(path.read_bytes())["data"])
    return records


def timed(label: str, rows: int | None, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    rate = f"{rows:>10,} rows {seconds:9.1f} s {rows / seconds:>10,.0f} rows/s" if rows else f"{'':>15} {seconds:9.1f} s"
    print(f"{label:<44} {rate}  peak RSS {peak_rss_mib():>7,.0f} MiB", flush=True)
    return result


def run(regions: int, workdir: Path, runners: list[str]) -> None:
    from flows.annual import with_task_runner

    kab = loaders.wilayah()
    pemda = sorted(kab.kode[(kab.tingkat == "kabkota") & (kab.versi == "kepmendagri-2025")])[:regions]
    inbox = workdir / "inbox"
    made = timed(f"generate sample ({len(pemda)} regions)", None, lambda: sample.generate(inbox, pemda=tuple(pemda)))
    rows = sum(t["data_rows"] for t in made["totals"].values())
    timed("floor: read every file raw", rows, lambda: read_floor(inbox))
    for runner in runners:
        out = workdir / runner
        shutil.rmtree(out, ignore_errors=True)
        report = timed(f"annual flow, regions on {runner}", rows, lambda: with_task_runner(runner)(
            tahun=2025, inbox=inbox, lake_root=out / "lake", warehouse_url=f"sqlite:///{out / 'w.sqlite'}"))
        files = report.files
        print(f"    read {files.rows_read.sum():,} loaded {files.rows_loaded.sum():,} "
              f"quarantined {files.rows_quarantined.sum():,} failed files {int((files.status == 'failed').sum())}")
    loaded = read_dataset(workdir / runners[0] / "lake", USULAN)
    timed("floor: write the loaded rows as one Parquet", loaded.num_rows,
          lambda: pq.write_table(loaded, workdir / "floor.parquet", compression="zstd"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--regions", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path("data/bench/pipeline"))
    parser.add_argument("--runner", action="append", choices=["threads", "dask"])
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    run(args.regions, args.workdir, args.runner or ["threads", "dask"])
