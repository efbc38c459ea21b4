"""A separate process using plain pylsl receives every marker of a session, stamped with the event's time."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from lsl_helpers import RECEIVER, SHORT_PROTOCOL, SPEED

from cpmlab.app.session import PreparedSession, SessionSpec
from cpmlab.core.events import SAMPLE_KINDS, Event
from cpmlab.labconfig import LabConfig
from cpmlab.lsl.vocabulary import marker_name, parse_marker
from cpmlab.storage.journal import read_journal


def _session_records(journal: Path) -> list[dict]:
    """Journal records from session_start to session_end, samples left out."""
    records = list(read_journal(journal))
    start = next(i for i, r in enumerate(records) if r["kind"] == "session_start")
    end = next(i for i, r in enumerate(records) if r["kind"] == "session_end")
    return [r for r in records[start : end + 1] if r["kind"] not in SAMPLE_KINDS]


def test_third_party_receiver_gets_every_marker_at_event_time(tmp_path: Path, lab_name: str) -> None:
    """Every journaled session event arrives as a marker whose LSL time stamp is the event's time (< 1 ms)."""
    spec = SessionSpec(
        protocol_path=SHORT_PROTOCOL,
        participant="01",
        session="1",
        data_root=tmp_path,
        speed=SPEED,
        simulate=True,
        emulate=True,
        lab=LabConfig(lab=lab_name),
    )
    prepared = PreparedSession(spec)
    receiver = subprocess.Popen(
        [sys.executable, str(RECEIVER), f"cpmlab.{lab_name}.", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert receiver.stdout is not None
        assert receiver.stdout.readline().strip() == "READY"
        assert prepared.lsl is not None and prepared.lsl.wait_for_consumers(5.0)
        result = prepared.run()
        out, _ = receiver.communicate(timeout=20)
    finally:
        if receiver.poll() is None:
            receiver.kill()
    assert str(result.outcome) == "completed"
    got = json.loads(out.strip().splitlines()[-1])
    assert got["marker_type"] == "Markers" and got["marker_rate"] == 0.0

    expected = _session_records(prepared.paths.journal)
    names = Counter(marker_name(Event.from_json(r)) for r in expected)
    assert {
        "session_start",
        "session_end",
        "step_start",
        "step_end",
        "ts_ramp_start",
        "ts_plateau_start",
        "ts_return_start",
        "ts_end",
        "cs_immersion_start",
        "cs_immersion_end",
        "rating_onset",
        "rating",
        "marker",
        "variable",
    } <= set(names)
    received = [(t, *parse_marker(text)) for t, text in got["markers"]]
    unmatched = list(received)
    for r in expected:
        name = marker_name(Event.from_json(r))
        hit = next((m for m in unmatched if m[1] == name and abs(m[0] - float(r["t"])) < 0.001), None)
        assert hit is not None, f"no marker {name} at t={r['t']} ({r})"
        unmatched.remove(hit)
    lsl_streams = [f for _, n, f in received if n == "marker" and f.get("name") == "lsl_streams"]
    assert {s["name"] for s in lsl_streams[0]["streams"]} >= {"cpmlab-markers", "cpmlab-thermode", "cpmlab-bath"}

    assert got["counts"]["cpmlab-thermode"] > 50 and got["counts"]["cpmlab-bath"] >= 1
    assert got["labels"]["cpmlab-thermode"] == [
        "neutral[degC]",
        "zone1[degC]",
        "zone2[degC]",
        "zone3[degC]",
        "zone4[degC]",
        "zone5[degC]",
    ]
