"""Reading datasets from BIDS files: errors, aborted/partial/recovered sessions, and cpmlab's own writer."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from scoring_helpers import simple_session, write_specs

from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.derivatives import write_derivatives
from cpmlab.scoring.pipeline import score_dataset
from cpmlab.storage.bids import write_bids
from cpmlab.storage.paths import SessionPaths


def test_missing_folder_non_bids_folder_and_empty_dataset_are_clear_errors(tmp_path: Path) -> None:
    """No folder, no dataset_description.json, or no runs raise CpmlabError with the reason."""
    with pytest.raises(CpmlabError, match="does not exist"):
        score_dataset(tmp_path / "nope")
    (tmp_path / "plain").mkdir()
    with pytest.raises(CpmlabError, match="not a BIDS dataset"):
        score_dataset(tmp_path / "plain")
    write_specs(tmp_path / "empty", [])
    with pytest.raises(CpmlabError, match="no sessions to score"):
        score_dataset(tmp_path / "empty")


def test_unreadable_files_are_reported_with_their_path(tmp_path: Path) -> None:
    """A corrupt _beh.json or a _beh.tsv without the rating columns names the file."""
    root = write_specs(tmp_path / "ds", [simple_session("01", "1", "active", [50], [40])])
    side = next(root.rglob("*_beh.json"))
    side.write_text("{ not json")
    with pytest.raises(CpmlabError, match=side.name):
        score_dataset(root)
    side.write_text("{}")
    beh = next(root.rglob("*_beh.tsv"))
    beh.write_text("trial\tonset\n1\t0.5\n")
    with pytest.raises(CpmlabError, match="missing columns"):
        score_dataset(root)


def test_aborted_partial_and_recovered_sessions_are_flagged_and_scored_as_far_as_possible(tmp_path: Path) -> None:
    """Aborted after the baseline: baseline kept, late effect missing, flags aborted/no_conditioned_ratings."""
    specs = [
        simple_session("01", "1", "active", [50, 60], [], outcome="aborted"),
        simple_session("02", "1", "active", [50, None], [45, 35], outcome="emergency_stopped", recovered=True),
        simple_session("03", "1", "active", [], [], outcome="incomplete", cs=[]),
    ]
    s = score_dataset(write_specs(tmp_path / "ds", specs)).sessions.set_index("participant_id")
    a = s.loc["sub-01"]
    assert a["outcome"] == "aborted" and a["ts_before_mean"] == 55.0 and pd.isna(a["cpm_late"])
    assert a["flags"].split(";") == ["aborted", "no_conditioned_ratings"]
    b = s.loc["sub-02"]
    assert b["cpm_late"] == -10.0 and bool(b["recovered"])
    assert b["flags"].split(";") == ["emergency_stopped", "recovered", "missing_ratings"]
    assert s.loc["sub-03", "flags"] == "incomplete" and len(s) == 3  # never silently dropped


def _journal(path: Path) -> None:
    """Write a hand-made journal: TS 40 before, 30 after (VAS), cold NRS 6; aborted at the end."""
    recs = [
        {
            "kind": "session_start",
            "t": 100.0,
            "protocol": "cpm_sequential",
            "task": "cpmsequential",
            "speed": 1.0,
            "condition": "sham",
        }
    ]
    t = 101.0
    for phase, value in (("before", 40), ("after", 30)):
        info = {"step_id": f"ts_{phase}", "role": "test_stimulus", "phase": phase, "rep": 1, "target_c": 46.0}
        for stage in ("ramp_start", "plateau_start", "return_start", "end"):
            recs.append({"kind": "stimulus", "t": t, "stage": stage, **info})
            t += 5.0
        recs.append(
            {
                "kind": "rating",
                "t": t + 2,
                "onset_t": t,
                "value": value,
                "scale": "vas",
                "about": "heat",
                "rates": f"ts_{phase}",
                "step_id": f"ts_{phase}_rating",
                "role": "test_stimulus",
                "phase": phase,
                "rep": 1,
                "stimulus_c": 46.0,
                "rt_s": 2.0,
                "input": "simulated",
            }
        )
        t += 10
        if phase == "before":
            recs.append(
                {
                    "kind": "rating",
                    "t": t + 1,
                    "onset_t": t,
                    "value": 6,
                    "scale": "nrs",
                    "about": "cold",
                    "rates": "cs",
                    "step_id": "cs",
                    "role": "conditioning",
                    "phase": "during",
                    "rt_s": 1.0,
                    "input": "simulated",
                }
            )
            t += 10
    recs.append({"kind": "session_end", "t": t, "outcome": "aborted"})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))


def test_files_written_by_cpmlabs_own_bids_writer_are_scored(tmp_path: Path) -> None:
    """write_bids output (sham, aborted): before 40, after 30 -> late -10, -25 %, CS 6, flag aborted."""
    paths = SessionPaths.create(tmp_path / "ds", "07", "2", "cpmsequential")
    _journal(paths.journal)
    write_bids(paths)
    row = score_dataset(tmp_path / "ds").sessions.iloc[0]
    assert (row["participant_id"], row["session_id"], row["condition"], row["outcome"]) == (
        "sub-07",
        "ses-2",
        "sham",
        "aborted",
    )
    assert (row["ts_before_mean"], row["ts_after_mean"], row["cpm_late"]) == (40.0, 30.0, -10.0)
    assert row["cpm_late_pct"] == pytest.approx(-25.0)
    assert (row["cs_mean"], row["cs_range"]) == (6.0, "0-10")
    assert row["flags"] == "aborted"


def test_events_file_from_before_the_structured_columns_is_flagged_not_guessed(tmp_path: Path) -> None:
    """An _events.tsv without censored/discarded columns: ratings still score; HPT and censoring are n/a."""
    spec = simple_session("01", "1", "active", [50, 50], [40, 40], hpt_trials_c=[43.0, 44.0], pdt_s=5.0, ptt_s=130.0)
    root = write_specs(tmp_path / "ds", [spec])
    fresh = score_dataset(root).sessions.iloc[0]
    assert fresh["hpt_c"] == pytest.approx(43.5) and bool(fresh["ptt_censored"]) is True
    events_path = next(root.rglob("*_events.tsv"))
    old_columns = [
        "onset",
        "duration",
        "trial_type",
        "step_id",
        "role",
        "phase",
        "rep",
        "value",
        "stimulus_c",
        "detail",
    ]
    old = pd.read_csv(events_path, sep="\t", dtype=str, keep_default_na=False)[old_columns]
    events_path.write_text(old.to_csv(sep="\t", index=False))
    scored = score_dataset(root)
    assert write_derivatives(scored)  # n/a scores still write
    row = scored.sessions.iloc[0]
    assert row["cpm_late"] == pytest.approx(-10.0)
    assert "old_events_format" in row["flags"]
    assert pd.isna(row["hpt_c"]) and pd.isna(row["ptt_censored"]) and row["ptt_s"] == pytest.approx(120.0)
