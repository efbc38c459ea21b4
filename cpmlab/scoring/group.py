"""Participant and group summaries of the CPM effects per task and condition, and the active-versus-sham contrast.

Nothing is pooled across tasks (paradigms) or conditions. Runs of one session are averaged
into a session value; a participant's value is the mean of their session values.
"""

from __future__ import annotations

import pandas as pd

from cpmlab.scoring.columns import MEASURES
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


def _prop_inhibition(values: pd.Series, options: ScoringOptions) -> float | None:
    return float(((options.factor * values.astype(float)) < 0).mean()) if len(values) else None


def participant_summary(long: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    """Return sessions, mean, SD and median of each participant's session values per task, condition, measure, range."""
    cols = ["participant_id", *KEYS, "n_sessions", "mean", "sd", "median", "sign_convention"]
    rows = []
    for (pid, task, cond, measure, rng), part in session_values(long).groupby(["participant_id", *KEYS], sort=True):
        v = part["value"].astype(float)
        rows.append(
            {
                "participant_id": pid,
                "task": task,
                "condition": cond,
                "measure": measure,
                "range": rng,
                "n_sessions": len(v),
                "mean": float(v.mean()),
                "sd": float(v.std(ddof=1)) if len(v) > 1 else None,
                "median": float(v.median()),
                "sign_convention": options.sign,
            }
        )
    return order_rows(pd.DataFrame(rows, columns=cols), ["participant_id"])


def group_summary(long: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    """Return n, mean with its 95% t CI, SD, median and proportion with inhibition per task and condition.

    Each participant counts once, with the mean of their sessions.
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
    rows = []
    for (task, cond, measure, rng), part in session_values(long).groupby(KEYS, sort=True):
        per_participant = part.groupby("participant_id", sort=True)["value"].mean()
        ci = mean_ci(per_participant.to_numpy(dtype=float))
        rows.append(
            {
                "task": task,
                "condition": cond,
                "measure": measure,
                "range": rng,
                "n": len(per_participant),
                "n_sessions": len(part),
                **ci,
                "median": float(per_participant.median()),
                "prop_inhibition": _prop_inhibition(per_participant, options),
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
        extra["_c"] = df["condition"].map({c: i for i, c in enumerate(CONDITIONS)})
    extra["_m"] = df["measure"].map({m: i for i, m in enumerate(MEASURES)})
    keys = [*first, "task", *extra, "range"]
    df = df.assign(**extra)
    return df.sort_values(keys, kind="stable").drop(columns=list(extra)).reset_index(drop=True)


def active_sham_contrast(long: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    """Return active minus sham per task, measure and range, paired by participant, with t, Wilcoxon, CI and dz."""
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
    values = session_values(long)
    for (task, measure, rng), part in values.groupby(["task", "measure", "range"], sort=True):
        means = part.groupby(["participant_id", "condition"], sort=True)["value"].mean().unstack()
        if "active" not in means or "sham" not in means:
            continue
        paired = means[["active", "sham"]].dropna()
        if paired.empty:
            continue
        diff = (paired["active"] - paired["sham"]).to_numpy(dtype=float)
        rows.append(
            {
                "task": task,
                "measure": measure,
                "range": rng,
                "n": len(paired),
                "mean_active": float(paired["active"].mean()),
                "mean_sham": float(paired["sham"].mean()),
                **paired_tests(diff),
                "sign_convention": options.sign,
            }
        )
    df = pd.DataFrame(rows, columns=cols)
    if not df.empty:
        df["df"] = df["df"].astype("Int64")
    return order_rows(df, [])
