"""Participant and group summaries of the CPM effects per task and condition, and the active-versus-sham contrast.

Nothing is pooled across tasks (paradigms) or conditions. Runs of one session are averaged
into a session value; a participant's value is the mean of their session values.

Every table is computed with grouped operations over all rows at once (group_arrays.py); the
statistics that need a distribution (t quantiles, Wilcoxon) are called once per row of the group tables.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from cpmlab.scoring.columns import MEASURES
from cpmlab.scoring.group_arrays import (
    group_bounds,
    optional,
    series_means,
    series_medians,
    series_sds,
)
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.stats import mean_ci, paired_tests

CONDITIONS = ("active", "sham", "none")
KEYS = ["task", "condition", "measure", "range"]


def long_scores(sessions: pd.DataFrame) -> pd.DataFrame:
    """Return one row per run and measure with a value: participant, session, task, run, condition, range, value."""
    cols = ["participant_id", "session_id", "task", "run", "condition", "range", "measure", "value"]
    if sessions.empty:
        return pd.DataFrame(columns=cols)
    base = sessions.rename(columns={"ts_range": "range"})
    base = base.assign(session_id=base["session_id"].fillna(""), run=base["run"].fillna(0))
    parts = []
    for m in MEASURES:
        part = base[["participant_id", "session_id", "task", "run", "condition", "range"]].copy()
        part["measure"] = m
        part["value"] = pd.to_numeric(base[m], errors="coerce").astype(float)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out[out["value"].notna() & out["range"].notna()]
    return out.sort_values(
        ["measure", "range", "participant_id", "session_id", "task", "run"], kind="stable"
    ).reset_index(drop=True)[cols]


def session_values(long: pd.DataFrame) -> pd.DataFrame:
    """Return one value per participant, task, condition, measure, range and session (runs averaged)."""
    cols = ["participant_id", *KEYS, "session_id", "value"]
    if long.empty:
        return pd.DataFrame(columns=cols)
    grouped = long.groupby(["participant_id", *KEYS, "session_id"], sort=True, observed=True)["value"].mean()
    return grouped.reset_index()[cols]


def participant_summary(
    long: pd.DataFrame, options: ScoringOptions, values: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return sessions, mean, SD and median of each participant's session values per task, condition, measure, range.

    values: session_values(long), when already computed.
    """
    cols = ["participant_id", *KEYS, "n_sessions", "mean", "sd", "median", "sign_convention"]
    values = session_values(long) if values is None else values  # sorted by participant, KEYS and session
    if values.empty:
        return pd.DataFrame([], columns=cols)
    ids = values.groupby(["participant_id", *KEYS], sort=True, observed=True).ngroup().to_numpy()
    starts, sizes = group_bounds(ids)
    v = values["value"].to_numpy(dtype=float)
    means = series_means(v, sizes)
    # the types pd.DataFrame(list of row dicts) gives these columns, without making 40,000 rows of Python values
    out = values[["participant_id", *KEYS]].take(starts).reset_index(drop=True).astype("str")
    out["n_sessions"] = sizes.astype(np.int64)
    out["mean"] = means
    sds = series_sds(v, sizes, means)
    # as a column of Python values is typed: floats (NaN where undefined), objects (None) when all are undefined
    out["sd"] = np.array(optional(sds), dtype=object) if np.isnan(sds).all() else sds
    out["median"] = series_medians(v, sizes)
    out["sign_convention"] = pd.Series([options.sign] * len(sizes), dtype="str")
    return order_rows(out[cols], ["participant_id"])


def participant_means(values: pd.DataFrame) -> pd.DataFrame:
    """Return each participant's mean of their session values per task, condition, measure and range.

    Sorted by task, condition, measure, range, then participant. The rows are put in that order
    first (sessions keep theirs): pandas sums sorted groups with another reduction than unsorted
    ones, and a groupby over one task-condition's rows, as the tables once did, sees them sorted.
    """
    ordered = values.sort_values([*KEYS, "participant_id"], kind="stable")
    means = ordered.groupby([*KEYS, "participant_id"], sort=True, observed=True)["value"].mean()
    return means.reset_index()


