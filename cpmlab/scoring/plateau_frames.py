"""Continuous ratings summarised over every heat plateau of many runs at once (as continuous.py per run).

Each window's points (the valid samples inside it, plus the edges interpolated from the
neighbouring samples) are laid end to end in one array, so the trapezoid areas, peaks and
coverage of all windows come from a few array operations.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from cpmlab.scoring.frames import RUN

PLATEAU_TABLE_COLUMNS = [
    "plateau_onset",
    "plateau_duration",
    "step_id",
    "role",
    "phase",
    "rep",
    "stimulus_c",
    "n_samples",
    "covered_s",
    "mean",
    "peak",
    "auc",
]


def _interp(t0: np.ndarray, v0: np.ndarray, t1: np.ndarray, v1: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Linear interpolation at x strictly between t0 and t1, computed as numpy.interp does."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (v1 - v0) / (t1 - t0) * (x - t0) + v0


def _pair_reduce(ufunc: np.ufunc, values: np.ndarray, first: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Reduce values[first[k]:stop[k]] for every k (each range non-empty) in index order."""
    if not len(first):
        return np.zeros(0)
    padded = np.append(values, 0.0)
    return ufunc.reduceat(padded, np.column_stack([first, stop]).ravel())[::2]


def _window_indices(
    plateau_runs: np.ndarray, starts: np.ndarray, ends: np.ndarray, runs: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return, per window, its run's first and stop index in the valid samples and the window's own range."""
    run_first = np.searchsorted(runs, plateau_runs, "left")
    run_stop = np.searchsorted(runs, plateau_runs, "right")
    i0 = np.empty(len(starts), dtype=np.int64)
    i1 = np.empty(len(starts), dtype=np.int64)
    bounds = np.flatnonzero(np.r_[True, plateau_runs[1:] != plateau_runs[:-1], True]) if len(starts) else []
    for a, b in itertools.pairwise(bounds):  # one search per run, over that run's samples
        lo, hi = run_first[a], run_stop[a]
        i0[a:b] = lo + np.searchsorted(times[lo:hi], starts[a:b], "left")
        i1[a:b] = lo + np.searchsorted(times[lo:hi], ends[a:b], "right")
    return run_first, run_stop, i0, i1


def plateau_table(events: pd.DataFrame, samples: pd.DataFrame) -> pd.DataFrame:
    """Return one row per heat plateau with continuous ratings (run_index first, runs and onsets in order)."""
    plateaus = events[(events["trial_type"] == "heat_plateau") & events["duration"].notna()]
    all_runs = samples[RUN].to_numpy()
    plateaus = plateaus[np.isin(plateaus[RUN].to_numpy(), all_runs)]
    starts = plateaus["onset"].to_numpy(dtype=float)
    ends = starts + plateaus["duration"].to_numpy(dtype=float)
    p_runs = plateaus[RUN].to_numpy()
    all_t = samples["t"].to_numpy()
    first_t = all_t[np.searchsorted(all_runs, p_runs, "left")] if len(p_runs) else np.zeros(0)
    last_t = all_t[np.searchsorted(all_runs, p_runs, "right") - 1] if len(p_runs) else np.zeros(0)
    keep = ~((ends < first_t) | (starts > last_t))  # the continuous rating did not run during the others
    plateaus, starts, ends, p_runs = plateaus[keep], starts[keep], ends[keep], p_runs[keep]

    values = samples["rating"].to_numpy(dtype=float)
    ok = ~np.isnan(values)
    runs, t, v = all_runs[ok], all_t[ok], values[ok]
    run_first, run_stop, i0, i1 = _window_indices(p_runs, starts, ends, runs, t)
    n = i1 - i0
    has = n > 0
    safe0 = np.minimum(i0, max(len(t) - 1, 0))
    safe1 = np.maximum(i1 - 1, 0)
    left = has & (i0 > run_first) & (starts < t[safe0] if len(t) else has)
    right = has & (t[safe1] < ends if len(t) else has) & (ends < t[np.maximum(run_stop - 1, 0)] if len(t) else has)
    lp = np.maximum(i0 - 1, 0)
    rp = np.minimum(i1, max(len(t) - 1, 0))
    v_left = _interp(t[lp], v[lp], t[safe0], v[safe0], starts) if len(t) else starts
    v_right = _interp(t[safe1], v[safe1], t[rp], v[rp], ends) if len(t) else ends

    m = np.where(has, n + left + right, 0)  # points of each window
    offsets = np.cumsum(m) - m
    total = int(m.sum())
    pt, pv = np.empty(total), np.empty(total)
    local = np.arange(int(n[has].sum())) - np.repeat(np.cumsum(n[has]) - n[has], n[has])
    src = np.repeat(i0[has], n[has]) + local
    dst = np.repeat((offsets + left)[has], n[has]) + local
    pt[dst], pv[dst] = t[src], v[src]
    pt[offsets[left]], pv[offsets[left]] = starts[left], v_left[left]
    last = offsets + m - 1
    pt[last[right]], pv[last[right]] = ends[right], v_right[right]

    area = (pt[1:] - pt[:-1]) * (pv[1:] + pv[:-1]) / 2.0
    multi = m > 1
    auc = np.where(has, 0.0, np.nan)
    auc[multi] = [
        float(np.add.reduce(area[a:b])) for a, b in zip(offsets[multi].tolist(), last[multi].tolist(), strict=True)
    ]
    covered = np.zeros(len(m))
    covered[has] = pt[last[has]] - pt[offsets[has]]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(covered > 0, auc / np.where(covered > 0, covered, 1.0), np.nan)
    single = has & ~(covered > 0)
    mean[single] = pv[offsets[single]]
    peak = np.full(len(m), np.nan)
    peak[has] = _pair_reduce(np.maximum, v, i0[has], i1[has])

    def _opt(a: np.ndarray) -> np.ndarray:
        return np.where(has, a, np.nan)

    return pd.DataFrame(
        {
            RUN: p_runs,
            "plateau_onset": starts,
            "plateau_duration": plateaus["duration"].to_numpy(dtype=float),
            "step_id": plateaus["step_id"].to_numpy(dtype=object),
            "role": plateaus["role"].to_numpy(dtype=object),
            "phase": plateaus["phase"].to_numpy(dtype=object),
            "rep": plateaus["rep"].to_numpy(),
            "stimulus_c": plateaus["stimulus_c"].to_numpy(),
            "n_samples": n,
            "covered_s": [round(c, 6) for c in covered.tolist()],
            "mean": _opt(mean),
            "peak": _opt(peak),
            "auc": _opt(auc),
        }
    )
