"""The pipeline's steps as Prefect tasks: names that say slice and region, retries on sources, the
extract cached by slice signature, and the lake write undone when the warehouse load fails.

Every other step is NO_CACHE: Prefect's default policy hashes a task's inputs (whole frames and the
classifier, pickled) on every call, which took a sixth of a Dask worker's time at national scale."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from prefect.transactions import get_transaction

from tasks.batch import SliceBatch
from tasks.deliver.data_docs import make_offline
from tasks.deliver.quality_page import write_quality_page
from tasks.extract import display_path, extract_slice
from tasks.extract.api import ApiSource, pull_into_inbox
from tasks.extract.discover import SourceSlice
from tasks.extract.fingerprint import file_fingerprint, slice_signature, unchanged_since
from tasks.load.publish import Publication, load_warehouse, prepare, publish_unchanged, write_lake
from tasks.map.classify import train_cached
from tasks.map.mapping import MappingContext, map_usulan
from tasks.map.review import read_verified
from tasks.validate.gx import build_data_docs, check_contract, check_domain, data_docs_sites
from tasks.validate.rules import ValidationConfig
from warehouse.db import scoped_engine

SLICE = "{source_slice.key.level}-{source_slice.key.source}-{source_slice.key.kode_pemda}"
BATCH = "{batch.key.level}-{batch.key.source}-{batch.key.kode_pemda}"
PUBLICATION = "{publication.key[level]}-{publication.key[source]}-{publication.key[kode_pemda]}"


@task(
    task_run_name="pull-{folder}-{kode_pemda}",
    retries=3,
    retry_delay_seconds=exponential_backoff(10),
    retry_jitter_factor=0.5,
)
def pull_api(source: ApiSource, inbox: Path, kode_pemda: str, folder: str):
    """Pull an API source into the inbox (the client retries pages; this retries the whole pull)."""
    return pull_into_inbox(source, inbox, kode_pemda, folder)


@task(task_run_name="fingerprint-" + SLICE, cache_policy=NO_CACHE)
def fingerprint(source_slice: SourceSlice, base: Path, extra: str) -> tuple[dict[str, str], str]:
    """sha256 of every file and the slice signature (files + pipeline code + reference data + extra)."""
    fingerprints = {display_path(p, base): file_fingerprint(p) for p in source_slice.files}
    return fingerprints, slice_signature(fingerprints, extra)


@task(task_run_name="unchanged-" + SLICE, cache_policy=NO_CACHE)
def skip_if_unchanged(source_slice: SourceSlice, signature: str, run_id: str, warehouse_url: str):
    """The slice's load-log rows, repeated as 'unchanged', when its signature matches the last load."""
    with scoped_engine(warehouse_url) as engine:
        previous = unchanged_since(engine, source_slice.key, signature)
        return None if previous is None else publish_unchanged(previous, run_id, engine)


@task(task_run_name="prepare-mapping-{kode_pemda}", cache_policy=NO_CACHE)
def prepare_mapping(tahun: int, kode_pemda: str, warehouse_url: str, models_dir: Path) -> MappingContext:
    """Verified corrections of the pemda and the text classifier trained with them (cached on disk)."""
    with scoped_engine(warehouse_url) as engine:
        verified = read_verified(engine, kode_pemda)
    classifier = train_cached(tahun, kode_pemda, verified if len(verified) else None, cache_dir=models_dir)
    return MappingContext(tahun, kode_pemda, verified, classifier)


def _signature_key(context, parameters) -> str:
    return f"extract-{parameters['signature']}"


@task(
    task_run_name="extract-" + SLICE,
    cache_key_fn=_signature_key,
    cache_expiration=timedelta(days=7),
    persist_result=True,
)
def extract(source_slice: SourceSlice, base: Path, fingerprints: dict[str, str], signature: str) -> SliceBatch:
    """Read and stage the slice; cached by its signature, so a forced re-run does not read it again."""
    return extract_slice(source_slice.key, source_slice.files, "cached", base, fingerprints, signature)


@task(task_run_name="check-contract-{docs_dir.name}", cache_policy=NO_CACHE)
def validate_contract(batches: list[SliceBatch], docs_dir: Path) -> list[SliceBatch]:
    """The contract of every slice of a partition, in one Great Expectations validation."""
    keys = sorted({b.key.kode_pemda for b in batches})
    check_contract(batches, docs_dir, run_name=f"{batches[0].run_id} {', '.join(keys)}")
    return batches


@task(task_run_name="map-" + BATCH, cache_policy=NO_CACHE)
def map_to_opd(batch: SliceBatch, context: MappingContext) -> pd.DataFrame:
    return map_usulan(batch.clean(), context)


@task(task_run_name="check-domain-" + BATCH, cache_policy=NO_CACHE)
def validate_domain(batch: SliceBatch, mapped: pd.DataFrame, warehouse_url: str) -> Publication:
    with scoped_engine(warehouse_url) as engine:
        return prepare(batch, check_domain(batch, mapped, engine))


@task(task_run_name="write-lake-" + PUBLICATION, cache_policy=NO_CACHE)
def lake_write(publication: Publication, lake_root: Path) -> int:
    swaps = write_lake(publication, lake_root)
    get_transaction().set("lake_swaps", swaps)
    return len(swaps)


@lake_write.on_rollback
def _restore_lake(transaction) -> None:
    for swap in transaction.get("lake_swaps", []):
        swap.undo()


@lake_write.on_commit
def _drop_previous_lake(transaction) -> None:
    for swap in transaction.get("lake_swaps", []):
        swap.commit()


@task(task_run_name="load-warehouse-" + PUBLICATION, cache_policy=NO_CACHE)
def warehouse_load(publication: Publication, warehouse_url: str) -> pd.DataFrame:
    with scoped_engine(warehouse_url) as engine:
        return load_warehouse(publication, engine)


@task(task_run_name="quality-report", cache_policy=NO_CACHE)
def quality_report(warehouse_url: str, run_id: str, quality_dir: Path) -> Path:
    build_data_docs(quality_dir)
    for _, site in data_docs_sites(quality_dir):  # escaped values, libraries shipped: readable offline
        make_offline(site)
    with scoped_engine(warehouse_url) as engine:
        return write_quality_page(engine, run_id, quality_dir)


def extract_for_run(
    source_slice: SourceSlice,
    base: Path,
    fingerprints: dict[str, str],
    signature: str,
    run_id: str,
    config: ValidationConfig,
) -> SliceBatch:
    """The (possibly cached) extraction, bound to this run and its validation settings."""
    return extract(source_slice, base, fingerprints, signature).rebind(run_id, config)


@task(task_run_name="extracts-{kode_pemda}", cache_policy=NO_CACHE)
def opd_extracts(warehouse_url: str, tahun: int, kode_pemda: str, out_dir: Path, run_id: str) -> list[dict]:
    """Per-OPD xlsx/csv/parquet extracts of one region (tasks/extracts.py)."""
    from tasks.deliver.opd_extracts import write_opd_extracts

    with scoped_engine(warehouse_url) as engine:
        return write_opd_extracts(engine, tahun, kode_pemda, out_dir, run_id=run_id)


@task(task_run_name="run-report", cache_policy=NO_CACHE)
def run_report(warehouse_url: str, run_id: str, out_dir: Path, report) -> Path:
    """The run's static HTML report, and its table and markdown artifacts on this flow run."""
    from tasks.deliver.run_report import publish_artifacts, write_run_report

    with scoped_engine(warehouse_url) as engine:
        path = write_run_report(engine, run_id, out_dir, report=report)
    publish_artifacts(path, report.per_level(), run_id)
    return path
