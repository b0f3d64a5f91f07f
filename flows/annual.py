"""The annual run: every level's forum results of a tahun, for one region or all of them, extracted,
validated, mapped and published level by level (lower forums first: lineage reads them).

Each stage runs once per level over all the slices of that level, across regions, as one frame; a national
run is cut into a few partitions of regions (each published level after level), so that its memory stays
bounded. The slice stays the unit of publishing (replaced whole, counted per file). Files are read in worker
processes when a level is large (`threads`, the default: a local process pool; `dask`: the workers of a Dask
cluster, the same code). The run holds the warehouse for itself (a second run waits or refuses), records
itself in `etl_run`, and marks a run that was killed as failed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from contextvars import copy_context
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Failed
from prefect.transactions import transaction

from flows import progress, steps
from flows.hooks import HOOKS
from schemas import LEVELS, LOAD_LOG
from tasks.deliver.quality_page import publish_quality
from tasks.deliver.run_report import publish_artifacts, run_figures, write_run_report
from tasks.extract.discover import FILE_ID, MTIME, SIZE
from tasks.extract.preflight import missing_data
from tasks.extract.read import INLINE_BYTES, Reading, local_pool, start_reading
from tasks.load import plan as planning
from tasks.load.publish import Publication
from tasks.load.runs import begin, record_end, warehouse_lock
from tasks.map.context import MappingContext, prepare_context, read_corrections
from tasks.validate.gx import preload
from tasks.validate.history import accepted_before, lower_rows
from tasks.validate.rules import ValidationConfig
from warehouse.bulk import analyze, append, utcnow
from warehouse.db import scoped_engine

CORES = os.cpu_count() or 2  # default parallelism: one reading process (or Dask worker) per core
log = logging.getLogger(__name__)
# Input bytes of the regions a partition reads, checks, maps and publishes together: a partition of this size
# (about 0.4 M rows) peaks near 2 GB; a national run (2.7 M rows) is a handful of partitions, a run of up to
# about fifty regions one.
PARTITION_BYTES = 160 << 20
# A level publishing at least this many rows loads in a thread beside the flow while the next level is read,
# checked and mapped (a one-region level, a few thousand rows, loads in the flow: measured, the thread only
# slowed both down)
LOAD_BESIDE_ROWS = 20_000


@dataclass
class RunReport:
    run_id: str
    tahun: int
    files: pd.DataFrame  # one load-log row per source file: counts and load_status
    ignored: list[str]
    notes: list[str] = field(default_factory=list)  # what the run did besides loading (recovered, killed runs)
    quality_page: Path | None = None
    report_page: Path | None = None  # run_<run_id>.html
    extracts: list[dict] | None = None  # manifests of the per-OPD extracts
    contract_problems: list[str] = field(default_factory=list)  # what Great Expectations found in the warehouse

    def per_level(self) -> pd.DataFrame:
        """Rows per level and source; rows of files not published this run are counted as held back, so
        read = loaded + quarantined + failed + held back. Files are counted apart (failed, unchanged)."""
        order = {name: i for i, name in enumerate(LEVELS)}
        held = self.files.load_status.isin(["held_back", "stopped"])
        files = self.files.assign(
            rows_held_back=self.files.rows_read.where(held, 0),
            files=1,
            files_failed=(self.files.load_status == "failed").astype(int),
            files_unchanged=(self.files.load_status == "unchanged").astype(int),
        )
        counts = [
            "rows_read",
            "rows_loaded",
            "rows_quarantined",
            "rows_failed",
            "rows_held_back",
            "files",
            "files_failed",
            "files_unchanged",
        ]
        table = files.groupby(["level", "source"], as_index=False)[counts].sum()
        return table.sort_values(["level", "source"], key=lambda s: s.map(order) if s.name == "level" else s)

    @property
    def failures(self) -> list[str]:
        """One line per file that could not be read, per stopped slice and per contract breach."""
        failed = self.files[self.files.load_status == "failed"]
        stopped = self.files[self.files.load_status == "stopped"].drop_duplicates(["level", "source", "kode_pemda"])
        return [
            *failed.message.dropna(),
            *(f"{r.kode_pemda} {r.level}/{r.source}: {r.message}" for r in stopped.itertuples()),
            *self.contract_problems,
        ]

    @property
    def balanced(self) -> bool:
        """Every file: read = loaded + quarantined + failed (held back and stopped files: nothing loaded)."""
        f = self.files
        done = f.load_status.isin(["loaded", "unchanged", "failed"])
        ok = f.rows_read == f.rows_loaded + f.rows_quarantined + f.rows_failed
        return bool(ok[done].all())


@dataclass(frozen=True)
class RunSettings:
    """Where a run reads and writes, and how it validates."""

    run_id: str
    tahun: int
    inbox: Path
    lake_root: Path
    warehouse_url: str
    quality_dir: Path
    models_dir: Path
    config: ValidationConfig
    force: bool = False
    strict: bool = False
    allow_empty: bool = False


def next_tahun() -> int:
    """Forums held in year N plan the RKPD of N+1 (Asia/Jakarta calendar)."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).year + 1


