"""The annual run: extract every level's forum results of a tahun, validate, map, and publish.

Regions (kab/kota) are independent: they are grouped into partitions of consecutive regions (`partitions`);
one partition runs inline, several run as parallel tasks on the flow's task runner (threads by default,
Dask for many regions, see `with_task_runner`). A partition's slices share one contract validation; then
within a region the slices run in funnel order, each one written in a Prefect transaction: when the
warehouse load fails, the lake write is rolled back.
"""

from __future__ import annotations

import json
import logging
import math
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.settings import get_current_settings
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.transactions import transaction

from flows import steps
from flows.hooks import alert_on_failure, announce
from schemas import LEVELS, RUN
from tasks.extract.discover import SourceSlice, discover
from tasks.extract.preflight import missing_data
from tasks.map.mapping import MappingContext
from tasks.map.review import verified_fingerprint
from tasks.validate.gx import partition_docs_dir
from tasks.validate.rules import ValidationConfig
from warehouse.bulk import analyze, upsert_rows, utcnow
from warehouse.db import scoped_engine
from warehouse.migrate import upgrade
from warehouse.reference import load_reference

LOG_COLUMNS = [
    "level",
    "source",
    "source_file",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "load_status",
    "message",
]
CORES = os.cpu_count() or 2  # default parallelism: one thread (or Dask worker process) per core


@dataclass
class RunReport:
    run_id: str
    tahun: int
    files: pd.DataFrame  # one row per source file with its counts and status
    ignored: list[str]
    quality_page: Path | None = None
    report_page: Path | None = None  # run_<run_id>.html
    extracts: list[dict] | None = None  # manifests of the per-OPD extracts

    def per_level(self) -> pd.DataFrame:
        """Rows per level and source; rows of a slice held back because one of its files failed are
        counted apart, so read = loaded + quarantined + held back."""
        order = {name: i for i, name in enumerate(LEVELS)}
        held = self.files.load_status.isin(["held_back", "stopped"])
        files = self.files.assign(rows_held_back=self.files.rows_read.where(held, 0))
        table = files.groupby(["level", "source"], as_index=False)[
            ["rows_read", "rows_loaded", "rows_quarantined", "rows_held_back"]
        ].sum()
        by_status = self.files.groupby(["level", "source"])["load_status"]
        table["files_failed"] = by_status.apply(lambda s: int((s == "failed").sum())).to_numpy()
        table["files_unchanged"] = by_status.apply(lambda s: int((s == "unchanged").sum())).to_numpy()
        return table.sort_values(["level", "source"], key=lambda s: s.map(order) if s.name == "level" else s)

    @property
    def failures(self) -> list[str]:
        stopped = self.files[self.files.load_status == "stopped"].drop_duplicates(["level", "source"])
        return [
            *self.files.loc[self.files.load_status == "failed", "message"],
            *(f"{r.level}/{r.source}: {r.message}" for r in stopped.itertuples()),
        ]

    @property
    def balanced(self) -> bool:
        """Every published file: read = loaded + quarantined."""
        f = self.files[self.files.load_status.isin(["loaded", "unchanged"])]
        return bool((f.rows_read == f.rows_loaded + f.rows_quarantined).all())


@dataclass(frozen=True)
class RunSettings:
    """Where a run reads and writes, and how it validates (passed to every region partition)."""

    run_id: str
    tahun: int
    inbox: Path
    lake_root: Path
    warehouse_url: str
    quality_dir: Path
    models_dir: Path
    config: ValidationConfig
    force: bool = False


def next_tahun() -> int:
    """Forums held in year N plan the RKPD of N+1 (Asia/Jakarta calendar)."""
    return datetime.now(ZoneInfo("Asia/Jakarta")).year + 1


def run_name(prefix: str) -> str:
    """'annual-2025-18.02', 'kecamatan-2025-all' from the flow run's parameters."""
    parameters = flow_run.parameters or {}
    pemda = parameters.get("pemda") or ["all"]
    region = pemda[0] if len(pemda) == 1 else f"{len(pemda)}-regions"
    return f"{prefix}-{parameters.get('tahun') or next_tahun()}-{region}"


