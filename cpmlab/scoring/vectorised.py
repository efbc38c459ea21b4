"""Every per-run score of a batch of runs at once, with grouped columnar operations.

The definitions are those of the per-run reference (session.py, thresholds.py, run_scores.py);
each group's values are reduced in file order by the same numpy reductions, so both give the
same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cpmlab.core.scales import NUMERIC_SCALES
from cpmlab.scoring.dataset import run_labels
from cpmlab.scoring.frames import RUN
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.plateau_frames import plateau_table
from cpmlab.scoring.run_frames import RunBatch
from cpmlab.scoring.scales import NRS_TO_VAS, RANGES
from cpmlab.scoring.session import EFFECTS, PHASES
from cpmlab.scoring.thresholds import MISMATCH_TOLERANCE_C


def reduce_groups(ufunc: np.ufunc, values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Reduce values per group (groups sorted ascending) in order; NaN for groups without values."""
    out = np.full(n, np.nan)
    if len(values):
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        out[groups[starts]] = ufunc.reduceat(values, starts)
    return out


SEQUENTIAL_MAX = 7  # up to this many values, numpy's and pandas' sums add one value after another


def _group_starts(groups: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])


def group_sums(
    values: np.ndarray, groups: np.ndarray, n: int, large: Callable[[np.ndarray], float] | None = None
) -> np.ndarray:
    """Sum each group's values in order (groups sorted ascending), bit for bit as the per-run path does.

    Groups of at most SEQUENTIAL_MAX values are added one after another, vectorised across groups;
    a larger group is summed by large (the reference's own reduction; None: add one after another).
    """
    out = np.zeros(n)
    if not len(values):
        return out
    first = _group_starts(groups)
    sizes = np.diff(np.r_[first, len(values)])
    rank = np.arange(len(values)) - np.repeat(first, sizes)
    small = np.repeat(sizes <= SEQUENTIAL_MAX, sizes) if large is not None else np.ones(len(values), dtype=bool)
    for k in range(int(rank[small].max()) + 1 if small.any() else 0):
        sel = small & (rank == k)
        out[groups[sel]] += values[sel]
    if large is not None:
        for a, size in zip(first[sizes > SEQUENTIAL_MAX].tolist(), sizes[sizes > SEQUENTIAL_MAX].tolist(), strict=True):
            out[groups[a]] = large(values[a : a + size])
    return out


