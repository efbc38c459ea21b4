"""The group tables as cpmlab computed them before they were vectorised: the reference for test_group_fast.

A verbatim copy of cpmlab/scoring/group.py and retest.py (their loops of pandas calls per
participant and group); tests compare the grouped implementation with it on random datasets.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpmlab.scoring.columns import MEASURES
from cpmlab.scoring.icc import icc_with_ci, sem_srd
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.stats import mean_ci, natural_key, paired_tests

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


K_SESSIONS = 2


def _bare(session_id: str) -> str:
    return session_id[4:] if session_id.startswith("ses-") else session_id


def _pick(part: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame | None:
    """Return the two session rows of one participant's series in pair order, or None if there are not two."""
    if options.retest_sessions is None:
        ordered = part.iloc[sorted(range(len(part)), key=lambda i: natural_key(part["session_id"].iloc[i]))]
        return ordered.iloc[:K_SESSIONS] if len(ordered) >= K_SESSIONS else None
    bare = part["session_id"].map(_bare)
    rows = [part[bare == label] for label in options.retest_sessions]
    if any(r.empty for r in rows):
        return None
    return pd.concat(rows)


def retest_pairs(long: pd.DataFrame, options: ScoringOptions | None = None) -> pd.DataFrame:
    """Return each participant's retest pair of session values per task, condition, measure and range."""
    options = options or ScoringOptions()
    cols = ["participant_id", *KEYS, "session_1", "session_2", "value_1", "value_2"]
    rows = []
    for (pid, task, cond, measure, rng), part in session_values(long).groupby(["participant_id", *KEYS], sort=True):
        pair = _pick(part, options)
        if pair is None:
            continue
        rows.append(
            {
                "participant_id": pid,
                "task": task,
                "condition": cond,
                "measure": measure,
                "range": rng,
                "session_1": pair["session_id"].iloc[0] or None,
                "session_2": pair["session_id"].iloc[1] or None,
                "value_1": float(pair["value"].iloc[0]),
                "value_2": float(pair["value"].iloc[1]),
            }
        )
    return order_rows(pd.DataFrame(rows, columns=cols), ["participant_id"])


def _labels(part: pd.DataFrame) -> str:
    def one(column: str) -> str:
        return ",".join(sorted(set(part[column].fillna("n/a")), key=natural_key))

    return f"{one('session_1')} | {one('session_2')}"


def retest_table(pairs: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    """Return ICC(3,1) and ICC(2,1) with 95% CIs, SEM and SRD per task, condition, measure, range (n >= 2)."""
    cols = [
        *KEYS,
        "n",
        "sessions",
        "icc_3_1",
        "icc_3_1_ci_low",
        "icc_3_1_ci_high",
        "icc_2_1",
        "icc_2_1_ci_low",
        "icc_2_1_ci_high",
        "sd_pooled",
        "sem_3_1",
        "srd_3_1",
        "sem_2_1",
        "srd_2_1",
        "sign_convention",
    ]
    rows = []
    for (task, cond, measure, rng), part in pairs.groupby(KEYS, sort=True):
        if len(part) < 2:
            continue
        matrix = part[["value_1", "value_2"]].to_numpy(dtype=float)
        result = icc_with_ci(matrix)
        sd = float(np.std(matrix, ddof=1))
        sem31, srd31 = sem_srd(sd, result["icc_3_1"])
        sem21, srd21 = sem_srd(sd, result["icc_2_1"])
        rows.append(
            {
                "task": task,
                "condition": cond,
                "measure": measure,
                "range": rng,
                "n": len(part),
                "sessions": _labels(part),
                **result,
                "sd_pooled": sd,
                "sem_3_1": sem31,
                "srd_3_1": srd31,
                "sem_2_1": sem21,
                "srd_2_1": srd21,
                "sign_convention": options.sign,
            }
        )
    return order_rows(pd.DataFrame(rows, columns=cols), [])
