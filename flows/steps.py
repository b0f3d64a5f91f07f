"""The pipeline's stages as Prefect tasks, one task run per stage and level (a national run makes a few dozen,
not one per slice): names that say the level, retries where a source can fail, the extract cached by the
signatures of what it reads, and the lake write undone when the warehouse load fails.

Every task only calls a stage of `tasks/` (plain functions, frames in, new frames out). Every task except
extract is NO_CACHE: Prefect's default policy would hash whole frames and the classifier on every call.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.transactions import get_transaction

from tasks.extract.discover import FILE_ID, SIZE, Discovery, discover
from tasks.extract.read import Extraction, Reading, finish_reading
from tasks.load import publish
from tasks.load.publish import Publication
from tasks.map.context import MappingContext
from tasks.map.mapping import map_level
from tasks.validate.level import Checked, Ruled, check_read, check_rules
from tasks.validate.rules import ValidationConfig

# A level read from more bytes than this is not kept in Prefect's result store: serialising a national level's
# rows costs more than reading them again, and a one-region run (a few MB) is what a re-run after a fix repeats.
EXTRACT_CACHE_MAX_BYTES = 8 << 20
LEVEL = "{level}"


@task(task_run_name="discover-{tahun}", cache_policy=NO_CACHE)
def discover_inbox(inbox: Path, tahun: int, pemda: list[str] | None, levels: list[str] | None) -> Discovery:
    return discover(inbox, tahun, pemda, levels)


def _extract_key(context, parameters) -> str:
    """The level's files with their slice signatures (files, pipeline, corrections) and the ids the run gave
    them: the same read gives the same rows."""
    files = parameters["reading"].files
    listing = files[[FILE_ID, "source_file", "signature"]].astype(str).agg("|".join, axis=1)  # rows name their file
    digest = hashlib.sha256("\n".join(sorted(listing)).encode())
    return f"extract-{parameters['level']}-{digest.hexdigest()}"


def _extract(level: str, reading: Reading) -> Extraction:
    """The level's files read and staged (in worker processes when the level is large: started ahead by the
    flow, so what this task shows is what was left to wait for)."""
    return finish_reading(reading)


extract = task(
    _extract,
    name="extract",
    task_run_name="extract-" + LEVEL,
    cache_key_fn=_extract_key,
    cache_expiration=timedelta(days=7),
    persist_result=True,
)
extract_unkept = task(
    _extract, name="extract", task_run_name="extract-" + LEVEL, cache_policy=NO_CACHE, persist_result=False
)


def extract_task(reading: Reading):
    """`extract`, cached by signature for a level read inline and small enough to keep in the result store;
    else not kept (a level read on workers was started ahead: its rows are on their way)."""
    small = int(reading.files[SIZE].sum()) <= EXTRACT_CACHE_MAX_BYTES
    return extract if reading.inline and small else extract_unkept


@task(task_run_name="check-contract-" + LEVEL, cache_policy=NO_CACHE)
def check_contract(level: str, extraction: Extraction, config: ValidationConfig) -> Checked:
    return check_read(extraction, level, config)


@task(task_run_name="map-" + LEVEL, cache_policy=NO_CACHE)
def map_to_opd(level: str, clean: pd.DataFrame, context: MappingContext) -> pd.DataFrame:
    return map_level(clean, context)


@task(task_run_name="check-domain-" + LEVEL, cache_policy=NO_CACHE)
def check_domain(
    level: str,
    checked: Checked,
    mapped: pd.DataFrame,
    context: MappingContext,
    lower: pd.DataFrame | None,
    accepted_before: pd.DataFrame,
    mtime: pd.Series,
) -> Ruled:
    frames = context.frames
    return check_rules(
        checked, mapped, level, context.tahun, frames.kamus, frames.opd_names, lower, accepted_before, mtime
    )


@task(task_run_name="prepare-load-" + LEVEL, cache_policy=NO_CACHE)
def prepare_load(
    level: str,
    ruled: Ruled,
    extraction: Extraction,
    files: pd.DataFrame,
    previous: pd.DataFrame,
    lake_root: Path,
    run_id: str,
    strict: bool,
    allow_empty: bool,
) -> Publication:
    return publish.prepare(ruled, extraction, files, previous, lake_root, run_id, strict, allow_empty)


@task(task_run_name="write-lake-" + LEVEL, cache_policy=NO_CACHE)
def lake_write(level: str, publication: Publication, lake_root: Path) -> int:
    """Write the level's slices to the run's lake staging folder; they are swapped in when the transaction
    commits (after the warehouse load), and removed if it rolls back."""
    staged = publish.stage_lake(publication, lake_root)
    get_transaction().set("lake_staged", staged)
    return len(staged.slices)


@lake_write.on_rollback
def _discard_lake(transaction) -> None:
    staged = transaction.get("lake_staged", None)
    if staged is not None:
        staged.discard()


@lake_write.on_commit
def _swap_lake(transaction) -> None:
    staged = transaction.get("lake_staged", None)
    if staged is not None:
        staged.swap_in()


@task(task_run_name="load-warehouse-" + LEVEL, cache_policy=NO_CACHE)
def warehouse_load(level: str, publication: Publication, warehouse_url: str) -> None:
    from warehouse.db import scoped_engine

    with scoped_engine(warehouse_url) as engine:
        publish.load_warehouse(publication, engine)
