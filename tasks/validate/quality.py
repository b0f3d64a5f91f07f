"""Quality summary of a slice: per kecamatan and rule, how many rows were checked and how many failed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas import QUALITY_SUMMARY
from tasks.batch import SliceBatch


def summary_frame(batch: SliceBatch) -> pd.DataFrame:
    if not batch.checked:
        return QUALITY_SUMMARY.empty_frame()
    kecamatan = batch.staged["kode_kecamatan"].astype("string").fillna("")
    rules = list(batch.checked)
    checked_rows = np.concatenate([np.asarray(rows) for rows in batch.checked.values()])
    checked = pd.DataFrame(
        {
            "rule": np.repeat(rules, [len(rows) for rows in batch.checked.values()]),
            "kode_kecamatan": kecamatan.loc[checked_rows].to_numpy(),
        }
    )
    failing = batch.issues.drop_duplicates(["row", "rule"])
    failing = failing[failing["rule"].isin(rules)]
    failed = pd.DataFrame(
        {"rule": failing["rule"].to_numpy(), "kode_kecamatan": kecamatan.loc[failing["row"]].to_numpy()}
    )
    frame = (
        pd.concat(
            {
                "checked": checked.groupby(["rule", "kode_kecamatan"]).size(),
                "failed": failed.groupby(["rule", "kode_kecamatan"]).size(),
            },
            axis=1,
        )
        .fillna(0)
        .reset_index()
    )
    frame["severity"] = frame["rule"].map(batch.config.severity_of)
    frame["kode_kecamatan"] = frame["kode_kecamatan"].replace("", pd.NA)
    frame = frame.sort_values(["rule", "kode_kecamatan"], na_position="first").reset_index(drop=True)
    frame = frame.assign(run_id=batch.run_id, **batch.key.as_dict(), summary_id=range(1, len(frame) + 1))
    return QUALITY_SUMMARY.conform(frame)
