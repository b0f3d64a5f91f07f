"""Issues found in rows, their readable reasons (Indonesian and English), and the quarantine frame."""

from __future__ import annotations

import json

import pandas as pd

from schemas import QUARANTINE
from tasks.validate.rules import RULES


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
        return pd.DataFrame(columns=["row", "rule", "field", "value", "severity", "reason_id", "reason_en"])
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


def quarantine_records(
    issues: pd.DataFrame, staged: pd.DataFrame, raw: pd.DataFrame, slice_key: dict, run_id: str
) -> pd.DataFrame:
    """Quarantine table rows for `issues` (whose `row` indexes `staged` and `raw`)."""
    if issues.empty:
        return QUARANTINE.empty_frame()
    rows = issues["row"].to_numpy()
    raw_json = [
        json.dumps({k: v for k, v in rec.items() if v}, ensure_ascii=False) for rec in raw.loc[rows].to_dict("records")
    ]
    frame = pd.DataFrame(
        {
            "run_id": run_id,
            **slice_key,
            "source_file": staged.loc[rows, "source_file"].to_numpy(),
            "source_sheet": staged.loc[rows, "source_sheet"].to_numpy(),
            "source_row": staged.loc[rows, "source_row"].to_numpy(),
            "id_usulan": staged.loc[rows, "id_usulan"].to_numpy(),
            "rule": issues["rule"].to_numpy(),
            "field": issues["field"].to_numpy(),
            "value": issues["value"].to_numpy(),
            "severity": issues["severity"].to_numpy(),
            "reason_id": issues["reason_id"].to_numpy(),
            "reason_en": issues["reason_en"].to_numpy(),
            "raw": raw_json,
        }
    )
    frame["quarantine_id"] = range(1, len(frame) + 1)
    return QUARANTINE.conform(frame)
