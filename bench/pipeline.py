"""Whole-pipeline speed, up to the national scale: generate the sample inbox (or reuse one), run the annual
flow on threads and on Dask into PostgreSQL, and print per-stage seconds (summed over the Prefect task runs
of each step, so parallel work adds up), rows/s and peak memory beside the floors measured in the same run:
reading the files raw (pyarrow/calamine/json), writing the loaded rows as one Parquet file and
`psql \\copy` of them into a copy of the usulan table. Last, the overhead Prefect adds to a one-region run.
The runs report to a `prefect server start` the bench starts (or PREFECT_API_URL), as a national
office would run them; `--prefect-server 0` leaves each process to start an ephemeral server.

    python -m bench.pipeline --regions all --workdir /work/bench/national   # 514 kab/kota, ~2.7 M rows
    python -m bench.pipeline                                                # 4 regions
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa

import sample
from reference import store
from schemas import USULAN
from warehouse.db import scoped_engine
from warehouse.lake import read_dataset

STAGES = {  # Prefect task -> stage, in pipeline order
    "prepare_mapping": "prepare mapping (classifier per region)",
    "fingerprint": "fingerprint files",
    "skip_if_unchanged": "skip unchanged slices",
    "extract": "extract (read + stage)",
    "validate_contract": "contract check (GX, one per partition)",
    "map_to_opd": "map to OPD / bidang",
    "validate_domain": "domain rules",
    "lake_write": "write Parquet lake",
    "warehouse_load": "load warehouse (COPY)",
    "quality_report": "quality page + GX Data Docs",
    "run_report": "run report",
    "opd_extracts": "OPD extracts",
}


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def line(label: str, rows: int | None, seconds: float) -> None:
    rate = (
        f"{rows:>11,} rows {seconds:9.1f} s {rows / seconds:>10,.0f} rows/s" if rows else f"{'':>16} {seconds:9.1f} s"
    )
    print(f"{label:<46} {rate}", flush=True)


def timed(label: str, rows: int | None, func):
    start = time.perf_counter()
    result = func()
    line(label, rows, time.perf_counter() - start)
    print(f"{'':<46} peak RSS {peak_rss_mib():>8,.0f} MiB", flush=True)
    return result


def read_floor(inbox: Path) -> int:
    """Read every source file with the fastest raw reader, parsing nothing; returns records."""
    import python_calamine

    records = 0
    for path in sorted(inbox.rglob("*")):
        if path.name.startswith("_") or not path.is_file():
            continue
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


@contextmanager
def prefect_api(port: int):
    """PREFECT_API_URL of a `prefect server start` run for the bench (or the one already set), so the
    flow and every Dask worker report to one API instead of each starting an ephemeral server."""
    if os.environ.get("PREFECT_API_URL"):
        yield os.environ["PREFECT_API_URL"]
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
        yield url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.terminate()
        server.wait(60)


def fresh_database(server_url: str, name: str) -> str:
    """An empty PostgreSQL database `name` on the server (dropped first); returns its URL."""
    engine = sa.create_engine(f"{server_url.rstrip('/')}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server_url.rstrip('/')}/{name}"


def task_runs(flow_run_id) -> pd.DataFrame:
    """Every task run of the flow run (stage, run seconds, created/start/end times) from the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    rows, offset = [], 0
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])), limit=200, offset=offset
            )
            rows += [
                {
                    "task": r.task_key.rsplit("-", 1)[0],
                    "seconds": r.total_run_time.total_seconds(),
                    "created": r.created,
                    "start": r.start_time,
                    "end": r.end_time,
                }
                for r in page
            ]
            if len(page) < 200:
                break
            offset += 200
    return pd.DataFrame(rows)


def print_stages(runs: pd.DataFrame, rows: int) -> None:
    per_task = runs.groupby("task")["seconds"].agg(["sum", "count"])
    for task, label in STAGES.items():
        if task in per_task.index:
            line(f"  {label} ({per_task.loc[task, 'count']:,} runs)", rows, per_task.loc[task, "sum"])


def run_flow(runner: str, **parameters):
    """The annual flow on `runner`; returns (report, flow run id)."""
    from flows.annual import with_task_runner

    state = with_task_runner(runner)(tahun=2025, return_state=True, **parameters)
    return state.result(), state.state_details.flow_run_id


def copy_floor(database_url: str, lake: Path, workdir: Path) -> None:
    """`psql \\copy` of the loaded rows into a copy of the usulan table (same keys and indexes)."""
    loaded = read_dataset(lake, USULAN)
    csv = workdir / "floor.csv"
    pacsv.write_csv(loaded, csv)
    with scoped_engine(database_url) as engine, engine.begin() as c:
        c.execute(sa.text("DROP TABLE IF EXISTS usulan_copy_floor"))
        c.execute(sa.text("CREATE TABLE usulan_copy_floor (LIKE usulan INCLUDING ALL)"))
    url = sa.make_url(database_url)
    command = [f"\\copy usulan_copy_floor ({', '.join(loaded.column_names)}) FROM '{csv}' WITH (FORMAT csv, HEADER)"]
    timed(
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
                *command,
            ],
            check=True,
            capture_output=True,
        ),
    )
    timed(
        "floor: write the loaded rows as one Parquet",
        loaded.num_rows,
        lambda: pq.write_table(loaded, workdir / "floor.parquet", compression="zstd"),
    )


