"""Quality summary of a slice: per kecamatan and rule, how many rows were checked and how many failed."""

from __future__ import annotations

import pandas as pd

from schemas import QUALITY_SUMMARY
from tasks.batch import SliceBatch


def summary_frame(batch: SliceBatch) -> pd.DataFrame:
    kecamatan = batch.staged["kode_kecamatan"].astype("string")
    parts = []
    failing = batch.issues.drop_duplicates(["row", "rule"])
    for rule, rows in batch.checked.items():
        checked = kecamatan.loc[rows].fillna("").value_counts()
        failed_rows = failing.loc[failing["rule"] == rule, "row"]
        failed = kecamatan.loc[failed_rows].fillna("").value_counts()
        part = pd.DataFrame({"checked": checked}).join(pd.DataFrame({"failed": failed}), how="outer").fillna(0)
        parts.append(part.assign(rule=rule, severity=batch.config.severity_of(rule)).rename_axis("kode_kecamatan")
                     .reset_index())
    if not parts:
        return QUALITY_SUMMARY.empty_frame()
    frame = pd.concat(parts, ignore_index=True)
    frame["kode_kecamatan"] = frame["kode_kecamatan"].replace("", pd.NA)
    frame = frame.sort_values(["rule", "kode_kecamatan"], na_position="first").reset_index(drop=True)
    frame = frame.assign(run_id=batch.run_id, **batch.key.as_dict(), summary_id=range(1, len(frame) + 1))
    return QUALITY_SUMMARY.conform(frame)
