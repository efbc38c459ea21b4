"""The summary lists faults and operator controls at protocol time, as the event log and BIDS onsets do."""

from __future__ import annotations

import json
from pathlib import Path

from cpmlab.console.worker import journal_times


def write(tmp_path: Path, records: list[dict]) -> Path:
    journal = tmp_path / "j.jsonl"
    journal.write_text("".join(json.dumps(r) + "\n" for r in records))
    return journal


def test_fault_and_control_times_are_protocol_seconds(tmp_path: Path) -> None:
    """At speed 20, a fault 1.5 real seconds after the start is listed at 0:30; the stop and end are stated."""
    journal = write(
        tmp_path,
        [
            {"kind": "session_start", "t": 100.0, "speed": 20},
            {"kind": "fault", "t": 101.5, "device": "thermode", "message": "no data"},
            {"kind": "control", "t": 102.0, "action": "abort", "source": "operator", "reason": "test"},
            {"kind": "session_end", "t": 102.5, "outcome": "aborted"},
        ],
    )
    faults, controls, clock = journal_times(journal)
    assert faults == ["0:30  thermode: no data"]
    assert controls == ["0:40  abort by operator: test"]
    assert clock == "Protocol time: stopped at 0:40, ended at 0:50; dry run ×20"


def test_pauses_count_in_the_clock_and_are_stated(tmp_path: Path) -> None:
    """A 12 s pause stays in the times (as in the BIDS onsets) and the summary says how long it paused."""
    journal = write(
        tmp_path,
        [
            {"kind": "session_start", "t": 0.0, "speed": 1},
            {"kind": "control", "t": 10.0, "action": "pause", "source": "console"},
            {"kind": "control", "t": 22.0, "action": "resume", "source": "console"},
            {"kind": "fault", "t": 30.0, "device": "bath", "message": "too warm"},
            {"kind": "session_end", "t": 31.0, "outcome": "fault"},
        ],
    )
    faults, controls, clock = journal_times(journal)
    assert faults == ["0:30  bath: too warm"]
    assert controls == ["0:10  pause by console", "0:22  resume by console"]
    assert clock == "Protocol time: stopped at 0:30, ended at 0:31 (paused 0:12 in all)"  # the fault ended it


def test_a_fault_the_session_survived_is_not_where_it_stopped(tmp_path: Path) -> None:
    """A completed session lists its recovered fault but states no stop."""
    journal = write(
        tmp_path,
        [
            {"kind": "session_start", "t": 0.0, "speed": 1},
            {"kind": "fault", "t": 5.0, "device": "display", "message": "display lost"},
            {"kind": "session_end", "t": 65.0, "outcome": "completed"},
        ],
    )
    faults, _, clock = journal_times(journal)
    assert faults == ["0:05  display: display lost"] and clock == "Protocol time: ended at 1:05"
