"""Test-retest reliability: same participant, same task, same condition, two sessions.

Sessions sort in natural order (ses-2 before ses-10). The pair is each participant's first two
sessions with the score, or the two sessions named by ScoringOptions.retest_sessions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpmlab.scoring.group import KEYS, order_rows, session_values
from cpmlab.scoring.icc import icc_with_ci, sem_srd
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.stats import natural_key

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
