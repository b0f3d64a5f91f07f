"""Whole-pipeline speed, up to the national scale, beside the floors measured in the same run.

Generates the sample inbox of N regions (or reuses one), runs the annual flow into a fresh PostgreSQL database
with a Prefect server the bench starts (or PREFECT_API_URL), and prints per-stage seconds (summed over the
levels), the task-run count and the peak RSS of the run's processes (the flow and its reading workers). Then,
in the same run, the floors:
- reading every file raw (pyarrow / calamine / json), on as many processes as the pipeline reads with;
- `psql \\copy` of the loaded rows into an empty table with usulan's keys and indexes;
- writing the loaded rows as one Parquet file;
- the text classifier once on the distinct texts the run classified.
The last line is `ratio_to_floors <pipeline wall / sum of floors>`.

    python -m bench.pipeline --regions all --workdir /work/bench/national   # 514 kab/kota, ~2.7 M rows
    python -m bench.pipeline --regions 48                                   # 48 regions, ~0.39 M rows
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import psutil
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

import sample
from flows import progress
from reference import store
from schemas import USULAN
from warehouse.db import scoped_engine
from warehouse.lake import read_dataset

CORES = os.cpu_count() or 2


class PeakMemory:
    """Peak of the summed RSS of this process and its descendants (reading workers), sampled twice a second;
    processes named in `exclude` (the Prefect server) are left out."""

    def __init__(self, exclude: set[int]):
        self.exclude, self.peak, self._stop = exclude, 0, threading.Event()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                if p.pid in self.exclude:
                    continue
                with contextlib.suppress(psutil.Error):  # a worker may end meanwhile
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(0.5)

    def __enter__(self) -> PeakMemory:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def line(label: str, rows: int | None, seconds: float) -> None:
    rate = (
        f"{rows:>11,} rows {seconds:9.1f} s {rows / seconds:>10,.0f} rows/s" if rows else f"{'':>16} {seconds:9.1f} s"
    )
    print(f"{label:<50} {rate}", flush=True)


def timed(label: str, rows: int | None, func):
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    line(label, rows, seconds)
    return result, seconds


def _read_raw(paths: list[str]) -> int:
    """Read files with the fastest raw reader, parsing nothing; returns records."""
    import python_calamine

    records = 0
    for name in paths:
        path = Path(name)
        if path.suffix == ".csv":
            head = path.read_bytes()[:4096]
            options = pacsv.ParseOptions(delimiter=";" if head.count(b";") > head.count(b",") else ",")
            encoding = "utf8" if head.startswith(b"\xef\xbb\xbf") else "cp1252"
            records += pacsv.read_csv(
                path, parse_options=options, read_options=pacsv.ReadOptions(encoding=encoding)
            ).num_rows
        elif path.suffix == ".xlsx":
            workbook = python_calamine.CalamineWorkbook.from_path(str(path))
            records += sum(len(workbook.get_sheet_by_name(n).to_python()) for n in workbook.sheet_names)
        elif path.suffix == ".json":
            records += len(json.loads(path.read_bytes())["data"])
    return records


def read_floor(inbox: Path, workers: int) -> int:
    """Every source file read raw, on `workers` processes (files dealt out by size)."""
    files = sorted(
        (p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith("_")), key=lambda p: -p.stat().st_size
    )
    chunks = [[str(p) for p in files[i :: workers * 4]] for i in range(workers * 4)]
    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(_read_raw, chunks))


@contextmanager
def prefect_api(port: int):
    """PREFECT_API_URL of a `prefect server start` run for the bench (or the one already set)."""
    if os.environ.get("PREFECT_API_URL") or not port:
        yield os.environ.get("PREFECT_API_URL"), None
        return
    url = f"http://127.0.0.1:{port}/api"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"prefect server did not answer at {url}") from None
                time.sleep(1)
        os.environ["PREFECT_API_URL"] = url
        yield url, server.pid
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.terminate()
        server.wait(60)


def fresh_database(server_url: str, name: str) -> str:
    engine = sa.create_engine(f"{server_url.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server_url.rstrip('/')}/{name}"


def task_run_count(flow_run_id) -> int:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    count, offset = 0, 0
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])), limit=200, offset=offset
            )
            count += len(page)
            if len(page) < 200:
                return count
            offset += 200


def copy_floor(database_url: str, loaded, workdir: Path) -> float:
    """`psql \\copy` of the loaded rows into a copy of the usulan table (same keys and indexes)."""
    csv = workdir / "floor.csv"
    pacsv.write_csv(loaded, csv)
    with scoped_engine(database_url) as engine, engine.begin() as c:
        c.execute(sa.text("DROP TABLE IF EXISTS usulan_copy_floor"))
        c.execute(sa.text("CREATE TABLE usulan_copy_floor (LIKE usulan INCLUDING ALL)"))
    url = sa.make_url(database_url)
    command = f"\\copy usulan_copy_floor ({', '.join(loaded.column_names)}) FROM '{csv}' WITH (FORMAT csv, HEADER)"
    _, seconds = timed(
        "floor: psql \\copy the loaded rows",
        loaded.num_rows,
        lambda: subprocess.run(
            [
                "psql",
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                "-d",
                url.database,
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                command,
            ],
            check=True,
            capture_output=True,
        ),
    )
    return seconds


def classifier_floor(loaded: pd.DataFrame, models: Path) -> float:
    """One classifier on the distinct texts the run sent to the classifier (mapped by it, or left for review)."""
    from tasks.map.classify import train_cached

    texts = loaded.loc[loaded.mapping_method.isna() | (loaded.mapping_method == "klasifikasi"), "uraian_usulan"]
    distinct = texts.drop_duplicates().reset_index(drop=True)
    classifier = train_cached(2025, str(loaded.kode_pemda.iloc[0]), cache_dir=models)
    _, seconds = timed(
        f"floor: classify {len(distinct):,} distinct texts once", len(texts), lambda: classifier.predict(distinct)
    )
    return seconds


def run(args: argparse.Namespace, server_pid: int | None) -> None:
    from flows.annual import annual_run

    workdir = args.workdir
    inbox = workdir / "inbox"
    if not (inbox / "2025").is_dir():
        kab = store.wilayah()
        codes = sorted(kab.kode[(kab.tingkat == "kabkota") & (kab.versi == "kepmendagri-2025")])
        pemda = ("all",) if args.regions == "all" else tuple(codes[: int(args.regions)])
        timed(f"generate sample ({args.regions} regions)", None, lambda: sample.generate(inbox, pemda=pemda))
    regions = sorted(p.name for p in (inbox / "2025").iterdir() if p.is_dir())
    files = sum(1 for p in inbox.rglob("*") if p.is_file() and not p.name.startswith("_"))
    print(f"{len(regions)} regions, {files:,} files; reading workers: {CORES}", flush=True)
    out = workdir / "run"
    shutil.rmtree(out, ignore_errors=True)
    url = fresh_database(args.server_url, args.database)
    stages: dict[str, list] = defaultdict(lambda: [0, 0.0])
    timeline: list[tuple[float, progress.Step]] = []  # each step with the second of the run it ended at

    def collect(event) -> None:
        if isinstance(event, progress.Step):
            stages[event.stage][0] += event.rows or 0
            stages[event.stage][1] += event.seconds
            timeline.append((time.perf_counter() - started, event))

    with PeakMemory({server_pid} if server_pid else set()) as memory, progress.use(collect):
        started = time.perf_counter()
        state = annual_run(
            tahun=2025,
            inbox=inbox,
            lake_root=out / "lake",
            warehouse_url=url,
            runner=args.runner,
            models_dir=workdir / "models",
            extracts=args.extracts,
            force=True,
            return_state=True,
        )
        wall = time.perf_counter() - started
    report = state.result()
    f = report.files
    rows = int(f.rows_read.sum())
    line(f"pipeline ({args.runner}), wall", rows, wall)
    print(
        f"  read {rows:,} = loaded {f.rows_loaded.sum():,} + quarantined {f.rows_quarantined.sum():,} + failed "
        f"{f.rows_failed.sum():,}; files failed {int((f.load_status == 'failed').sum())}; balanced "
        f"{report.balanced}",
        flush=True,
    )
    for stage, (count, seconds) in stages.items():
        line(f"  {stage}", count or None, seconds)
    if args.timeline:
        print("  timeline (second of the run a step started and ended, level, stage):")
        for end, step in timeline:
            print(f"    {end - step.seconds:7.1f} {end:7.1f}  {step.level:<22} {step.stage}")
    count = task_run_count(state.state_details.flow_run_id) if os.environ.get("PREFECT_API_URL") else None
    print(f"  Prefect task runs: {count if count is not None else 'n/a (no server)'}")
    print(f"  peak RSS (flow and reading workers): {memory.peak / 2**20:,.0f} MiB", flush=True)

    _, read = timed(f"floor: read every file raw on {CORES} processes", None, lambda: read_floor(inbox, CORES))
    loaded = read_dataset(out / "lake", USULAN)
    copy = copy_floor(url, loaded, workdir)
    _, parquet = timed(
        "floor: write the loaded rows as one Parquet",
        loaded.num_rows,
        lambda: pq.write_table(loaded, workdir / "floor.parquet", compression="zstd"),
    )
    classify = classifier_floor(
        loaded.select(["kode_pemda", "uraian_usulan", "mapping_method"]).to_pandas(), workdir / "models"
    )
    floors = read + copy + parquet + classify
    line("floors, summed", None, floors)
    print(f"ratio_to_floors {wall / floors:.2f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--regions", default="4", help="number of kab/kota to generate, or all (514)")
    parser.add_argument("--workdir", type=Path, default=Path("data/bench/pipeline"))
    parser.add_argument("--runner", choices=["threads", "dask"], default="threads")
    parser.add_argument(
        "--server-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432",
        help="PostgreSQL server; the run loads into a fresh database on it",
    )
    parser.add_argument("--database", default="rkpd_bench", help="name of the fresh database the run loads into")
    parser.add_argument(
        "--prefect-server",
        type=int,
        default=4242,
        metavar="PORT",
        help="start `prefect server start` on PORT unless PREFECT_API_URL is set; 0: none",
    )
    parser.add_argument(
        "--extracts",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also write every region's OPD extracts (default: off)",
    )
    parser.add_argument(
        "--timeline", action="store_true", help="also print every step of every level with when it started and ended"
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ["PREFECT_TASKS_REFRESH_CACHE"] = "true"  # read every file: no extract served from the result cache
    with prefect_api(args.prefect_server) as (api, pid):
        print(f"Prefect API: {api or 'ephemeral'}", flush=True)
        run(args, pid)
