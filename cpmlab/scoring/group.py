"""Participant and group summaries of the CPM effects, and the active-versus-sham contrast."""

from __future__ import annotations

import pandas as pd

from cpmlab.scoring.columns import MEASURES
from cpmlab.scoring.options import ScoringOptions

GROUPS = ("active", "sham", "none")


def long_scores(sessions: pd.DataFrame) -> pd.DataFrame:
    """Return one row per session and measure with a value: participant, session, condition, range, value."""
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


def _describe(values: pd.Series, options: ScoringOptions) -> dict[str, float | int | None]:
    v = values.astype(float)
    n = len(v)
    return {
        "n": n,
        "mean": float(v.mean()) if n else None,
        "sd": float(v.std(ddof=1)) if n > 1 else None,
        "median": float(v.median()) if n else None,
        "prop_inhibition": float(((options.factor * v) < 0).mean()) if n else None,
    }


def _with_overall(long: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([long.assign(group=long["condition"]), long.assign(group="overall")], ignore_index=True)


def participant_summary(long: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    """Return n, mean, SD, median and proportion with inhibition per participant, group, measure, range."""
    cols = [
        "participant_id",
        "group",
        "measure",
        "range",
        "n",
        "n_sessions",
        "mean",
        "sd",
        "median",
        "prop_inhibition",
        "sign_convention",
    ]
    rows = []
    for (pid, group, measure, rng), part in _with_overall(long).groupby(
        ["participant_id", "group", "measure", "range"], sort=True
    ):
        d = _describe(part["value"], options)
        rows.append(
            {
                "participant_id": pid,
                "group": group,
                "measure": measure,
                "range": rng,
                **d,
                "n_sessions": d["n"],
                "sign_convention": options.sign,
            }
        )
    return _order(pd.DataFrame(rows, columns=cols), ["participant_id"])


def group_summary(long: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    """Return n, mean, SD, median and proportion with inhibition per group (each participant counted once)."""
    cols = [
        "group",
        "measure",
        "range",
        "n",
        "n_sessions",
        "mean",
        "sd",
        "median",
        "prop_inhibition",
        "sign_convention",
    ]
    rows = []
    for (group, measure, rng), part in _with_overall(long).groupby(["group", "measure", "range"], sort=True):
        per_participant = part.groupby("participant_id", sort=True)["value"].mean()
        rows.append(
            {
                "group": group,
                "measure": measure,
                "range": rng,
                **_describe(per_participant, options),
                "n_sessions": len(part),
                "sign_convention": options.sign,
            }
        )
    return _order(pd.DataFrame(rows, columns=cols), [])


def _order(df: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    if df.empty:
        return df
    rank = {g: i for i, g in enumerate((*GROUPS, "overall"))}
    mrank = {m: i for i, m in enumerate(MEASURES)}
    df = df.assign(_g=df["group"].map(rank), _m=df["measure"].map(mrank))
    return (
        df.sort_values([*first, "_g", "_m", "range"], kind="stable").drop(columns=["_g", "_m"]).reset_index(drop=True)
    )


def active_sham_contrast(long: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    """Return the paired active-minus-sham difference per measure over participants who have both."""
    cols = ["measure", "range", "n", "mean_active", "mean_sham", "mean_diff", "sd_diff", "sign_convention"]
    rows = []
    for (measure, rng), part in long.groupby(["measure", "range"], sort=True):
        means = part.groupby(["participant_id", "condition"], sort=True)["value"].mean().unstack()
        if "active" not in means or "sham" not in means:
            continue
        paired = means[["active", "sham"]].dropna()
        if paired.empty:
            continue
        diff = paired["active"] - paired["sham"]
        rows.append(
            {
                "measure": measure,
                "range": rng,
                "n": len(paired),
                "mean_active": float(paired["active"].mean()),
                "mean_sham": float(paired["sham"].mean()),
                "mean_diff": float(diff.mean()),
                "sd_diff": float(diff.std(ddof=1)) if len(diff) > 1 else None,
                "sign_convention": options.sign,
            }
        )
    df = pd.DataFrame(rows, columns=cols)
    if df.empty:
        return df
    mrank = {m: i for i, m in enumerate(MEASURES)}
    return df.assign(_m=df["measure"].map(mrank)).sort_values(["_m", "range"]).drop(columns="_m").reset_index(drop=True)
