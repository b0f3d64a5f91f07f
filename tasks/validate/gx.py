"""Great Expectations as the users' record: the suite generated from the contract, run once per run in SQL on
the warehouse over the rows the run loaded, and its Data Docs.

The row-level checks are vectorised (`tasks.validate.contract`); this validation is the independent record
that what reached the warehouse meets the contract, computed by the database. A failed expectation here
means a row passed the pipeline's own checks and still breaks the contract: the run says so. Results carry
counts only, never the offending values (those are in the quarantine, where they are escaped when shown).
Great Expectations is imported only here, and only when called.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from schemas import USULAN
from schemas.expectations import build_suite, expectation_specs
from warehouse.db import create_engine, normalise_url, pg_connect_args

DATA_DOCS_SITE = "gx/uncommitted/data_docs/local_site/index.html"  # inside the quality folder
_LOCK = threading.Lock()  # Great Expectations file contexts are not thread-safe
_RUN_ID = re.compile(r"^[0-9A-Za-z_.-]+$")
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}
RUN_VIEW = "gx_usulan_of_run"  # the rows of the run being validated, while it is (see validate_warehouse)
ASSET = "usulan_of_run"
CONTRACT = f"{USULAN.name}_contract"  # the suite's, validation definition's and checkpoint's name


@dataclass(frozen=True)
class ContractRecord:
    """What Great Expectations found on the rows a run loaded."""

    success: bool
    rows: int
    failed: list[tuple[str, str | None, int]] = field(default_factory=list)  # (expectation, column, unexpected)

    def problems(self) -> list[str]:
        return [
            f"the warehouse breaks the contract: {name}{f' on {column}' if column else ''} ({count:,} rows)"
            for name, column, count in self.failed
        ]


def _context(quality_dir: Path):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins this module's logger to INFO and announces a temp docs folder on every context
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="file", project_root_dir=str(quality_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def preload() -> None:
    """Import Great Expectations (about 2 s): a process that will validate does it while the run still loads."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations  # noqa: F401


def validate_warehouse(url: str, run_id: str, quality_dir: Path) -> ContractRecord:
    """Run the contract suite in SQL over the usulan the run `run_id` loaded; the result is kept in the GX
    project under `quality_dir` for its Data Docs.

    The run's rows are the view RUN_VIEW (usulan of this run, in the contract's column order), made for the
    validation and dropped after it. GX reads a table asset's columns from the catalogue, and the database
    scans `usulan` for each metric query: on PostgreSQL in parallel (a temporary table, which GX makes of a
    query asset, is read by one process only: 28 s of a national run's 43 s went to one query over it). The
    asset, its batch and the checkpoint stay the same from run to run."""
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} is not safe in a query")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    url = normalise_url(url)
    columns = ", ".join(USULAN.column_names)  # the contract's order (migrations append new columns)
    engine = create_engine(url)
    with _LOCK:
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(f"DROP VIEW IF EXISTS {RUN_VIEW}")
                connection.exec_driver_sql(
                    f"CREATE VIEW {RUN_VIEW} AS SELECT {columns} FROM {USULAN.name} WHERE run_id = '{run_id}'"
                )
            outcome = _run_checkpoint(gx, Path(quality_dir), url, RunIdentifier(run_name=run_id))
        finally:
            with engine.begin() as connection:
                connection.exec_driver_sql(f"DROP VIEW IF EXISTS {RUN_VIEW}")
            engine.dispose()
    result = next(iter(outcome.run_results.values()))
    failed, rows = [], 0
    for r in result.results:
        rows = max(rows, int(r.result.get("element_count") or 0))
        if not r.success:
            config = r.expectation_config
            failed.append((config.type, config.kwargs.get("column"), int(r.result.get("unexpected_count") or 0)))
    return ContractRecord(bool(result.success), rows, failed)


def _fingerprint(source: str) -> str:
    """What the registered checkpoint stands for: the contract's expectations, the asset it reads and the data
    source (kept in the suite's meta; a change of any registers the suite, definition and checkpoint again)."""
    spec = [expectation_specs(USULAN), RUN_VIEW, ASSET, RESULT_FORMAT, source]
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def _registered(context, fingerprint: str, batch):
    """The contract checkpoint of the project when it was registered for `fingerprint` on `batch`, else None
    (comparing a suite with add_or_update costs more than the validation of a region)."""
    from great_expectations.exceptions import DataContextError

    try:
        checkpoint = context.checkpoints.get(CONTRACT)
    except DataContextError:
        return None
    definitions = checkpoint.validation_definitions
    if (
        len(definitions) == 1
        and definitions[0].suite.meta.get("fingerprint") == fingerprint
        and definitions[0].data.id == batch.id
    ):
        return checkpoint
    return None


def _run_checkpoint(gx, quality_dir: Path, url: str, run: object):
    """The contract checkpoint over RUN_VIEW of the warehouse at `url`, run (data source, asset, suite,
    validation definition and checkpoint registered in the project, or updated when they changed)."""
    context = _context(quality_dir)
    if url.startswith("sqlite"):  # one data source per kind of warehouse: a project may have seen both
        source = context.data_sources.add_or_update_sqlite("warehouse_sqlite", connection_string=url)
    else:
        source = context.data_sources.add_or_update_postgres(
            "warehouse_postgresql", connection_string=url, kwargs={"connect_args": pg_connect_args(url)}
        )
    asset = next((a for a in source.assets if a.name == ASSET), None)
    if asset is not None and getattr(asset, "table_name", None) != RUN_VIEW:  # a project of an earlier version
        source.delete_asset(ASSET)
        asset = None
    asset = asset or source.add_table_asset(ASSET, table_name=RUN_VIEW)
    batch = next((b for b in asset.batch_definitions if b.name == "whole"), None)
    batch = batch or asset.add_batch_definition_whole_table("whole")
    fingerprint = _fingerprint(source.name)
    checkpoint = _registered(context, fingerprint, batch)
    if checkpoint is None:
        contract = build_suite(USULAN)
        contract.meta["fingerprint"] = fingerprint
        suite = context.suites.add_or_update(contract)
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=CONTRACT, data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(name=CONTRACT, validation_definitions=[definition], actions=[], result_format=RESULT_FORMAT)
        )
    try:
        return checkpoint.run(run_id=run)
    finally:  # GX keeps pools of its own on the warehouse (the source's and its execution engine's): close them
        source.get_engine().dispose()
        source.get_execution_engine().engine.dispose()


def build_data_docs(quality_dir: Path) -> Path | None:
    """Render the Data Docs of the validations kept under `quality_dir`: the page of each validation that has
    none yet (a page once rendered stays as it is: its stored result does not change), the suite's page and
    the index; returns the site's index page."""
    site = Path(quality_dir) / DATA_DOCS_SITE
    if not (Path(quality_dir) / "gx").is_dir():
        return None
    pages = site.parent / "validations"
    with _LOCK:
        context = _context(Path(quality_dir))
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

        new = [
            key
            for key in context.validation_results_store.list_keys()
            if not pages.joinpath(*key.to_tuple()[:-1], f"{key.to_tuple()[-1]}.html").exists()
        ]
        context.build_data_docs(resource_identifiers=[*new, ExpectationSuiteIdentifier(name=CONTRACT)])
    return site if site.exists() else None