def run_name(prefix: str) -> str:
    """'annual-2025-18.02', 'kecamatan-2025-all' from the flow run's parameters."""
    parameters = flow_run.parameters or {}
    pemda = parameters.get("pemda") or ["all"]
    region = pemda[0] if len(pemda) == 1 else f"{len(pemda)}-regions"
    return f"{prefix}-{parameters.get('tahun') or next_tahun()}-{region}"


@contextmanager
def reading_executor(
    runner: str, files: pd.DataFrame, dask_address: str | None = None, workers: int | None = None
) -> Iterator[tuple[Executor | None, int]]:
    """Where files are read: nowhere else for a small run; a local process pool (threads runner); or the
    workers of a Dask cluster (a local one, or the scheduler at `dask_address`), through the same
    concurrent.futures interface."""
    workers = workers or CORES
    if runner == "dask":
        from distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.WARNING)
        if dask_address:
            with Client(dask_address) as client:
                yield client.get_executor(), max(1, len(client.scheduler_info()["workers"]))
            return
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
            Client(cluster) as client,
        ):
            yield client.get_executor(), workers
        return
    if runner != "threads":
        raise ValueError(f"unknown task runner {runner!r}: use threads or dask")
    per_level = files.groupby("level")[SIZE].sum() if len(files) else pd.Series(dtype="int64")
    if workers < 2 or not (per_level >= INLINE_BYTES).any():
        yield None, 1
        return
    with local_pool(workers) as pool:
        yield pool, workers


@task(task_run_name="start-{settings.run_id}", cache_policy=NO_CACHE)
def start(settings: RunSettings, parameters: dict, pemda: list[str]) -> list[str]:
    return begin(settings.warehouse_url, settings.lake_root, settings.run_id, settings.tahun, parameters, pemda)


