"""The contract's rules on a whole level, vectorised: the same checks as the Great Expectations suite that
`schemas.expectations` generates from the contract, one issue per row and failed rule.

Great Expectations stays the users' record (its suite, run on the warehouse in SQL, and its Data Docs, see
`tasks.validate.gx`); at tens of microseconds per row it is not the row-level rule engine. A test keeps the two
in step: on the same frame, both find the same rows for every expectation.
"""

from __future__ import annotations

import re

import pandas as pd

from schemas import USULAN
from schemas.contract import Table
from schemas.expectations import RULE_OF_EXPECTATION, expectation_specs
from tasks.validate.issues import concat_issues, issues_frame

CONTRACT_RULES = tuple(sorted(set(RULE_OF_EXPECTATION.values())))
FILLED_AT_LOAD = ("run_id",)  # columns the load fills in: not yet there when rows are checked


def _describe(table: Table, column: str, rule: str) -> str:
    c = table.column(column)
    if rule == "out_of_range":
        low = "" if c.min_value is None else f"{c.min_value:,.0f}"
        high = "" if c.max_value is None else f"{c.max_value:,.0f}"
        return f" ({low} .. {high})"
    return ""


def _on_distinct(values: pd.Series, test) -> pd.Series:
    """`test` (value -> bool: breaks the rule) applied once per distinct non-missing value."""
    present = values.dropna()
    distinct = present.unique()
    breaks = {v for v in distinct if test(v)}
    return values.isin(breaks) & values.notna()


def _is_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype)


def _unexpected(values: pd.Series, name: str, kwargs: dict) -> pd.Series:
    """Rows breaking one expectation (missing values break only the not-null expectation, as in GX). Text
    columns are tested by pandas' vectorised string methods (the same answer as the test per value)."""
    if name == "ExpectColumnValuesToNotBeNull":
        return values.isna()
    if name == "ExpectColumnValuesToBeInSet":
        return ~values.isin(set(kwargs["value_set"])) & values.notna()
    if name == "ExpectColumnValuesToMatchRegex":
        pattern = re.compile(kwargs["regex"])
        if _is_text(values):
            distinct = pd.Series(values.dropna().unique(), dtype="string")
            breaks = distinct[~distinct.str.contains(pattern, regex=True).astype(bool)]
            return values.isin(set(breaks)) & values.notna()
        return _on_distinct(values, lambda v: pattern.search(str(v)) is None)
    if name == "ExpectColumnValuesToBeBetween":
        numbers = pd.to_numeric(values, errors="coerce").astype("float64")
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        out = pd.Series(False, index=values.index)
        if low is not None:
            out |= numbers < low
        if high is not None:
            out |= numbers > high
        return out & values.notna()
    if name == "ExpectColumnValueLengthsToBeBetween":
        if _is_text(values):
            return (values.str.len() > kwargs["max_value"]).fillna(False).astype(bool)
        return _on_distinct(values, lambda v: len(str(v)) > kwargs["max_value"])
    raise ValueError(f"no vectorised form of {name}")


def contract_issues(staged: pd.DataFrame, table: Table = USULAN) -> pd.DataFrame:
    """One issue per row of `staged` (its index) and failed expectation of the table's contract suite."""
    if list(staged.columns[: len(table.column_names)]) != table.column_names:
        raise ValueError(f"staged frame does not match the {table.name} contract columns")
    issues = []
    for name, kwargs in expectation_specs(table)[1:]:
        column = kwargs["column"]
        if column in FILLED_AT_LOAD:
            continue
        bad = _unexpected(staged[column], name, kwargs).to_numpy(dtype=bool)
        if bad.any():
            rows = staged.index[bad]
            rule = RULE_OF_EXPECTATION[name]
            issues.append(issues_frame(rows, rule, column, staged.loc[rows, column], _describe(table, column, rule)))
    return concat_issues(issues)


def duplicate_key_columns(within: list[str], table: Table = USULAN) -> list[str]:
    """The columns `duplicate_key_issues` reads: the group, the primary key and id_usulan."""
    return list(dict.fromkeys([*within, *table.primary_key, "id_usulan"]))


def duplicate_key_issues(staged: pd.DataFrame, within: list[str], table: Table = USULAN) -> pd.DataFrame:
    """Later copies of a primary key already seen within the same `within` group (e.g. one slice)."""
    keys = list(dict.fromkeys([*within, *table.primary_key]))
    dup = staged.duplicated(keys, keep="first").to_numpy() & staged["id_usulan"].notna().to_numpy()
    rows = staged.index[dup]
    return issues_frame(rows, "duplicate_key", "id_usulan", staged.loc[rows, "id_usulan"])
