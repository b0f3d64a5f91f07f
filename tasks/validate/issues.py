"""Issues found in rows, their readable reasons (Indonesian and English), and the quarantine frame."""

from __future__ import annotations

import json

import pandas as pd

from schemas import QUARANTINE, SLICE_KEY
from tasks.validate.rules import RULES

# An issue: the row it is about (position in the level's frame) and the quarantine's description of it.
ISSUE_COLUMNS = ("row", "rule", "field", "value", "severity", "reason_id", "reason_en")


def _text(value: object) -> str:
    """A cell value as people read it: empty for missing, 100 rather than 100.0."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return str(value)


def _texts(values: pd.Series | list) -> pd.Series:
    """`_text` of each value, computed once per distinct value."""
    series = pd.Series(list(values), dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = pd.Series([_text(u) for u in uniques] + [""], dtype=object).to_numpy()
    return pd.Series(table[codes], dtype=object)  # code -1 (missing) picks the trailing ""


def issues_frame(
    rows: pd.Index | list, rule: str, field: str | None, values: pd.Series | list | None, detail: pd.Series | str = ""
) -> pd.DataFrame:
    """Issues for the given row positions: one per row, with the readable reasons filled in. Reasons are
    formatted once per distinct (value, detail), so a rule failing on a million rows stays cheap."""
    rows = list(rows)
    if not rows:
        return pd.DataFrame(columns=list(ISSUE_COLUMNS))
    texts = pd.Series([""] * len(rows), dtype=object) if values is None else _texts(values)
    details = pd.Series(list(detail) if isinstance(detail, pd.Series) else [detail] * len(rows), dtype=object)
    pairs = texts.astype(str) + "\x1f" + details.astype(str)
    codes, uniques = pd.factorize(pairs)
    distinct = [u.split("\x1f", 1) for u in uniques]
    rule_text = RULES[rule]
    reason_id = [rule_text.reason_id.format(field=field, value=v, detail=d) for v, d in distinct]
    reason_en = [rule_text.reason_en.format(field=field, value=v, detail=d) for v, d in distinct]
    return pd.DataFrame(
        {
            "row": rows,
            "rule": rule,
            "field": field,
            "value": texts.to_numpy(),
            "severity": rule_text.severity,
            "reason_id": pd.Series(reason_id, dtype=object).to_numpy()[codes],
            "reason_en": pd.Series(reason_en, dtype=object).to_numpy()[codes],
        }
    )


def concat_issues(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else issues_frame([], "empty_row", None, None)


def with_severity(issues: pd.DataFrame, severity_of) -> pd.DataFrame:
    """The issues with the run's severity of each rule (`severity_of`: rule -> error or warning)."""
    if issues.empty:
        return issues
    rules = issues["rule"].unique()
    return issues.assign(severity=issues["rule"].map({r: severity_of(r) for r in rules}))


def quarantine_frame(issues: pd.DataFrame, rows: pd.DataFrame, raw: list[dict]) -> pd.DataFrame:
    """Quarantine table rows (no run id yet) for `issues`, whose `row` indexes `rows` (slice and provenance
    columns); `raw` holds the cells as read of each issue's row, in the order of `issues`. The sequence
    `quarantine_id` counts within each slice."""
    if issues.empty:
        return QUARANTINE.empty_frame()
    at = issues["row"].to_numpy()
    provenance = [*SLICE_KEY, "source_file", "source_sheet", "source_row", "id_usulan"]
    frame = pd.DataFrame({c: rows[c].to_numpy()[rows.index.get_indexer(at)] for c in provenance})
    for c in ("rule", "field", "value", "severity", "reason_id", "reason_en"):
        frame[c] = issues[c].to_numpy()
    frame["raw"] = [json.dumps(record, ensure_ascii=False) for record in raw]
    frame["quarantine_id"] = frame.groupby(list(SLICE_KEY), sort=False).cumcount() + 1
    return QUARANTINE.conform(frame)
