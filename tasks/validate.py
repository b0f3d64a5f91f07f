"""Validate staged usulan against the contract with Great Expectations and split off failing rows."""

from __future__ import annotations

import logging
import os
from functools import lru_cache

import pandas as pd

import sqlalchemy as sa

from schemas import USULAN
from schemas.contract import Table
from schemas.expectations import RULE_OF_EXPECTATION, build_suite
from tasks.batch import SliceBatch
from tasks.domain_checks import domain_issues
from tasks.quarantine import concat_issues, issues_frame

CONTRACT_RULES = tuple(sorted(set(RULE_OF_EXPECTATION.values())))
DOMAIN_RULES = ("wilayah_not_in_force", "bidang_unknown", "sub_kegiatan_unknown", "satuan_unknown", "volume_missing",
                "anggaran_implausible", "prioritas_duplicate", "duplicate_text", "repeat_accepted", "lineage_missing",
                "alasan_missing")


@lru_cache(maxsize=4)
def _validation(table_name: str):
    """An ephemeral GX context with the table's suite, built once per process."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # GX pins this module's logger to INFO and announces a temp docs folder on every context
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)

    table = {USULAN.name: USULAN}[table_name]
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas(f"{table.name}_frames")
             .add_dataframe_asset(table.name).add_batch_definition_whole_dataframe("whole"))
    suite = context.suites.add(build_suite(table))
    return context.validation_definitions.add(gx.ValidationDefinition(name=f"{table.name}_vd", data=batch, suite=suite))


def _describe(table: Table, column: str, rule: str) -> str:
    c = table.column(column)
    if rule == "out_of_range":
        low = "" if c.min_value is None else f"{c.min_value:,.0f}"
        high = "" if c.max_value is None else f"{c.max_value:,.0f}"
        return f" ({low} .. {high})"
    return ""


def contract_issues(staged: pd.DataFrame, table: Table = USULAN) -> pd.DataFrame:
    """One issue per row and failed contract expectation (rows indexed by position in `staged`)."""
    if staged.empty:
        return concat_issues([])
    frame = staged.reset_index(drop=True)
    for c in table.columns:  # GX compares plain numbers; nullable extension types go in as float/object
        if c.kind in ("float", "money", "int16", "int32", "int64"):
            frame[c.name] = frame[c.name].astype("float64")
    result = _validation(table.name).run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False},
    )
    issues = []
    for r in result.results:
        config = r.expectation_config
        rule = RULE_OF_EXPECTATION.get(type(config).__name__) or RULE_OF_EXPECTATION.get(
            "".join(p.title() for p in config.type.split("_")))
        if r.success or rule is None:
            if not r.success and config.type == "expect_table_columns_to_match_ordered_list":
                raise ValueError(f"staged frame does not match the {table.name} contract columns")
            continue
        column = config.kwargs["column"]
        rows = pd.Index(r.result.get("unexpected_index_list") or [])
        positions = staged.index[rows]
        issues.append(issues_frame(positions, rule, column, staged.loc[positions, column],
                                   _describe(table, column, rule)))
    return concat_issues(issues)


def duplicate_key_issues(staged: pd.DataFrame, table: Table = USULAN) -> pd.DataFrame:
    """Later copies of a primary key already seen in the slice."""
    dup = staged.duplicated(list(table.primary_key), keep="first") & staged["id_usulan"].notna()
    return issues_frame(staged.index[dup], "duplicate_key", "id_usulan", staged.loc[dup, "id_usulan"])


def check_contract(batch: SliceBatch) -> None:
    """Contract (GX suite) and duplicate-key issues of the rows still clean."""
    clean = batch.clean()
    batch.add_issues(contract_issues(clean), CONTRACT_RULES, clean.index)
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
