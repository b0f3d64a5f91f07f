"""Quality summary of a level: per slice, kecamatan and rule, how many rows were checked and how many failed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas import QUALITY_SUMMARY, SLICE_KEY


def summary_frame(
    rows: pd.DataFrame, checked: dict[str, np.ndarray], issues: pd.DataFrame, severity_of
) -> pd.DataFrame:
    """Quality summary rows (no run id yet) of a level. `rows`: the level's frame (slice columns and the final
    kode_kecamatan); `checked`: rule -> boolean mask of the rows the rule was applied to (the last stage that
    applied it); `issues`: every issue of the level. `summary_id` counts within each slice."""
    if not checked or rows.empty:
        return QUALITY_SUMMARY.empty_frame()
    keys = rows[list(SLICE_KEY)].assign(kode_kecamatan=rows["kode_kecamatan"].astype("string").fillna(""))
    rules = list(checked)
    applied = pd.concat([keys[mask].assign(rule=rule) for rule, mask in checked.items()], ignore_index=True)
    failing = issues.drop_duplicates(["row", "rule"])
    failing = failing[failing["rule"].isin(rules)]
    failed = keys.loc[failing["row"].to_numpy()].assign(rule=failing["rule"].to_numpy())
    group = [*SLICE_KEY, "rule", "kode_kecamatan"]
    frame = (
        pd.concat({"checked": applied.groupby(group).size(), "failed": failed.groupby(group).size()}, axis=1)
        .fillna(0)
        .reset_index()
    )
    frame["severity"] = frame["rule"].map({r: severity_of(r) for r in rules})
    frame["kode_kecamatan"] = frame["kode_kecamatan"].replace("", pd.NA)
    frame = frame.sort_values([*SLICE_KEY, "rule", "kode_kecamatan"], na_position="first").reset_index(drop=True)
    frame["summary_id"] = frame.groupby(list(SLICE_KEY), sort=False).cumcount() + 1
    return QUALITY_SUMMARY.conform(frame)