def prefect_overhead(inbox: Path, pemda: str, workdir: Path) -> None:
    """Wall time of a one-region run against the time spent inside its flow and task bodies."""
    out = workdir / "one-region"
    started = time.perf_counter()
    _, flow_run_id = run_flow(
        "threads",
        inbox=inbox,
        lake_root=out / "lake",
        pemda=[pemda],
        warehouse_url=f"sqlite:///{out / 'w.sqlite'}",
        models_dir=workdir / "models",
        force=True,
    )
    wall = time.perf_counter() - started
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        flow_seconds = client.read_flow_run(flow_run_id).total_run_time.total_seconds()
    runs = task_runs(flow_run_id)
    waiting = (runs.start - runs.created).dt.total_seconds().clip(lower=0)
    print(
        f"one-region run ({pemda}): wall {wall:.1f} s; flow body {flow_seconds:.1f} s; task bodies "
        f"{runs.seconds.sum():.1f} s in {len(runs)} task runs"
    )
    print(
        f"  Prefect overhead: {wall - flow_seconds:.1f} s around the flow (flow run, server warm) + "
        f"{waiting.sum():.1f} s before task starts ({1000 * waiting.mean():.0f} ms per task run)"
    )
    cold = [
        sys.executable,
        "-c",
        "import time; t = time.perf_counter(); from prefect import flow; "
        "flow(lambda: None, name='empty')(); print(time.perf_counter() - t)",
    ]
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    seconds = float(subprocess.run(cold, check=True, capture_output=True, text=True, env=env).stdout.split()[-1])
    print(f"  a fresh process adds Prefect's import and ephemeral server start: an empty flow takes {seconds:.1f} s")


def run(args: argparse.Namespace) -> None:
    workdir = args.workdir
    inbox = workdir / "inbox"
    if not (inbox / "2025").is_dir():
        kab = store.wilayah()
        codes = sorted(kab.kode[(kab.tingkat == "kabkota") & (kab.versi == "kepmendagri-2025")])
        pemda = ("all",) if args.regions == "all" else tuple(codes[: int(args.regions)])
        timed(f"generate sample ({args.regions} regions)", None, lambda: sample.generate(inbox, pemda=pemda))
    regions = sorted(p.name for p in (inbox / "2025").iterdir() if p.is_dir())
    rows = timed(f"floor: read every file raw ({len(regions)} regions)", None, lambda: read_floor(inbox))
    print(f"{rows:,} usulan records in {sum(1 for p in inbox.rglob('*') if p.is_file()):,} files", flush=True)
    from tasks.map.classify import train_cached

    timed(
        "fit the classifier once (cached for all runs)",
        None,
        lambda: train_cached(2025, regions[0], cache_dir=workdir / "models"),
    )
    for runner in args.runner or ["dask", "threads"]:
        url = fresh_database(args.server_url, f"rkpd_bench_{runner}")
        out = workdir / runner
        started = time.perf_counter()
        report, flow_run_id = run_flow(
            runner,
            inbox=inbox,
            lake_root=out / "lake",
            warehouse_url=url,
            models_dir=workdir / "models",
            extracts=args.extracts,
        )
        line(f"annual flow on {runner}, wall", rows, time.perf_counter() - started)
        print(f"{'':<46} peak RSS {peak_rss_mib():>8,.0f} MiB", flush=True)
        files = report.files
        print(
            f"  read {files.rows_read.sum():,} = loaded {files.rows_loaded.sum():,} + quarantined "
            f"{files.rows_quarantined.sum():,}; files failed {int((files.load_status == 'failed').sum())}; "
            f"balanced {report.balanced}",
            flush=True,
        )
        print_stages(task_runs(flow_run_id), rows)
    copy_floor(url, out / "lake", workdir)
    prefect_overhead(inbox, regions[0], workdir)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--regions", default="4", help="number of kab/kota to generate, or all (514)")
    parser.add_argument("--workdir", type=Path, default=Path("data/bench/pipeline"))
    parser.add_argument("--runner", action="append", choices=["threads", "dask"], help="default: dask, threads")
    parser.add_argument(
        "--server-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432",
        help="PostgreSQL server; each runner loads into a fresh database on it",
    )
    parser.add_argument(
        "--prefect-server",
        type=int,
        default=4242,
        metavar="PORT",
        help="start `prefect server start` on PORT for the runs unless PREFECT_API_URL is set; "
        "0: no server (the flow and each Dask worker start an ephemeral one)",
    )
    parser.add_argument(
        "--extracts",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also write every region's OPD extracts (default: off; see the closing note)",
    )
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.prefect_server:
        with prefect_api(args.prefect_server) as api:
            print(f"Prefect API: {api}", flush=True)
            run(args)
    else:
        run(args)
