"""Per-group mean, SD and median over sorted arrays, bit for bit as pandas' Series methods give them.

The group tables summarise hundreds of thousands of small groups (a participant's sessions);
calling Series.mean on each costs a pandas call per group. Here a group is a run of equal ids
in a sorted array and every statistic is computed for all groups at once with the arithmetic
Series.mean, Series.std and Series.median use: values added one after another (as numpy adds up
to SEQUENTIAL_MAX values), the two-pass variance, the mean of the two middle values. A group
larger than SEQUENTIAL_MAX is handed to the Series method itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cpmlab.scoring.vectorised import SEQUENTIAL_MAX, group_sums


def group_bounds(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the first row and the size of each run of equal ids (ids sorted, so each group is one run)."""
    if not len(ids):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return starts, np.diff(np.r_[starts, len(ids)])


def _run_ids(sizes: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(sizes)), sizes)


def series_means(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Return each group's Series.mean (groups are consecutive runs of the given sizes)."""
    groups = _run_ids(sizes)
    sums = group_sums(values, groups, len(sizes), large=lambda v: float(pd.Series(v).mean()))
    big = sizes > SEQUENTIAL_MAX  # those sums already hold Series.mean
    return np.where(big, sums, sums / np.maximum(sizes, 1))


def series_sds(values: np.ndarray, sizes: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Return each group's Series.std(ddof=1) given its Series.mean (NaN for groups of one value)."""
    groups = _run_ids(sizes)
    squares = (np.repeat(means, sizes) - values) ** 2  # pandas' two-pass variance
    sums = group_sums(squares, groups, len(sizes), large=None)
    with np.errstate(invalid="ignore", divide="ignore"):
        sds = np.sqrt(sums / (sizes - 1.0))
    sds[sizes < 2] = np.nan
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    for g in np.flatnonzero(sizes > SEQUENTIAL_MAX).tolist():
        a = int(starts[g])
        sds[g] = float(pd.Series(values[a : a + int(sizes[g])]).std(ddof=1))
    return sds


def series_medians(values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Return each group's Series.median (the mean of the two middle values of an even group)."""
    if not len(sizes):
        return np.zeros(0)
    groups = _run_ids(sizes)
    ordered = values[np.lexsort((values, groups))]
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    upper = ordered[starts + sizes // 2]
    lower = ordered[starts + (sizes - 1) // 2]
    return np.where(sizes % 2 == 1, upper, (lower + upper) / 2)


def optional(values: np.ndarray) -> list[float | None]:
    """Return the values as floats, None where NaN (as the table rows hold an undefined statistic)."""
    return [None if v != v else v for v in values.tolist()]


def records_frame(columns: dict[str, list[Any]], order: list[str]) -> pd.DataFrame:
    """Return a frame of Python values typed as pd.DataFrame(list of row dicts) types them."""
    if not columns or not len(next(iter(columns.values()))):
        return pd.DataFrame([], columns=order)
    return pd.DataFrame({name: columns[name] for name in order})
