"""Issues found in rows, their readable reasons (Indonesian and English), and the quarantine frame."""

from __future__ import annotations

import json

import pandas as pd

from schemas import QUARANTINE
from tasks.rules import RULES

def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return str(value)


def issues_frame(rows: pd.Index | list, rule: str, field: str | None, values: pd.Series | list | None,
                 detail: pd.Series | str = "") -> pd.DataFrame:
    """Issues for the given row positions: one per row, with the readable reasons filled in."""
    rows = list(rows)
    if not rows:
        return pd.DataFrame(columns=["row", "rule", "field", "value", "severity", "reason_id", "reason_en"])
    values = [""] * len(rows) if values is None else [_text(v) for v in values]
    details = list(detail) if isinstance(detail, pd.Series) else [detail] * len(rows)
    reason_id, reason_en = RULES[rule].reason_id, RULES[rule].reason_en
    return pd.DataFrame({
        "row": rows,
        "rule": rule,
        "field": field,
        "value": values,
        "severity": RULES[rule].severity,
        "reason_id": [reason_id.format(field=field, value=v, detail=d) for v, d in zip(values, details)],
        "reason_en": [reason_en.format(field=field, value=v, detail=d) for v, d in zip(values, details)],
    })


def concat_issues(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else issues_frame([], "empty_row", None, None)


def quarantine_records(issues: pd.DataFrame, staged: pd.DataFrame, raw: pd.DataFrame, slice_key: dict,
                       run_id: str) -> pd.DataFrame:
    """Quarantine table rows for `issues` (whose `row` indexes `staged` and `raw`)."""
    if issues.empty:
        return QUARANTINE.empty_frame()
    rows = issues["row"].to_numpy()
    raw_json = [json.dumps({k: v for k, v in rec.items() if v}, ensure_ascii=False)
                for rec in raw.loc[rows].to_dict("records")]
    frame = pd.DataFrame({
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
    })
    frame["quarantine_id"] = range(1, len(frame) + 1)
    return QUARANTINE.conform(frame)