def _count(mask: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(groups[mask], minlength=n)


def _numbers(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def _flags(series: pd.Series) -> np.ndarray:
    """True where a boolean cell says true (True/False text or bool); missing is False."""
    return series.map(
        lambda v: v if isinstance(v, bool) else str(v).strip().lower() == "true" if v else False
    ).to_numpy(dtype=bool)


def _last(rows: pd.DataFrame, n: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Return which runs have a row, and each such run's last row (runs in order)."""
    last = rows.drop_duplicates(RUN, keep="last")
    has = np.zeros(n, dtype=bool)
    has[last[RUN].to_numpy()] = True
    return has, last


def _scaled(rows: pd.DataFrame, n: int, options: ScoringOptions) -> dict[str, Any]:
    """Numeric ratings of rows on one range per run (as scales.scaled_ratings), with scale, range and mixed."""
    rows = rows[rows["scale"].isin(NUMERIC_SCALES)]
    groups = rows[RUN].to_numpy()
    values = _numbers(rows["rating"])
    is_nrs = (rows["scale"] == "nrs").to_numpy()
    has_vas = _count(~is_nrs, groups, n) > 0
    has_nrs = _count(is_nrs, groups, n) > 0
    scale = np.where(has_vas & has_nrs, "vas+nrs", np.where(has_vas, "vas", np.where(has_nrs, "nrs", None)))
    any_scale = has_vas | has_nrs
    if options.normalise_nrs:
        values = np.where(is_nrs, values * NRS_TO_VAS, values)
        mixed = np.zeros(n, dtype=bool)
        ranges = np.where(any_scale, RANGES["vas"], None)
    else:
        mixed = has_vas & has_nrs
        ranges = np.where(mixed | ~any_scale, None, np.where(has_vas, RANGES["vas"], RANGES["nrs"]))
    return {"rows": rows, "groups": groups, "values": values, "scale": scale, "range": ranges, "mixed": mixed}


def _means(values: np.ndarray, groups: np.ndarray, count: np.ndarray, n: int) -> np.ndarray:
    """Mean of each group's values as Series.mean computes it (NaN for empty groups)."""
    large = np.zeros(n)
    sums = group_sums(values, groups, n, large=lambda v: float(pd.Series(v).mean()))
    big = count > SEQUENTIAL_MAX  # those sums already hold Series.mean
    large[big] = sums[big]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(big, large, sums / np.where(count > 0, count, np.nan))


def _none(values: np.ndarray) -> list[Any]:
    return [None if v != v else float(v) for v in values.tolist()]


def _ts_scores(ratings: pd.DataFrame, n: int, options: ScoringOptions) -> dict[str, Any]:
    ts = ratings[(ratings["about"] == "heat") & (ratings["role"] == "test_stimulus")]
    sc = _scaled(ts, n, options)
    out: dict[str, Any] = {"ts_scale": sc["scale"], "ts_range": sc["range"], "ts_mixed_scales": sc["mixed"]}
    phase = sc["rows"]["phase"].to_numpy(dtype=object)
    valid = ~np.isnan(sc["values"])
    means = {}
    for p in PHASES:
        sel = phase == p
        ok = sel & valid
        count = _count(ok, sc["groups"], n)
        out[f"ts_{p}_n"] = count
        out[f"ts_{p}_missing"] = _count(sel, sc["groups"], n) - count
        mean = _means(sc["values"][ok], sc["groups"][ok], count, n)
        means[p] = np.where(sc["mixed"] | (count == 0), np.nan, mean)
        out[f"ts_{p}_mean"] = _none(means[p])
    before = means["before"]
    for name, p in EFFECTS.items():
        x = means[p]
        with np.errstate(divide="ignore", invalid="ignore"):
            absolute = options.factor * (x - before)
            percent = np.where(before == 0, np.nan, options.factor * 100.0 * (x - before) / before)
        out[f"cpm_{name}"] = _none(absolute)
        out[f"cpm_{name}_pct"] = _none(percent)
        known = ~np.isnan(before) & ~np.isnan(x)
        direction = np.where(x < before, "inhibition", np.where(x > before, "facilitation", "none"))
        out[f"cpm_{name}_direction"] = np.where(known, direction, None)
    if "stimulus_c" in ratings.columns:
        c = _numbers(ts["stimulus_c"])
        ok = ~np.isnan(c)
        medians = pd.Series(c[ok]).groupby(ts[RUN].to_numpy()[ok]).median()
        stim = np.full(n, np.nan)
        stim[medians.index.to_numpy()] = medians.to_numpy()
        out["ts_stimulus_c"] = _none(stim)
    else:
        out["ts_stimulus_c"] = [None] * n
    return out


def _cs_scores(ratings: pd.DataFrame, n: int, options: ScoringOptions) -> dict[str, Any]:
    sc = _scaled(ratings[ratings["about"] == "cold"], n, options)
    valid = ~np.isnan(sc["values"])
    count = _count(valid, sc["groups"], n)
    ok = ~sc["mixed"] & (count > 0)
    peak = reduce_groups(np.maximum, sc["values"][valid], sc["groups"][valid], n)
    return {
        "cs_scale": sc["scale"],
        "cs_range": sc["range"],
        "cs_mixed_scales": sc["mixed"],
        "cs_n": count,
        "cs_missing": _count(np.ones(len(valid), dtype=bool), sc["groups"], n) - count,
        "cs_mean": _none(np.where(ok, _means(sc["values"][valid], sc["groups"][valid], count, n), np.nan)),
        "cs_peak": _none(np.where(ok, peak, np.nan)),
    }


def _text(values: pd.Series) -> np.ndarray:
    return values.map(
        lambda v: "" if v is None or v is pd.NA or (isinstance(v, float) and v != v) else str(v)
    ).to_numpy(dtype=object)


def _calibration(events: pd.DataFrame, n: int) -> dict[str, Any]:
    value = np.full(n, np.nan)
    method = np.full(n, None, dtype=object)
    fallback = np.full(n, None, dtype=object)
    result = events[events["trial_type"] == "calibration_result"]
    result = result[~np.isnan(_numbers(result["value"]))]
    has, last = _last(result, n)
    idx = last[RUN].to_numpy()
    value[idx] = _numbers(last["value"])
    text = [m or s or "calibration_result" for m, s in zip(_text(last["method"]), _text(last["step_id"]), strict=True)]
    method[idx] = np.array(text, dtype=object)
    fallback[idx] = _flags(last["fallback"])
    variables = events[events["trial_type"] == "variable"]
    named = variables[variables["variable"].fillna("").str.contains("calib", case=False).to_numpy(dtype=bool)]
    named = named[~np.isnan(_numbers(named["value"]))]
    _, vlast = _last(named, n)
    vlast = vlast[~has[vlast[RUN].to_numpy()]]
    idx = vlast[RUN].to_numpy()
    value[idx] = _numbers(vlast["value"])
    method[idx] = np.array([f"variable {v}" for v in _text(vlast["variable"])], dtype=object)
    fallback[idx] = _flags(vlast["fallback"])
    return {"calibrated_c": _none(value), "calibration_method": method, "calibration_fallback": fallback}


def _threshold(events: pd.DataFrame, n: int) -> dict[str, Any]:
    trials = events[events["trial_type"] == "threshold_trial"]
    groups = trials[RUN].to_numpy()
    values = _numbers(trials["value"])
    ok = ~(_flags(trials["censored"]) | _flags(trials["discarded"])) & ~np.isnan(values)
    count = _count(ok, groups, n)
    hpt = np.where(count > 0, group_sums(values[ok], groups[ok], n) / np.where(count > 0, count, 1), np.nan)
    recorded = events[events["trial_type"] == "threshold_result"]
    recorded = recorded[~np.isnan(_numbers(recorded["value"]))]
    has, last = _last(recorded, n)
    rec = np.full(n, np.nan)
    rec[last[RUN].to_numpy()] = _numbers(last["value"])
    with np.errstate(invalid="ignore"):
        mismatch = has & (count > 0) & (np.abs(rec - hpt) > MISMATCH_TOLERANCE_C)
    return {
        "hpt_c": _none(hpt),
        "hpt_n_trials": count,
        "hpt_n_invalid": _count(np.ones(len(groups), dtype=bool), groups, n) - count,
        "hpt_result_mismatch": mismatch,
    }


def _cold_times(events: pd.DataFrame, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, trial_type in (("pdt", "cold_pain_detection"), ("ptt", "cold_pain_tolerance")):
        first = events[events["trial_type"] == trial_type].drop_duplicates(RUN, keep="first")
        idx = first[RUN].to_numpy()
        censored = _flags(first["censored"])
        value = _numbers(first["value"])
        value = np.where(np.isnan(value) & censored, _numbers(first["limit_s"]), value)
        values = np.full(n, np.nan)
        values[idx] = value
        flags = np.full(n, None, dtype=object)
        flags[idx] = censored
        out[f"{name}_s"] = _none(values)
        out[f"{name}_censored"] = flags
    return out


def _meta_columns(batch: RunBatch) -> dict[str, Any]:
    labels = [run_labels(p) for p in batch.beh_paths]
    conditions = [str(m.get("condition") or "active") for m in batch.metas]
    return {
        "participant_id": [f"sub-{m['sub']}" for m in labels],
        "session_id": [f"ses-{m['ses']}" if m["ses"] else None for m in labels],
        "task": [m["task"] for m in labels],
        "run": [int(m["run"]) if m["run"] else None for m in labels],
        "condition": [c if c in ("active", "sham", "none") else "none" for c in conditions],
        "outcome": [str(m.get("outcome") or "incomplete") for m in batch.metas],
        "recovered": [bool(m.get("recovered_from_journal", False)) for m in batch.metas],
        "protocol": [m.get("protocol") for m in batch.metas],
    }


def _flag_text(s: pd.DataFrame, legacy: np.ndarray) -> list[str | None]:
    """The flags column (as run_scores._flags): outcome, recovered, missing ratings, scales, baselines, format."""
    missing = sum(s[f"ts_{p}_missing"] for p in PHASES)
    has_ts = (sum(s[f"ts_{p}_n"] for p in PHASES) + missing) > 0
    checks_ts = has_ts & ~s["ts_mixed_scales"].astype(bool)
    before, during, after = (s[f"ts_{p}_mean"] for p in PHASES)
    conditioned = during.notna() | after.notna()
    columns = [
        s["outcome"].where(s["outcome"] != "completed"),
        np.where(s["recovered"].astype(bool), "recovered", None),
        np.where((missing + s["cs_missing"]) > 0, "missing_ratings", None),
        np.where(s["ts_mixed_scales"].astype(bool), "mixed_scales", None),
        np.where(s["cs_mixed_scales"].astype(bool), "cs_mixed_scales", None),
        np.where(checks_ts & before.isna(), "no_baseline", None),
        np.where(checks_ts & during.isna() & after.isna(), "no_conditioned_ratings", None),
        np.where(checks_ts & (before == 0) & conditioned, "zero_baseline", None),
        np.where(s["hpt_result_mismatch"].fillna(False).astype(bool), "threshold_result_mismatch", None),
        np.where(legacy, "old_events_format", None),
    ]
    table = zip(*(list(c) for c in columns), strict=True)
    return [";".join(f for f in row if isinstance(f, str)) or None for row in table]


def score_batch(batch: RunBatch, options: ScoringOptions, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the batch's score rows (the given columns, untyped) and its plateau table (with run_index)."""
    n = len(batch.beh_paths)
    plateaus = plateau_table(batch.events, batch.samples)
    scores: dict[str, Any] = {
        **_meta_columns(batch),
        **_ts_scores(batch.ratings, n, options),
        **_cs_scores(batch.ratings, n, options),
        **_calibration(batch.events, n),
        **_threshold(batch.events, n),
        **_cold_times(batch.events, n),
        "covas_n_plateaus": np.bincount(plateaus[RUN].to_numpy(), minlength=n),
    }
    frame = pd.DataFrame(
        {k: pd.Series(v.tolist() if isinstance(v, np.ndarray) else v, dtype=object) for k, v in scores.items()}
    )
    legacy = batch.legacy_events
    for c in ("hpt_c", "hpt_n_trials", "hpt_n_invalid", "hpt_result_mismatch"):
        frame.loc[legacy, c] = None  # which trials were censored or discarded is not in the file: do not guess
    for c in ("pdt_censored", "ptt_censored", "calibration_fallback"):
        frame.loc[legacy, c] = None
    frame["flags"] = _flag_text(frame, legacy)
    frame["sign_convention"] = options.sign
    return frame.reindex(columns=columns), plateaus
