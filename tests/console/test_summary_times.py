"""The summary lists faults and operator controls at protocol time, as the event log and BIDS onsets do."""

from __future__ import annotations

import json
from pathlib import Path

from cpmlab.console.worker import _journal_lines


def test_fault_and_control_times_are_protocol_seconds(tmp_path: Path) -> None:
    """At speed 20, a fault 1.5 real seconds after the start is listed at +30.0 s."""
    journal = tmp_path / "j.jsonl"
    records = [
        {"kind": "session_start", "t": 100.0, "speed": 20},
        {"kind": "fault", "t": 101.5, "device": "thermode", "message": "no data"},
        {"kind": "control", "t": 102.0, "action": "abort", "source": "operator", "reason": "test"},
    ]
    journal.write_text("".join(json.dumps(r) + "\n" for r in records))
    faults, controls = _journal_lines(journal)
    assert faults == ["+30.0 s  thermode: no data"]
    assert controls == ["+40.0 s  abort by operator: test"]
