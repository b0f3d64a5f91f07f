"""Work on the distinct rows of a frame, then take back: a level of millions of rows names few distinct keys
(pemda, kecamatan, OPD, bidang), so look-ups and joins run on those and each row takes its answer by position."""

from __future__ import annotations

import numpy as np
import pandas as pd


def distinct_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The distinct rows of `frame` (missing values equal to each other) and, for each row of `frame`, the
    position of its own among them: work on the few distinct rows of a level, then take back."""
    codes = np.zeros(len(frame), dtype=np.int64)
    for column in frame.columns:
        values, uniques = pd.factorize(frame[column], sort=False, use_na_sentinel=False)
        codes = pd.factorize(codes * len(uniques) + values, sort=False)[0]
    first = np.unique(codes, return_index=True)[1]  # codes number the rows' first appearances 0, 1, ...
    return frame.iloc[first], codes
