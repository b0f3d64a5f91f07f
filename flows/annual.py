"""The annual run: extract every level's forum results of a tahun, validate, map, and publish."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from prefect import flow, task

from schemas import LEVELS, RUN
from tasks.batch import SliceBatch
from tasks.discover import discover
from tasks.discover import SourceSlice
from tasks.extract import display_path, extract_slice
from tasks.incremental import file_fingerprint, slice_signature, unchanged_since
from tasks.batch import SliceKey
from tasks.classify import train_cached
from tasks.mapping import MappingContext, map_usulan
from tasks.review import read_verified, verified_fingerprint
from tasks.publish import publish, publish_unchanged
from tasks.quality_report import write_quality_page
from tasks.rules import ValidationConfig
from tasks.validate import build_data_docs, check_contract, check_domain
from warehouse.db import create_engine
from warehouse.loaders import upsert_rows, utcnow
from warehouse.migrate import upgrade
from warehouse.reference_load import load_reference


@dataclass
class RunReport:
    run_id: str
    tahun: int
    files: pd.DataFrame  # one row per source file with its counts and status
    ignored: list[str]
    quality_page: Path | None = None

    def per_level(self) -> pd.DataFrame:
        """Rows per level and source; rows of a slice held back because one of its files failed are
        counted apart, so read = loaded + quarantined + held back."""
        order = {name: i for i, name in enumerate(LEVELS)}
        held = self.files.status.isin(["held_back", "stopped"])
        files = self.files.assign(rows_held_back=self.files.rows_read.where(held, 0))
        table = (files.groupby(["level", "source"], as_index=False)
                 [["rows_read", "rows_loaded", "rows_quarantined", "rows_held_back"]].sum())
        by_status = self.files.groupby(["level", "source"])["status"]
        table["files_failed"] = by_status.apply(lambda s: int((s == "failed").sum())).to_numpy()
        table["files_unchanged"] = by_status.apply(lambda s: int((s == "unchanged").sum())).to_numpy()
        return table.sort_values(["level", "source"], key=lambda s: s.map(order) if s.name == "level" else s)

    @property
    def failures(self) -> list[str]:
        stopped = self.files[self.files.status == "stopped"].drop_duplicates(["level", "source"])
        return [*self.files.loc[self.files.status == "failed", "message"],
                *(f"{r.level}/{r.source}: {r.message}" for r in stopped.itertuples())]

    @property
    def balanced(self) -> bool:
        """Every published file: read = loaded + quarantined."""
        f = self.files[self.files.status.isin(["loaded", "unchanged"])]
        return bool((f.rows_read == f.rows_loaded + f.rows_quarantined).all())


def _run_id(tahun: int) -> str:
    return f"{tahun}-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


@task(task_run_name="fingerprint-{source_slice.key.level}-{source_slice.key.source}-{source_slice.key.kode_pemda}")
def fingerprint(source_slice: SourceSlice, base: Path, extra: str) -> tuple[dict[str, str], str]:
    """sha256 of every file and the slice signature (files + pipeline code + reference data + extra)."""
    fingerprints = {display_path(p, base): file_fingerprint(p) for p in source_slice.files}
    return fingerprints, slice_signature(fingerprints, extra)


@task(task_run_name="prepare-mapping-{kode_pemda}")
def prepare_mapping(tahun: int, kode_pemda: str, warehouse_url: str, models_dir: Path) -> MappingContext:
    """Verified corrections of the pemda and the text classifier trained with them (cached on disk)."""
    verified = read_verified(create_engine(warehouse_url), kode_pemda)
    classifier = train_cached(tahun, kode_pemda, verified if len(verified) else None, cache_dir=models_dir)
    return MappingContext(tahun, kode_pemda, verified, classifier)


@task(task_run_name="extract-{source_slice.key.level}-{source_slice.key.source}-{source_slice.key.kode_pemda}")
def extract(source_slice: SourceSlice, run_id: str, base: Path, fingerprints: dict[str, str],
            signature: str, config: ValidationConfig) -> SliceBatch:
    return extract_slice(source_slice.key, source_slice.files, run_id, base, fingerprints, signature, config)


@task(task_run_name="check-contract-{batch.key.level}-{batch.key.source}-{batch.key.kode_pemda}")
def validate_contract(batch: SliceBatch, docs_dir: Path | None) -> SliceBatch:
    check_contract(batch, docs_dir)
    return batch


@task(task_run_name="map-{batch.key.level}-{batch.key.source}-{batch.key.kode_pemda}")
def map_to_opd(batch: SliceBatch, context: MappingContext) -> pd.DataFrame:
    return map_usulan(batch.clean(), context)


@task(task_run_name="check-domain-{batch.key.level}-{batch.key.source}-{batch.key.kode_pemda}")
def validate_domain(batch: SliceBatch, mapped: pd.DataFrame, warehouse_url: str) -> pd.DataFrame:
    return check_domain(batch, mapped, create_engine(warehouse_url))


@task(task_run_name="publish-{batch.key.level}-{batch.key.source}-{batch.key.kode_pemda}")
def publish_slice(batch: SliceBatch, mapped: pd.DataFrame, lake_root: Path, warehouse_url: str) -> pd.DataFrame:
    return publish(batch, mapped, lake_root, create_engine(warehouse_url))


@flow(name="musrenbang-annual", flow_run_name="annual-{tahun}")
def annual_run(tahun: int, inbox: Path, lake_root: Path, warehouse_url: str,
               pemda: list[str] | None = None, force: bool = False, max_error_share: float = 0.25,
               severity: dict[str, str] | None = None, quality_dir: Path | None = None,
               models_dir: Path | None = None) -> RunReport:
    """Run every level of a tahun, slice by slice, and record the run with its totals. A slice whose
    files, code and reference data are unchanged since its last load is skipped unless `force`. A
    slice whose share of rows breaking an error rule exceeds `max_error_share` is not published;
    `severity` overrides the default severity of rules (see tasks/rules.py). The quality page and the
    Great Expectations Data Docs go to `quality_dir` (default: next to the lake, `quality/`), trained
    text models to `models_dir` (default: $RKPD_MODELS_DIR, else next to the lake, `models/`)."""
    config = ValidationConfig(max_error_share, dict(severity or {}))
    inbox, lake_root = Path(inbox), Path(lake_root)
    quality_dir = Path(quality_dir) if quality_dir else lake_root.parent / "quality"
    models_dir = Path(models_dir or os.environ.get("RKPD_MODELS_DIR") or lake_root.parent / "models")
    run_id = _run_id(tahun)
    engine = create_engine(warehouse_url)
    upgrade(engine)
    found = discover(inbox, tahun, pemda)
    started = utcnow()
    upsert_rows(engine, RUN, pd.DataFrame([{"run_id": run_id, "tahun": tahun, "started_at": started,
                                            "status": "running", "parameters": json.dumps({
                                                "inbox": str(inbox), "pemda": pemda, "lake": str(lake_root)})}]))
    load_reference(engine, sorted({s.key.kode_pemda for s in found.slices}))
    logs, contexts = [], {}
    for source_slice in found.slices:
        pemda_of_slice = source_slice.key.kode_pemda
        if pemda_of_slice not in contexts:
            contexts[pemda_of_slice] = prepare_mapping(tahun, pemda_of_slice, warehouse_url, models_dir)
        context = contexts[pemda_of_slice]
        fingerprints, signature = fingerprint(source_slice, inbox, verified_fingerprint(context.verified))
        previous = None if force else unchanged_since(engine, source_slice.key, signature)
        if previous is not None:
            logs.append(publish_unchanged(previous, run_id, engine))
            continue
        batch = extract(source_slice, run_id, inbox, fingerprints, signature, config)
        batch = validate_contract(batch, quality_dir)
        mapped = map_to_opd(batch, context)
        rows = validate_domain(batch, mapped, warehouse_url)
        logs.append(publish_slice(batch, rows, lake_root, warehouse_url))
    files = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(
        columns=["level", "source", "source_file", "rows_read", "rows_loaded", "rows_quarantined", "status", "message"])
    report = RunReport(run_id, tahun, files, found.ignored)
    upsert_rows(engine, RUN, pd.DataFrame([{
        "run_id": run_id, "tahun": tahun, "started_at": started, "finished_at": utcnow(),
        "status": "success" if report.balanced and not report.failures else "failed",
        "rows_read": int(files.rows_read.sum()), "rows_loaded": int(files.rows_loaded.sum()),
        "rows_quarantined": int(files.rows_quarantined.sum()),  # held-back rows: see etl_load_log
        "parameters": json.dumps({"inbox": str(inbox), "pemda": pemda, "lake": str(lake_root), "force": force,
                              "max_error_share": max_error_share, "severity": severity})}]))
    report.quality_page = quality_report(engine, run_id, quality_dir)
    if not report.balanced:
        raise AssertionError("rows were lost: read != loaded + quarantined for some file")
    return report


@task(task_run_name="quality-report")
def quality_report(engine, run_id: str, quality_dir: Path) -> Path:
    build_data_docs(quality_dir)
    return write_quality_page(engine, run_id, quality_dir)