def partitions(slices: list[SourceSlice], size: int | None = None) -> list[list[SourceSlice]]:
    """The slices grouped by `size` consecutive regions (default: enough to make about 8 partitions, at most
    16 regions each), each region's slices in funnel order. A partition is the unit of
    parallel work; its slices share one contract validation, whose cost is mostly fixed."""
    by_region: dict[str, list[SourceSlice]] = {}
    for source_slice in slices:
        by_region.setdefault(source_slice.key.kode_pemda, []).append(source_slice)
    regions = sorted(by_region)
    size = size or max(1, min(16, math.ceil(len(regions) / 8)))
    return [[s for kode in regions[i : i + size] for s in by_region[kode]] for i in range(0, len(regions), size)]


def partition_label(slices: list[SourceSlice]) -> str:
    """'18.02', or '11.01-11.18' for a partition of several regions."""
    regions = sorted({s.key.kode_pemda for s in slices})
    return regions[0] if len(regions) == 1 else f"{regions[0]}-{regions[-1]}"


def run_partition(slices: list[SourceSlice], settings: RunSettings) -> list[pd.DataFrame]:
    """The slices of some regions: skip the unchanged, extract the rest and check their contract in one
    validation, then map, check and publish slice by slice in funnel order (lineage reads the levels below)."""
    contexts: dict[str, MappingContext] = {}
    verified: dict[str, str] = {}  # fingerprint of each region's verified corrections, part of its signatures
    logs, batches = [], []
    for source_slice in slices:
        kode = source_slice.key.kode_pemda
        if kode not in contexts:
            contexts[kode] = steps.prepare_mapping(settings.tahun, kode, settings.warehouse_url, settings.models_dir)
            verified[kode] = verified_fingerprint(contexts[kode].verified)
        fingerprints, signature = steps.fingerprint(source_slice, settings.inbox, verified[kode])
        unchanged = (
            None
            if settings.force
            else steps.skip_if_unchanged(source_slice, signature, settings.run_id, settings.warehouse_url)
        )
        if unchanged is not None:
            logs.append(unchanged)
            continue
        batches.append(
            steps.extract_for_run(
                source_slice, settings.inbox, fingerprints, signature, settings.run_id, settings.config
            )
        )
    if batches:
        batches = steps.validate_contract(batches, partition_docs_dir(settings.quality_dir, partition_label(slices)))
    for batch in batches:
        mapped = steps.map_to_opd(batch, contexts[batch.key.kode_pemda])
        publication = steps.validate_domain(batch, mapped, settings.warehouse_url)
        with transaction():
            steps.lake_write(publication, settings.lake_root)
            logs.append(steps.warehouse_load(publication, settings.warehouse_url))
    return logs


@task(task_run_name="regions-{label}", cache_policy=NO_CACHE)
def run_partition_task(label: str, slices: list[SourceSlice], settings: RunSettings) -> list[pd.DataFrame]:
    """One partition of a many-region run (threads or Dask workers run them in parallel)."""
    return run_partition(slices, settings)


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
    partition_size: int | None = None,
    extracts: bool = True,
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
    )
    found = discover(inbox, tahun, pemda, levels)
    parameters = json.dumps(
        {
            "inbox": str(inbox),
            "pemda": pemda,
            "levels": levels,
            "lake": str(lake_root),
            "force": force,
            "max_error_share": max_error_share,
            "severity": severity,
        }
    )
    started = utcnow()
    regions = sorted({s.key.kode_pemda for s in found.slices})
    with scoped_engine(warehouse_url) as engine:
        upgrade(engine)
        upsert_rows(
            engine,
            RUN,
            pd.DataFrame(
                [
                    {
                        "run_id": settings.run_id,
                        "tahun": tahun,
                        "started_at": started,
                        "run_status": "running",
                        "parameters": parameters,
                    }
                ]
            ),
        )
        load_reference(engine, regions)
    parts = partitions(found.slices, partition_size)
    if len(parts) <= 1:
        logs = [log for part in parts for log in run_partition(part, settings)]
    else:
        futures = [run_partition_task.submit(partition_label(part), part, settings) for part in parts]
        logs = [log for future in futures for log in future.result()]
    files = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=LOG_COLUMNS)
    report = RunReport(settings.run_id, tahun, files, found.ignored)
    with scoped_engine(warehouse_url) as engine:
        upsert_rows(
            engine,
            RUN,
            pd.DataFrame(
                [
                    {
                        "run_id": settings.run_id,
                        "tahun": tahun,
                        "started_at": started,
                        "finished_at": utcnow(),
                        "run_status": "success" if report.balanced and not report.failures else "failed",
                        "rows_read": int(files.rows_read.sum()),
                        "rows_loaded": int(files.rows_loaded.sum()),
                        "rows_quarantined": int(files.rows_quarantined.sum()),
                        "rows_failed": 0,
                        "parameters": parameters,
                    }
                ]
            ),
        )
        analyze(engine)
    report.quality_page = steps.quality_report(warehouse_url, settings.run_id, settings.quality_dir)
    report.report_page = steps.run_report(warehouse_url, settings.run_id, lake_root.parent / "reports", report)
    if not report.balanced:
        raise AssertionError("rows were lost: read != loaded + quarantined for some file")
    if extracts:
        futures = [
            steps.opd_extracts.submit(warehouse_url, tahun, kode, lake_root.parent / "extracts", settings.run_id)
            for kode in regions
        ]
        report.extracts = [manifest for future in futures for manifest in future.result()]
    return report


