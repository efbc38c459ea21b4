"""Test-retest reliability across sessions of the same participant in the same condition."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpmlab.scoring.columns import MEASURES
from cpmlab.scoring.icc import icc, sem_srd
from cpmlab.scoring.options import ScoringOptions

K_SESSIONS = 2


def retest_pairs(long: pd.DataFrame) -> pd.DataFrame:
    """Return each participant's first two sessions (label order) per condition, measure and range."""
    cols = ["participant_id", "condition", "measure", "range", "session_1", "session_2", "value_1", "value_2"]
    if long.empty:
        return pd.DataFrame(columns=cols)
    per_session = (
        long.groupby(["condition", "measure", "range", "participant_id", "session_id"], sort=True)["value"]
        .mean()
        .reset_index()
    )  # runs of one session are averaged
    rows = []
    for (cond, measure, rng, pid), part in per_session.groupby(
        ["condition", "measure", "range", "participant_id"], sort=True
    ):
        if len(part) < K_SESSIONS:
            continue
        first = part.iloc[:K_SESSIONS]
        rows.append(
            {
                "participant_id": pid,
                "condition": cond,
                "measure": measure,
                "range": rng,
                "session_1": first["session_id"].iloc[0] or None,
                "session_2": first["session_id"].iloc[1] or None,
                "value_1": float(first["value"].iloc[0]),
                "value_2": float(first["value"].iloc[1]),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def retest_table(pairs: pd.DataFrame, options: ScoringOptions) -> pd.DataFrame:
    """Return ICC(3,1), ICC(2,1), SEM and SRD per condition, measure and range (n >= 2 participants)."""
    cols = [
        "condition",
        "measure",
        "range",
        "n",
        "k",
        "sessions",
        "icc_3_1",
        "icc_2_1",
        "sd_pooled",
        "sem_3_1",
        "srd_3_1",
        "sem_2_1",
        "srd_2_1",
        "sign_convention",
    ]
    rows = []
    for (cond, measure, rng), part in pairs.groupby(["condition", "measure", "range"], sort=True):
        if len(part) < 2:
            continue
        matrix = part[["value_1", "value_2"]].to_numpy(dtype=float)
        result = icc(matrix)
        sd = float(np.std(matrix, ddof=1))
        sem31, srd31 = sem_srd(sd, result["icc_3_1"])
        sem21, srd21 = sem_srd(sd, result["icc_2_1"])
        labels = " | ".join(",".join(sorted(set(part[c].fillna("n/a")))) for c in ("session_1", "session_2"))
        rows.append(
            {
                "condition": cond,
                "measure": measure,
                "range": rng,
                "n": len(part),
                "k": K_SESSIONS,
                "sessions": labels,
                **result,
                "sd_pooled": sd,
                "sem_3_1": sem31,
                "srd_3_1": srd31,
                "sem_2_1": sem21,
                "srd_2_1": srd21,
                "sign_convention": options.sign,
            }
        )
    df = pd.DataFrame(rows, columns=cols)
    if df.empty:
        return df
    mrank = {m: i for i, m in enumerate(MEASURES)}
    return (
        df.assign(_m=df["measure"].map(mrank))
        .sort_values(["condition", "_m", "range"])
        .drop(columns="_m")
        .reset_index(drop=True)
    )
