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
    # each row's (slice, kecamatan) as one integer; per rule, rows checked and failing counted by bincount
    group_of_row = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    groups = keys.drop_duplicates().reset_index(drop=True)  # in the order ngroup numbers them
    size = len(groups)
    failing = issues.drop_duplicates(["row", "rule"])
    failing = failing[failing["rule"].isin(rules)]
    failing_group = group_of_row[rows.index.get_indexer(failing["row"].to_numpy())]
    failing_rule = failing["rule"].to_numpy()
    parts = []
    for rule, mask in checked.items():
        counted = np.bincount(group_of_row[np.asarray(mask, dtype=bool)], minlength=size)
        failed = np.bincount(failing_group[failing_rule == rule], minlength=size)
        at = np.flatnonzero((counted > 0) | (failed > 0))
        parts.append(pd.DataFrame({"group": at, "rule": rule, "checked": counted[at], "failed": failed[at]}))
    counts = pd.concat(parts, ignore_index=True)
    frame = groups.take(counts["group"].to_numpy()).reset_index(drop=True)
    frame = pd.concat([frame, counts.drop(columns="group")], axis=1)
    frame["severity"] = frame["rule"].map({r: severity_of(r) for r in rules})
    frame["kode_kecamatan"] = frame["kode_kecamatan"].replace("", pd.NA)
    frame = frame.sort_values([*SLICE_KEY, "rule", "kode_kecamatan"], na_position="first").reset_index(drop=True)
    frame["summary_id"] = frame.groupby(list(SLICE_KEY), sort=False).cumcount() + 1
    return QUALITY_SUMMARY.conform(frame)
