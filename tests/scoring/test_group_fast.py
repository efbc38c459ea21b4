"""The grouped participant, group, contrast and retest tables equal the per-participant loops they replaced."""

from __future__ import annotations

import group_reference as reference
import numpy as np
import pandas as pd
import pytest

from cpmlab.scoring import group, retest
from cpmlab.scoring.columns import MEASURES
from cpmlab.scoring.options import ScoringOptions

OPTIONS = [
    ScoringOptions(),
    ScoringOptions(sign="inhibition-positive"),
    ScoringOptions(retest_sessions=("2", "10")),
    ScoringOptions(retest_sessions=("10", "1")),
]
SESSIONS = ["ses-1", "ses-2", "ses-10", "ses-3", None]


def _sessions(seed: int, participants: int, max_sessions: int = 5, conditions: int = 4) -> pd.DataFrame:
    """Return a random session table typed as the scoring types it (missing values, tasks, conditions, ranges)."""
    rng = np.random.default_rng(seed)
    labels = SESSIONS + [f"ses-{k}" for k in range(4, max_sessions)]
    rows = []
    for p in range(participants):
        for ses in rng.choice(np.array(labels, dtype=object), size=rng.integers(1, max_sessions), replace=False):
            for task in ("cpmparallel", "cpmsequential")[: rng.integers(1, 3)]:
                for run in range(1, int(rng.integers(2, 4))):
                    row = {
                        "participant_id": f"sub-{p:03d}",
                        "session_id": ses,
                        "task": task,
                        "run": run,
                        "condition": rng.choice(np.array(["active", "sham", "none", None][:conditions], dtype=object)),
                        "ts_range": rng.choice(np.array(["0-100", "0-10", None], dtype=object), p=[0.6, 0.3, 0.1]),
                    }
                    for m in MEASURES:
                        row[m] = None if rng.random() < 0.15 else float(rng.normal(-5, 10)) / 3
                    rows.append(row)
    df = pd.DataFrame(rows)
    for c in ("participant_id", "session_id", "task", "condition", "ts_range"):
        df[c] = df[c].astype("string")
    df["run"] = df["run"].astype("Int64")
    for m in MEASURES:
        df[m] = df[m].astype(float)
    return df


def _assert_same_tables(sessions: pd.DataFrame, options: ScoringOptions) -> None:
    long = group.long_scores(sessions)
    for name in ("participant_summary", "group_summary", "active_sham_contrast"):
        expected = getattr(reference, name)(long, options)
        pd.testing.assert_frame_equal(getattr(group, name)(long, options), expected, check_exact=True, obj=name)
    expected_pairs = reference.retest_pairs(long, options)
    pairs = retest.retest_pairs(long, options)
    pd.testing.assert_frame_equal(pairs, expected_pairs, check_exact=True, obj="retest_pairs")
    expected_retest = reference.retest_table(expected_pairs, options)
    pd.testing.assert_frame_equal(retest.retest_table(pairs, options), expected_retest, check_exact=True)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("options", OPTIONS, ids=["default", "sign-flip", "retest-2-10", "retest-10-1"])
def test_grouped_tables_equal_the_reference_on_random_datasets(seed: int, options: ScoringOptions) -> None:
    """Random datasets (missing values, ses-1/2/3/10 and none, two tasks, three conditions, two ranges) agree exactly."""
    _assert_same_tables(_sessions(seed, participants=25), options)


@pytest.mark.parametrize("options", OPTIONS, ids=["default", "sign-flip", "retest-2-10", "retest-10-1"])
def test_one_participant_equals_the_reference(options: ScoringOptions) -> None:
    """A dataset of one participant gives the reference's tables (most of them empty or of n = 1)."""
    for seed in range(4):
        _assert_same_tables(_sessions(seed, participants=1), options)


def test_participants_with_many_sessions_equal_the_reference() -> None:
    """Groups of more than seven sessions (summed by pandas' own call) agree exactly as well."""
    sessions = _sessions(11, participants=20, max_sessions=24, conditions=2)
    largest = group.session_values(group.long_scores(sessions)).groupby(["participant_id", *group.KEYS]).size().max()
    assert largest > 7
    _assert_same_tables(sessions, ScoringOptions())


def test_no_scores_give_the_reference_empty_tables() -> None:
    """A session table without a single value gives the same empty tables (same columns and types)."""
    sessions = _sessions(2, participants=4)
    for m in MEASURES:
        sessions[m] = np.nan
    _assert_same_tables(sessions, ScoringOptions())
    _assert_same_tables(sessions.iloc[0:0], ScoringOptions())


def test_differing_value_is_caught() -> None:
    """The comparison can fail: one changed session value changes the participant table."""
    sessions = _sessions(4, participants=6)
    long = group.long_scores(sessions)
    changed = long.copy()
    changed.loc[0, "value"] += 1e-9
    with pytest.raises(AssertionError):
        pd.testing.assert_frame_equal(
            group.participant_summary(changed, ScoringOptions()),
            reference.participant_summary(long, ScoringOptions()),
            check_exact=True,
        )
