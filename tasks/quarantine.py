"""Issues found in rows, their readable reasons (Indonesian and English), and the quarantine frame."""

from __future__ import annotations

import json

import pandas as pd

from schemas import QUARANTINE

# rule -> (reason in Indonesian, reason in English); {field}, {value} and {detail} are filled in.
REASONS: dict[str, tuple[str, str]] = {
    "empty_row": ("Baris kosong, tidak ada isian", "Empty row, nothing filled in"),
    "not_a_number": ("Kolom {field} berisi '{value}', bukan angka", "Field {field} holds '{value}', not a number"),
    "bad_date": ("Kolom {field} berisi '{value}', bukan tanggal", "Field {field} holds '{value}', not a date"),
    "unknown_status": ("Status '{value}' tidak dikenal", "Status '{value}' is not a known decision"),
    "missing_value": ("Kolom wajib {field} kosong", "Required field {field} is empty"),
    "wilayah_unknown": ("{field} '{value}' tidak ditemukan di kode wilayah{detail}",
                        "{field} '{value}' is not in the kode wilayah list{detail}"),
    "wilayah_ambiguous": ("{field} '{value}' cocok dengan lebih dari satu wilayah: {detail}",
                          "{field} '{value}' matches more than one area: {detail}"),
    "duplicate_key": ("Usulan {value} tercatat lebih dari sekali pada forum yang sama",
                      "Usulan {value} appears more than once in the same forum"),
    "not_in_set": ("Nilai '{value}' pada {field} tidak termasuk pilihan yang sah",
                   "Value '{value}' of {field} is not an allowed value"),
    "bad_format": ("Format {field} '{value}' tidak sesuai", "Field {field} '{value}' has the wrong format"),
    "out_of_range": ("{field} = {value} di luar rentang wajar{detail}", "{field} = {value} is out of range{detail}"),
    "too_long": ("{field} terlalu panjang", "{field} is too long"),
}


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
    reason_id, reason_en = REASONS[rule]
    return pd.DataFrame({
        "row": rows,
        "rule": rule,
        "field": field,
        "value": values,
        "severity": "error",
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
