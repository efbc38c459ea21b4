"""_events.tsv: structured facts as columns described in the sidecar; old journals still rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cpmlab.core import events as ev
from cpmlab.core import vocabulary as voc
from cpmlab.storage.bids import write_bids
from cpmlab.storage.journal import Journal
from cpmlab.storage.paths import SessionPaths


def _session(tmp_path: Path) -> tuple[SessionPaths, Journal, ev.EventBus]:
    paths = SessionPaths.create(tmp_path / "ds", "01", "1", "cpm")
    journal = Journal(paths.journal)
    bus = ev.EventBus()
    bus.subscribe(journal, critical=True)
    bus.emit(ev.SESSION_START, t=100.0, protocol="p", task="cpm", speed=1.0, participant="01", session="1")
    return paths, journal, bus


def _events(paths: SessionPaths) -> pd.DataFrame:
    return pd.read_csv(paths.bids_file("events", ".tsv"), sep="\t", na_values="n/a", keep_default_na=False)


def test_structured_facts_become_columns_and_detail_keeps_only_free_text(tmp_path: Path) -> None:
    """censored, discarded, fallback, method, stopped_by, limit_s, ended_by get their own columns."""
    paths, journal, bus = _session(tmp_path)
    bus.emit(ev.MEASURE, t=101.0, measure="threshold_trial", value=49.0, trial=1, censored=True, discarded=True)
    bus.emit(ev.MEASURE, t=102.0, measure="calibration_result", value=46.0, method="staircase", fallback=True)
    bus.emit(ev.MEASURE, t=102.5, measure="calibration_trial", value=45.0, rating=55.0, stopped_by="reversals")
    bus.emit(ev.MEASURE, t=103.0, measure="cold_pain_detection", value=None, censored=True, limit_s=120.0, unit="s")
    bus.emit(ev.IMMERSION, t=104.0, stage="immersion_start", step_id="cs", setpoint_c=10.0)
    bus.emit(ev.IMMERSION, t=110.0, stage="immersion_end", step_id="cs", reason="hard maximum", censored=True)
    bus.emit(ev.NOTE, t=111.0, text="participant\tcoughed", source="operator")
    bus.emit(ev.FAULT, t=112.0, device="thermode", message="no reply")
    journal.close()
    write_bids(paths)
    table = _events(paths).set_index("trial_type")
    trial = table.loc["threshold_trial"]
    assert (trial["censored"], trial["discarded"], trial["trial"], trial["value"]) == (True, True, 1, 49.0)
    calibration = table.loc["calibration_result"]
    assert (calibration["method"], calibration["fallback"]) == ("staircase", True)
    assert (table.loc["calibration_trial", "rating"], table.loc["calibration_trial", "stopped_by"]) == (
        55.0,
        "reversals",
    )
    detection = table.loc["cold_pain_detection"]
    assert pd.isna(detection["value"]) and detection["censored"] and detection["limit_s"] == 120.0
    immersion = table.loc["cold_immersion"]
    assert (immersion["ended_by"], immersion["censored"], immersion["stimulus_c"]) == ("hard maximum", True, 10.0)
    assert (immersion["duration"], immersion["onset"]) == (6.0, 4.0)
    assert table.loc["note", "detail"] == "participant coughed"
    assert (table.loc["fault", "device"], table.loc["fault", "detail"]) == ("thermode", "no reply")
    assert table["detail"].dropna().tolist() == ["participant coughed", "no reply"]


def test_the_sidecar_describes_every_column_from_the_declaration(tmp_path: Path) -> None:
    """Each column of _events.tsv has a sidecar entry; declared units are stated; booleans have levels."""
    paths, journal, bus = _session(tmp_path)
    bus.emit(ev.MARKER, t=100.5, name="x", step_id="m", fields={"colour": "red"})
    journal.close()
    write_bids(paths)
    sidecar = json.loads(paths.bids_file("events", ".json").read_text())
    columns = list(_events(paths).columns)
    assert columns[:3] == ["onset", "duration", "trial_type"] and set(voc.EVENT_COLUMNS) <= set(columns)
    assert all(c in sidecar and sidecar[c]["Description"] for c in columns)
    assert sidecar["limit_s"]["Units"] == "s" and sidecar["stimulus_c"]["Units"] == "degC"
    assert set(sidecar["censored"]["Levels"]) == {"True", "False"}
    assert "threshold_trial" in sidecar["trial_type"]["Levels"]


def test_a_journal_from_an_older_version_still_rebuilds(tmp_path: Path) -> None:
    """Old records (undeclared fields, flat marker fields, no censored column) are read tolerantly."""
    paths = SessionPaths.create(tmp_path / "ds", "01", "1", "cpm")
    paths.journal.parent.mkdir(parents=True)
    old = [
        {"seq": 1, "kind": "session_start", "t": 10.0, "protocol": "p", "speed": 1.0, "retired_field": 3},
        {"seq": 2, "kind": "marker", "t": 11.0, "name": "go", "colour": "red"},
        {"seq": 3, "kind": "measure", "t": 12.0, "measure": "threshold_trial", "value": 44.0},
        {"seq": 4, "kind": "some_old_kind", "t": 13.0, "x": 1},
        {"seq": 5, "kind": "session_end", "t": 14.0, "outcome": "completed"},
    ]
    paths.journal.write_text("".join(json.dumps(r) + "\n" for r in old))
    written = write_bids(paths, recovered=True)
    table = _events(paths)
    assert written.outcome == "completed"
    assert table["trial_type"].tolist() == ["marker", "threshold_trial"]
    assert table.loc[0, "detail"] == "go" and pd.isna(table.loc[1, "censored"])
