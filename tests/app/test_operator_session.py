"""A whole cold-pressor session where the operator presses 'pain detected' and 'tolerance reached' for the participant."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd

from cpmlab.app.session import PreparedSession, SessionSpec
from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.participant.simulated import ParticipantModel
from cpmlab.protocols import protocol_path
from cpmlab.scoring.thresholds import cold_pressor_times
from cpmlab.storage.journal import read_journal

SPEED = 50.0


def test_operator_presses_are_scored_like_the_participants_keys(tmp_path: Path) -> None:
    """PDT and PTT come from the operator's presses (participant silent), journaled as markers with their source."""
    spec = SessionSpec(
        protocol_path=protocol_path("cold_pressor_tolerance"),
        participant="01",
        session="1",
        data_root=tmp_path,
        speed=SPEED,
        simulate=True,
        emulate=True,
        lsl=False,
        participant_model=ParticipantModel(answers=False),
        emulator_options={"cold_pressor": {"start_c": 4.0}},
        operator_responses=True,
    )
    prepared = PreparedSession(spec)
    assert prepared.responses is not None
    responses = prepared.responses

    def press(name: str, what: str) -> None:
        responses.press(name, what, now())

    def on_event(event: ev.Event) -> None:
        if event.kind == ev.IMMERSION and event.data.get("stage") == "immersion_start":
            threading.Timer(0.2, press, ("pain_detected", "cold_detection")).start()
            threading.Timer(0.6, press, ("tolerance_reached", "withdrawal")).start()

    prepared.bus.subscribe(on_event)
    result = prepared.run()
    assert str(result.outcome) == "completed"
    events = pd.read_csv(next(result.paths.beh_dir.glob("*_events.tsv")), sep="\t")
    times = cold_pressor_times(events)
    assert times["pdt_censored"] is False and times["ptt_censored"] is False
    assert abs(times["pdt_s"] - 0.2 * SPEED) < 0.15 * SPEED
    assert abs(times["ptt_s"] - 0.6 * SPEED) < 0.15 * SPEED
    markers = events[(events["trial_type"] == "marker") & (events["detail"] == "operator_response")]
    assert len(markers) == 2
    pressed = [r for r in read_journal(result.paths.journal) if r.get("name") == "operator_response"]
    assert [(r["event"], r["what"], r["accepted"], r["source"]) for r in pressed] == [
        ("pain_detected", "cold_detection", True, "operator"),
        ("tolerance_reached", "withdrawal", True, "operator"),
    ]
