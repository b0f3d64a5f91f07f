"""Validate staged usulan against the contract with Great Expectations and split off failing rows."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from schemas import USULAN
from schemas.contract import Table
from schemas.expectations import RULE_OF_EXPECTATION, build_suite
from tasks.batch import SliceBatch
from tasks.validate.domain import domain_issues
from tasks.validate.issues import concat_issues, issues_frame

CONTRACT_RULES = tuple(sorted(set(RULE_OF_EXPECTATION.values())))
_GX_LOCK = threading.Lock()  # Great Expectations contexts are not thread-safe (concurrent ones corrupt their yml)
DOMAIN_RULES = (
    "wilayah_not_in_force",
    "bidang_unknown",
    "sub_kegiatan_unknown",
    "satuan_unknown",
    "volume_missing",
    "anggaran_implausible",
    "prioritas_duplicate",
    "duplicate_text",
    "repeat_accepted",
    "lineage_missing",
    "alasan_missing",
)


@lru_cache(maxsize=4)
def _context(docs_dir: str | None):
    """The GX data context: a file context in `docs_dir` (keeps results for Data Docs) or ephemeral."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins this module's logger to INFO and announces a temp docs folder on every context
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    context = gx.get_context(mode="file", project_root_dir=docs_dir) if docs_dir else gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@lru_cache(maxsize=4)
def _checkpoint(table_name: str, docs_dir: str | None):
    """A GX checkpoint for the table's contract suite, built once per process. With `docs_dir` it lives
    in a file context there, which keeps every validation result for `build_data_docs`; without, it is
    ephemeral."""
    import great_expectations as gx

    table = {USULAN.name: USULAN}[table_name]
    context = _context(docs_dir)
    source = context.data_sources.add_or_update_pandas(f"{table.name}_frames")
    asset = next((a for a in source.assets if a.name == table.name), None) or source.add_dataframe_asset(table.name)
    batch = next(
        (b for b in asset.batch_definitions if b.name == "whole"), None
    ) or asset.add_batch_definition_whole_dataframe("whole")
    suite = context.suites.add_or_update(build_suite(table))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{table.name}_contract", data=batch, suite=suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{table.name}_contract",
            validation_definitions=[definition],
            actions=[],
            result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
        )
    )


DATA_DOCS_SITE = "gx/uncommitted/data_docs/local_site/index.html"  # inside a partition's GX project


def partition_docs_dir(quality_dir: Path, label: str) -> Path:
    """Each partition of regions ("18.02", "11.01-11.18") keeps its own GX project, so partitions validated
    in parallel never share its files."""
    return Path(quality_dir) / "data_docs" / label.replace(".", "_")


def build_data_docs(quality_dir: Path) -> None:
    """Render the GX Data Docs site of every partition validated under `quality_dir` (once per run);
    `data_docs_sites` lists them."""
    for region in sorted((Path(quality_dir) / "data_docs").glob("*")):
        if (region / "gx").is_dir():
            _context(str(region)).build_data_docs()


def data_docs_sites(quality_dir: Path) -> list[tuple[str, Path]]:
    """(partition label such as "18.02" or "11.01-11.18", index.html) of every Data Docs site rendered
    under `quality_dir`."""
    root = Path(quality_dir) / "data_docs"
    return [
        (site.relative_to(root).parts[0].replace("_", "."), site) for site in sorted(root.glob(f"*/{DATA_DOCS_SITE}"))
    ]


def _describe(table: Table, column: str, rule: str) -> str:
    c = table.column(column)
    if rule == "out_of_range":
        low = "" if c.min_value is None else f"{c.min_value:,.0f}"
        high = "" if c.max_value is None else f"{c.max_value:,.0f}"
        return f" ({low} .. {high})"
    return ""


def contract_issues(
    staged: pd.DataFrame, table: Table = USULAN, docs_dir: Path | None = None, run_name: str = "contract"
) -> pd.DataFrame:
    """One issue per row and failed contract expectation (rows indexed by position in `staged`); with
    `docs_dir` the validation is also rendered into the Great Expectations Data Docs there."""
    if staged.empty:
        return concat_issues([])
    frame = staged.reset_index(drop=True)
    for c in table.columns:  # GX compares plain numbers; nullable extension types go in as float/object
        if c.kind in ("float", "money", "int16", "int32", "int64"):
            frame[c.name] = frame[c.name].astype("float64")
    from great_expectations.core.run_identifier import RunIdentifier

    with _GX_LOCK:
        checkpoint = _checkpoint(table.name, str(docs_dir) if docs_dir else None)
        outcome = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_name))
    issues = []
    for r in next(iter(outcome.run_results.values())).results:
        config = r.expectation_config
        rule = RULE_OF_EXPECTATION.get(type(config).__name__) or RULE_OF_EXPECTATION.get(
            "".join(p.title() for p in config.type.split("_"))
        )
        if r.success or rule is None:
            if not r.success and config.type == "expect_table_columns_to_match_ordered_list":
                raise ValueError(f"staged frame does not match the {table.name} contract columns")
            continue
        column = config.kwargs["column"]
        rows = pd.Index(r.result.get("unexpected_index_list") or [])
        positions = staged.index[rows]
        issues.append(
            issues_frame(positions, rule, column, staged.loc[positions, column], _describe(table, column, rule))
        )
    return concat_issues(issues)


def duplicate_key_issues(staged: pd.DataFrame, table: Table = USULAN) -> pd.DataFrame:
    """Later copies of a primary key already seen in the slice."""
    dup = staged.duplicated(list(table.primary_key), keep="first") & staged["id_usulan"].notna()
    return issues_frame(staged.index[dup], "duplicate_key", "id_usulan", staged.loc[dup, "id_usulan"])


def check_contract(batches: Sequence[SliceBatch], docs_dir: Path | None = None, run_name: str = "contract") -> None:
    """Contract and duplicate-key issues of the rows still clean, for many slices at once: Great
    Expectations costs seconds per validation whatever its size, so all batches of a partition share one."""
    cleans = [batch.clean() for batch in batches]
    frame = pd.concat(cleans, ignore_index=True) if cleans else pd.DataFrame()
    owner = np.repeat(np.arange(len(cleans)), [len(c) for c in cleans])
    origin = np.concatenate([c.index.to_numpy() for c in cleans]) if cleans else np.empty(0)
    issues = contract_issues(frame, docs_dir=docs_dir, run_name=run_name)
    at = issues["row"].to_numpy(dtype=np.int64)
    batch_of_issue = owner[at]
    for i, (batch, clean) in enumerate(zip(batches, cleans)):
        mine = batch_of_issue == i
        batch.add_issues(issues[mine].assign(row=origin[at[mine]]), CONTRACT_RULES, clean.index)
        clean = batch.clean()
        batch.add_issues(duplicate_key_issues(clean), ("duplicate_key",), clean.index)


def check_domain(batch: SliceBatch, mapped: pd.DataFrame, engine: sa.Engine) -> pd.DataFrame:
    """Domain rules on the mapped clean rows; returns the rows to publish (satuan normalised, warnings
    in quality_flags) and stops the slice when its error share passes the configured threshold."""
    normalised, issues = domain_issues(mapped, batch.key, engine)
    batch.add_issues(issues, DOMAIN_RULES, mapped.index)
    batch.stop_if_too_many_errors()
    publishable = normalised.drop(index=batch.error_rows, errors="ignore")
    return publishable.assign(quality_flags=batch.quality_flags().reindex(publishable.index))
