"""Test-retest reliability: same participant, same task, same condition, two sessions.

Sessions sort in natural order (ses-2 before ses-10). The pair is each participant's first two
sessions with the score, or the two sessions named by ScoringOptions.retest_sessions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cpmlab.scoring.group import KEYS, order_rows, session_values
from cpmlab.scoring.group_arrays import group_bounds, records_frame
from cpmlab.scoring.icc import icc_with_ci, sem_srd
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.stats import natural_key

K_SESSIONS = 2


def _bare(session_id: str) -> str:
    return session_id[4:] if session_id.startswith("ses-") else session_id


def _first_in_group(mask: np.ndarray, starts: np.ndarray, sizes: np.ndarray, skip: int = 0) -> np.ndarray:
    """Return, per group, the row of the (skip+1)-th True of mask in row order, or -1 if there is none."""
    rows = np.flatnonzero(mask)
    group_of = np.repeat(np.arange(len(sizes)), sizes)[rows]
    rank = np.arange(len(rows)) - np.searchsorted(group_of, group_of)  # position among the group's Trues
    out = np.full(len(sizes), -1, dtype=np.int64)
    hit = rank == skip
    out[group_of[hit]] = rows[hit]
    return out


def _natural_order(session_ids: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each group's first two rows with sessions in natural order (ties keep row order); -1 if fewer."""
    rank_of: dict[str, int] = {}
    rank, previous = -1, None
    for label in sorted(set(session_ids.tolist()), key=natural_key):
        key = natural_key(label)  # equal natural keys (ses-1, ses-01) share a rank: their row order stays
        rank += key != previous
        rank_of[label], previous = rank, key
    ranks = np.array([rank_of[s] for s in session_ids.tolist()], dtype=np.int64)
    groups = np.repeat(np.arange(len(sizes)), sizes)
    order = np.lexsort((ranks, groups))  # stable: ties stay in row (string) order
    two = sizes >= K_SESSIONS
    first = np.where(two, order[starts], -1)
    second = np.where(two, order[np.minimum(starts + 1, len(order) - 1)], -1)
    return first, second


def retest_pairs(
    long: pd.DataFrame, options: ScoringOptions | None = None, values: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return each participant's retest pair of session values per task, condition, measure and range.

    values: session_values(long), when already computed.
    """
    options = options or ScoringOptions()
    cols = ["participant_id", *KEYS, "session_1", "session_2", "value_1", "value_2"]
    values = session_values(long) if values is None else values  # sorted by participant, KEYS and session
    if values.empty:
        return pd.DataFrame([], columns=cols)
    ids = values.groupby(["participant_id", *KEYS], sort=True, observed=True).ngroup().to_numpy()
    starts, sizes = group_bounds(ids)
    session_ids = values["session_id"].to_numpy(dtype=object)
    if options.retest_sessions is None:
        first, second = _natural_order(session_ids, starts, sizes)
    else:
        bare = np.array([_bare(s) for s in session_ids.tolist()], dtype=object)
        label_1, label_2 = options.retest_sessions
        first = _first_in_group(bare == label_1, starts, sizes)
        later = _first_in_group(bare == label_2, starts, sizes)
        # the pair is the rows of label 1, then those of label 2, in row order: its second row
        again = _first_in_group(bare == label_1, starts, sizes, skip=1)
        second = np.where(later < 0, -1, np.where(again >= 0, again, later))
    keep = (first >= 0) & (second >= 0)
    first, second = first[keep], second[keep]
    v = values["value"].to_numpy(dtype=float)
    columns = {name: values[name].to_numpy(dtype=object)[first].tolist() for name in ["participant_id", *KEYS]}
    columns |= {
        "session_1": [s or None for s in session_ids[first].tolist()],
        "session_2": [s or None for s in session_ids[second].tolist()],
        "value_1": v[first].tolist(),
        "value_2": v[second].tolist(),
    }
    return order_rows(records_frame(columns, cols), ["participant_id"])


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