def group_summary(
    long: pd.DataFrame,
    options: ScoringOptions,
    values: pd.DataFrame | None = None,
    means: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return n, mean with its 95% t CI, SD, median and proportion with inhibition per task and condition.

    Each participant counts once, with the mean of their sessions. values and means: session_values(long)
    and participant_means(values), when already computed.
    """
    cols = [
        *KEYS,
        "n",
        "n_sessions",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "median",
        "prop_inhibition",
        "sign_convention",
    ]
    values = session_values(long) if values is None else values
    if values.empty:
        return pd.DataFrame([], columns=cols)
    n_sessions = values.groupby(KEYS, sort=True, observed=True).size()
    rows = []
    means = participant_means(values) if means is None else means
    for key, part in means.groupby(KEYS, sort=True, observed=True):  # one per output row
        per_participant = part["value"].reset_index(drop=True)
        rows.append(
            {
                **dict(zip(KEYS, key, strict=True)),
                "n": len(per_participant),
                "n_sessions": int(n_sessions[key]),
                **mean_ci(per_participant.to_numpy(dtype=float)),
                "median": float(per_participant.median()),
                "prop_inhibition": float(((options.factor * per_participant) < 0).mean()),
                "sign_convention": options.sign,
            }
        )
    return order_rows(pd.DataFrame(rows, columns=cols), [])


def order_rows(df: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    """Sort by the leading columns, task, condition (active, sham, none), measure (MEASURES order), range."""
    if df.empty:
        return df
    extra = {}
    if "condition" in df:
        extra["_c"] = _positions(df["condition"], CONDITIONS)
    extra["_m"] = _positions(df["measure"], MEASURES)
    keys = [*first, "task", *extra, "range"]
    df = df.assign(**extra)
    return df.sort_values(keys, kind="stable").drop(columns=list(extra)).reset_index(drop=True)


def _positions(column: pd.Series, order: Iterable[str]) -> pd.Series:
    """Return each value's position in order (NaN when absent), as Series.map(dict) would, without its cost."""
    at = {value: float(i) for i, value in enumerate(order)}
    return pd.Series([at.get(v, np.nan) for v in column.tolist()], index=column.index, dtype=float)


def active_sham_contrast(
    long: pd.DataFrame,
    options: ScoringOptions,
    values: pd.DataFrame | None = None,
    means: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return active minus sham per task, measure and range, paired by participant, with t, Wilcoxon, CI and dz.

    values and means: session_values(long) and participant_means(values), when already computed.
    """
    cols = [
        "task",
        "measure",
        "range",
        "n",
        "mean_active",
        "mean_sham",
        "mean_diff",
        "sd_diff",
        "diff_ci_low",
        "diff_ci_high",
        "t",
        "df",
        "p_t",
        "wilcoxon_w",
        "p_wilcoxon",
        "dz",
        "sign_convention",
    ]
    rows = []
    if means is None:
        means = participant_means(session_values(long) if values is None else values)
    means = means.set_index(["task", "measure", "range", "participant_id"])
    active = means.loc[means["condition"] == "active", "value"].rename("active")
    sham = means.loc[means["condition"] == "sham", "value"].rename("sham")
    both = pd.concat([active, sham], axis=1, join="inner").sort_index()  # participants with both, in order
    for (task, measure, rng), paired in both.groupby(level=[0, 1, 2], sort=True):  # one per output row
        a = paired["active"].to_numpy(dtype=float)
        s = paired["sham"].to_numpy(dtype=float)
        rows.append(
            {
                "task": task,
                "measure": measure,
                "range": rng,
                "n": len(paired),
                "mean_active": float(pd.Series(a).mean()),
                "mean_sham": float(pd.Series(s).mean()),
                **paired_tests(a - s),
                "sign_convention": options.sign,
            }
        )
    df = pd.DataFrame(rows, columns=cols)
    if not df.empty:
        df["df"] = df["df"].astype("Int64")
    return order_rows(df, [])