def partition_threads() -> ThreadPoolTaskRunner:
    """Partitions (and OPD extracts) on `PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS` threads, by default
    one per core. Prefect's own default has no bound: on all 514 regions the 34 partitions then extracted
    at once, held 6.7 GB and shared one GIL, and had loaded 9,298 rows after 12 minutes."""
    limit = get_current_settings().tasks.runner.thread_pool_max_workers
    return ThreadPoolTaskRunner(max_workers=limit or CORES)


@flow(
    name="musrenbang-annual",
    flow_run_name=lambda: run_name("annual"),
    on_running=[announce],
    on_completion=[announce],
    on_failure=[alert_on_failure, announce],
    on_crashed=[announce],
    on_cancellation=[announce],
    task_runner=partition_threads(),
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
    partition_size: int | None = None,
    extracts: bool = True,
) -> RunReport:
    """Run every level (or `levels`) of a tahun (default: next year's RKPD) for the regions found in the
    inbox (or `pemda`), slice by slice. An unchanged slice is skipped unless `force`; a slice whose
    share of rows breaking an error rule exceeds `max_error_share` is not published; `severity`
    overrides rule severities (tasks/rules.py). Quality page and Data Docs go to `quality_dir`
    (default `<lake>/../quality`), trained text models to `models_dir` ($RKPD_MODELS_DIR or
    `<lake>/../models`). Regions run in partitions of `partition_size` (see `partitions`). With `extracts`,
    every OPD gets its files under `<lake>/../extracts`."""
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
        partition_size=partition_size,
        extracts=extracts,
    )


def with_task_runner(runner: str = "threads", dask_address: str | None = None, workers: int | None = None):
    """The annual flow with its region partitions on threads (default) or Dask (a local cluster, or the
    scheduler at `dask_address`)."""
    if runner == "threads":
        return annual_run
    if runner != "dask":
        raise ValueError(f"unknown task runner {runner!r}: use threads or dask")
    from prefect.settings import PREFECT_API_URL
    from prefect_dask import DaskTaskRunner

    if not PREFECT_API_URL.value():
        logging.getLogger(__name__).warning(
            "no PREFECT_API_URL: every Dask worker starts its own ephemeral Prefect server on the shared "
            "SQLite database; for many regions start `prefect server start` and export PREFECT_API_URL"
        )
    # Dask logs its scheduler and nanny chatter at INFO, including a CommClosedError traceback when a
    # local cluster shuts down after a good run; the run's own log is what the engineer needs to read.
    logging.getLogger("distributed").setLevel(logging.WARNING)
    if dask_address:
        return annual_run.with_options(task_runner=DaskTaskRunner(address=dask_address))
    cluster = {"n_workers": workers or CORES, "threads_per_worker": 1, "processes": True}
    return annual_run.with_options(task_runner=DaskTaskRunner(cluster_kwargs=cluster))