@task(task_run_name="plan-{settings.tahun}", cache_policy=NO_CACHE)
def plan(files: pd.DataFrame, settings: RunSettings, corrections: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    with scoped_engine(settings.warehouse_url) as engine:
        return planning.plan_files(files, engine, settings.lake_root, settings.tahun, corrections, settings.force)


@task(task_run_name="prepare-mapping-{settings.tahun}", cache_policy=NO_CACHE)
def prepare_mapping(settings: RunSettings, pemda: list[str], corrections: pd.DataFrame) -> MappingContext:
    return prepare_context(settings.tahun, pemda, corrections, settings.models_dir)


def partitions(files: pd.DataFrame, budget: int) -> list[list[str]]:
    """The regions of `files`, in order, cut into as few runs of consecutive regions as keep each under about
    `budget` bytes of input, of about equal size (one partition when the files fit: a region, a province)."""
    sizes = files.groupby("kode_pemda")[SIZE].sum().sort_index()
    count = max(1, -(-int(sizes.sum()) // budget))
    middle = (sizes.cumsum() - sizes / 2) * count / max(int(sizes.sum()), 1)  # where each region's bytes sit
    part = np.minimum(middle.to_numpy().astype(np.int64), count - 1)
    return [list(group.index) for _, group in sizes.groupby(part)]


def run_levels(
    settings: RunSettings,
    files: pd.DataFrame,
    history: pd.DataFrame,
    context: MappingContext,
    runner: str,
    dask_address: str | None,
    logs: list[pd.DataFrame],
    notes: list[str],
) -> None:
    """Every level, lower forums first, of each partition of the regions in turn (a partition's levels only
    need its own lower levels): extract, check, map, check the domain rules, publish; each level's load-log
    rows are added to `logs` as it is published, and what reading found worth a warning (API pages missing)
    to `notes`. Partitions keep a national run's memory bounded; a run of a few dozen regions is one. The
    next level's files are read on the workers while this process checks, maps and publishes the level
    before it (reading needs nothing of a lower level)."""
    to_read = files[~files.unchanged].drop(columns="unchanged")
    good = planning.good_loads(history)
    mtime = files.set_index(FILE_ID)[MTIME]
    regions = partitions(to_read, PARTITION_BYTES)
    order = [
        (number, pemda, level, part[part.level == level])
        for number, pemda in enumerate(regions, start=1)
        for part in [to_read[to_read.kode_pemda.isin(pemda)]]
        for level in LEVELS
        if (part.level == level).any()
    ]
    loads = ThreadPoolExecutor(1, thread_name_prefix="load")  # one level's load at a time, in order
    loading: Future | None = None

    def settle() -> None:
        """Wait for the level being loaded (its failure is the run's); its load-log rows count from then."""
        nonlocal loading
        if loading is not None:
            done, loading = loading, None
            logs.append(done.result())

    with reading_executor(runner, to_read, dask_address) as (executor, workers):
        reading = start_reading(order[0][3], executor, workers) if order else None
        below, earlier = None, None
        try:
            for at, (number, pemda, level, level_files) in enumerate(order):
                current = reading
                reading = start_reading(order[at + 1][3], executor, workers) if at + 1 < len(order) else None
                if at == 0 or order[at - 1][0] != number:  # a partition's first level
                    settle()  # the lake is read while no load swaps slices in
                    earlier = accepted_before(settings.lake_root, settings.tahun, pemda)
                    below = None
                elif LEVELS.index(level) != LEVELS.index(order[at - 1][2]) + 1:  # the level below has no files
                    below = None
                label = "" if len(regions) == 1 else f" ({number}/{len(regions)})"
                previous = good[good.source_file.isin(set(level_files.source_file))]
                below = run_level(
                    settings, level, level + label, current, previous, context, below, earlier, mtime, notes, settle
                )
                if len(below.usulan) >= LOAD_BESIDE_ROWS:
                    loading = loads.submit(copy_context().run, publish_level, settings, level + label, below)
                else:  # a small level loads in a moment: a thread would only contend with the flow for the GIL
                    logs.append(publish_level(settings, level + label, below))
            settle()
        finally:
            if reading is not None:
                reading.cancel()
            loads.shutdown(wait=True)  # a run never ends while a level is still loading
            if loading is not None:  # the run stops on another failure: the level in flight ended as well
                if loading.exception() is None:
                    logs.append(loading.result())  # loaded, though the run stops
                else:
                    log.error("the load of a level failed as the run stopped: %s", loading.exception())


def run_level(
    settings: RunSettings,
    level: str,
    label: str,
    reading: Reading,
    previous: pd.DataFrame,
    context: MappingContext,
    below: Publication | None,
    earlier: pd.DataFrame,
    mtime: pd.Series,
    notes: list[str],
    settle: Callable[[], None],
) -> Publication:
    """One level of a partition, ready to publish (`publish_level`); its frames are let go as soon as the next
    stage no longer needs them (only the publication is kept: the level above reads its rows for lineage).
    `settle` waits for the load of the level before, which goes on while this one is read, checked and
    mapped."""
    files = reading.files
    pemda = sorted(set(files.kode_pemda))
    with progress.timed(label, "extract") as step:
        extraction = steps.extract_task(reading)(level, reading)
        step.rows = len(extraction.rows)
    for note in extraction.notes:
        log.warning(note)
        notes.append(note)
    with progress.timed(label, "check contract", len(extraction.rows)):
        checked = steps.check_contract(level, extraction, settings.config)
    with progress.timed(label, "map to OPD and bidang") as step:
        mapped = steps.map_to_opd(level, checked.clean(), context)
        step.rows = len(mapped)
    settle()  # the level below is in the lake before its rows are read back (lineage)
    with progress.timed(label, "check domain rules", len(mapped)):
        lower = lower_rows(settings.lake_root, settings.tahun, level, pemda, below)
        ruled = steps.check_domain(level, checked, mapped, context, lower, earlier, mtime)
    del checked, mapped, lower  # ruled holds what publishing needs
    with progress.timed(label, "prepare load"):
        publication = steps.prepare_load(
            level,
            ruled,
            extraction,
            files,
            previous,
            settings.lake_root,
            settings.run_id,
            settings.strict,
            settings.allow_empty,
        )
    return publication


def publish_level(settings: RunSettings, label: str, publication: Publication) -> pd.DataFrame:
    """Write a level's slices to the lake and the warehouse in one transaction (in the thread beside the flow,
    while the flow works on the next level); its load-log rows."""
    level = publication.level
    with progress.timed(label, "load lake and warehouse", len(publication.usulan)), transaction():
        steps.lake_write(level, publication, settings.lake_root)
        steps.warehouse_load(level, publication, settings.warehouse_url)
    return publication.log


@cache
def quality_process() -> ProcessPoolExecutor:
    """The process beside the flow where Great Expectations runs: started on a run's first need and kept for
    the flow process's life, it imports Great Expectations while the levels load, then validates the warehouse
    and renders the Data Docs while the flow writes the OPD extracts (each on its own core)."""
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    pool.submit(preload)
    return pool


@task(task_run_name="quality-report", cache_policy=NO_CACHE)
def quality_report(warehouse_url: str, run_id: str, quality_dir: Path) -> tuple[Path, list[str]]:
    """Great Expectations on the rows the run loaded, Data Docs and the quality page (publish_quality), in the
    process beside the flow; in the flow's own process if that one died."""
    try:
        return quality_process().submit(publish_quality, warehouse_url, run_id, quality_dir).result()
    except BrokenProcessPool:
        quality_process.cache_clear()
        log.warning("the quality process stopped; Great Expectations runs in the flow's process")
        return publish_quality(warehouse_url, run_id, quality_dir)


@task(task_run_name="report-figures-{tahun}", cache_policy=NO_CACHE)
def report_figures(warehouse_url: str, tahun: int, pemda: list[str], lake_root: Path) -> dict:
    """The rekap, funnel, pagu and mapping figures of the run's regions, for its report (run_figures; the
    funnel is followed in the lake the run published to)."""
    with scoped_engine(warehouse_url) as engine:
        return run_figures(engine, tahun, pemda, lake_root)


@task(task_run_name="run-report", cache_policy=NO_CACHE)
def run_report(warehouse_url: str, run_id: str, out_dir: Path, report: RunReport, figures: dict) -> Path:
    """The run's static HTML report, and its table and markdown artifacts on this flow run."""
    with scoped_engine(warehouse_url) as engine:
        path = write_run_report(engine, run_id, out_dir, report=report, figures=figures)
    publish_artifacts(path, report.per_level(), run_id)
    return path


@task(task_run_name="opd-extracts-{tahun}", cache_policy=NO_CACHE)
def opd_extracts(warehouse_url: str, tahun: int, pemda: list[str], out_dir: Path, run_id: str) -> list[dict]:
    """Per-OPD xlsx/csv/parquet extracts of every region of the run (tasks/deliver/opd_extracts.py)."""
    from tasks.deliver.opd_extracts import write_opd_extracts

    with scoped_engine(warehouse_url) as engine:
        return [m for kode in pemda for m in write_opd_extracts(engine, tahun, kode, out_dir, run_id=run_id)]


def execute(
    tahun: int | None,
    inbox: Path,
    lake_root: Path,
    warehouse_url: str,
    pemda: list[str] | None,
    levels: list[str] | None,
    *,
    force: bool = False,
    max_error_share: float = 0.25,
    severity: dict | None = None,
    quality_dir: Path | None = None,
    models_dir: Path | None = None,
    extracts: bool = True,
    strict: bool = False,
    allow_empty: bool = False,
    runner: str = "threads",
    dask_address: str | None = None,
    wait: float = 0,
) -> RunReport:
    """The body shared by the annual, per-level and backfill flows."""
    tahun = tahun or next_tahun()
    inbox, lake_root = Path(inbox), Path(lake_root)
    settings = RunSettings(
        run_id=f"{tahun}-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
        tahun=tahun,
        inbox=inbox,
        lake_root=lake_root,
        warehouse_url=warehouse_url,
        quality_dir=Path(quality_dir) if quality_dir else lake_root.parent / "quality",
        models_dir=Path(models_dir or os.environ.get("RKPD_MODELS_DIR") or lake_root.parent / "models"),
        config=ValidationConfig(max_error_share, dict(severity or {})),
        force=force,
        strict=strict,
        allow_empty=allow_empty,
    )
    parameters = {
        "inbox": str(inbox),
        "pemda": pemda,
        "levels": levels,
        "lake": str(lake_root),
        "force": force,
        "max_error_share": max_error_share,
        "severity": severity,
        "strict": strict,
        "allow_empty": allow_empty,
        "flow_run_id": str(flow_run.id) if flow_run.id else None,
    }
    found = steps.discover_inbox(inbox, tahun, pemda, levels)
    regions = sorted(set(found.files.kode_pemda))
    progress.report(f"{len(found.files):,} files of {len(regions)} region(s) found for tahun {tahun}")
    with warehouse_lock(warehouse_url, wait):
        notes = start(settings, parameters, regions)
        started = utcnow()
        logs: list[pd.DataFrame] = []  # load-log rows of what the run has done so far
        try:
            with scoped_engine(warehouse_url) as engine:
                corrections = read_corrections(engine, regions)
            with progress.timed("run", "fingerprint files and find unchanged slices", len(found.files)):
                files, history = plan(found.files, settings, corrections)
            unchanged = planning.unchanged_log(files[files.unchanged], history, settings.run_id)
            if len(unchanged):
                with scoped_engine(warehouse_url) as engine, engine.begin() as connection:
                    append(connection, LOAD_LOG, unchanged)
                logs.append(unchanged)
            quality_process()  # Great Expectations is imported there while the levels run
            to_map = sorted(set(files.kode_pemda[~files.unchanged]))
            with progress.timed("run", f"prepare mapping of {len(to_map)} region(s)"):
                context = prepare_mapping(settings, to_map, corrections)
            run_levels(settings, files, history, context, runner, dask_address, logs, notes)
            log_rows = pd.concat(logs, ignore_index=True) if logs else LOAD_LOG.empty_frame()
            report = RunReport(settings.run_id, tahun, log_rows, list(found.ignored), notes)
            with scoped_engine(warehouse_url) as engine:
                analyze(engine)  # statistics of the new rows, for the quality record's and the extracts' queries
            # Great Expectations in its process; meanwhile, on the other core, the OPD extracts and the report's
            # figures (the time shown for the quality step is what is left to wait for then)
            quality = quality_report.submit(warehouse_url, settings.run_id, settings.quality_dir)
            try:
                if extracts and report.balanced:
                    with progress.timed("run", "OPD extracts"):
                        report.extracts = opd_extracts(
                            warehouse_url, tahun, regions, lake_root.parent / "extracts", settings.run_id
                        )
                with progress.timed("run", "report figures"):
                    figures = report_figures(warehouse_url, tahun, regions, lake_root)
            finally:
                with progress.timed("run", "quality page, Great Expectations and Data Docs"):
                    quality.wait()
            report.quality_page, report.contract_problems = quality.result()
        except BaseException:
            with scoped_engine(warehouse_url) as engine:
                done = pd.concat(logs, ignore_index=True) if logs else None
                record_end(engine, settings.run_id, tahun, started, parameters, "failed", done)
            raise
        with scoped_engine(warehouse_url) as engine:
            status = "success" if report.balanced and not report.failures else "failed"
            record_end(engine, settings.run_id, tahun, started, parameters, status, report.files)
    with progress.timed("run", "run report"):
        report.report_page = run_report(warehouse_url, settings.run_id, lake_root.parent / "reports", report, figures)
    if not report.balanced:
        raise AssertionError("rows were lost: read != loaded + quarantined + failed for some file")
    return report


@flow(
    name="musrenbang-annual",
    flow_run_name=lambda: run_name("annual"),
    **HOOKS,
)
def annual_run(
    tahun: int | None = None,
    inbox: Path = Path("data/inbox"),
    lake_root: Path = Path("data/lake"),
    warehouse_url: str = "sqlite:///data/warehouse.sqlite",
    pemda: list[str] | None = None,
    levels: list[str] | None = None,
    force: bool = False,
    max_error_share: float = 0.25,
    severity: dict[str, str] | None = None,
    quality_dir: Path | None = None,
    models_dir: Path | None = None,
    extracts: bool = True,
    strict: bool = False,
    allow_empty: bool = False,
    runner: str = "threads",
    dask_address: str | None = None,
    wait: float = 0,
) -> RunReport:
    """Run every level (or `levels`) of a tahun (default: next year's RKPD) for the regions found in the
    inbox (or `pemda`). An unchanged slice is skipped unless `force`; a slice whose share of rows breaking
    an error rule exceeds `max_error_share` is not published; `severity` overrides rule severities
    (tasks/validate/rules.py). A file that cannot be read keeps its last good load while the other files of
    its slice publish, unless `strict`; a file that now holds only its header keeps its last load unless
    `allow_empty`. Files are read in worker processes on `runner` threads (a local pool) or dask (a local
    cluster, or `dask_address`). A run busy on the warehouse makes this one wait up to `wait` seconds, then
    refuse. Quality page and Data Docs go to `quality_dir` (default `<lake>/../quality`), trained text models
    to `models_dir` ($RKPD_MODELS_DIR or `<lake>/../models`); with `extracts`, every OPD gets its files under
    `<lake>/../extracts`. Ends Failed with one line when the inbox holds no data for the run."""
    if problem := missing_data(inbox, tahun or next_tahun(), levels, pemda):
        return Failed(message=problem)
    return execute(
        tahun,
        inbox,
        lake_root,
        warehouse_url,
        pemda,
        levels,
        force=force,
        max_error_share=max_error_share,
        severity=severity,
        quality_dir=quality_dir,
        models_dir=models_dir,
        extracts=extracts,
        strict=strict,
        allow_empty=allow_empty,
        runner=runner,
        dask_address=dask_address,
        wait=wait,
    )
