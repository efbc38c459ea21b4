"""Whole sessions through the real display: ratings round-trip into _beh.tsv; a display crash holds the session."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pandas as pd
import pytest
from sessions import display_session

from cpmlab.app.session import PreparedSession, SessionSpec
from cpmlab.core import events as ev
from cpmlab.core.clock import now
from cpmlab.display import SimulatedDisplayParticipant
from cpmlab.storage.journal import read_journal

SPEED = 5.0


@pytest.mark.parametrize("mode", ["keyboard", "mouse"])
def test_ratings_round_trip_into_beh_tsv(tmp_path: Path, mode: str) -> None:
    """Each answer typed or clicked into the screens lands in _beh.tsv with its value, device and RT."""
    session = display_session(tmp_path, speed=SPEED, mode=mode)
    assert str(session.run()) == "completed"
    rows = session.beh()
    planned = session.participant.planned
    assert (
        [r["step_id"] for r in rows]
        == [p["step_id"] for p in planned]
        == ["ts_vas", "ts_nrs", "ts_cat", "ts_missed", "cs", "cs"]
    )
    for row, plan in zip(rows, planned, strict=True):
        if plan["value"] is None:
            assert row["rating"] == "n/a" and row["response_time"] == "n/a" and row["input"] == "none"
            continue
        value = float(row["rating"])
        if row["scale"] == "vas" and mode == "keyboard":
            assert value == round(plan["value"]), (row, plan)  # arrow keys move in whole points
        else:
            assert abs(value - plan["value"]) <= 0.15, (row, plan)  # a pixel of the line is < 0.15 points
        assert row["input"] == mode
        # stamped when the input arrives: the injected RT plus a frame or so (loose: CPU load)
        assert 0 <= float(row["response_time"]) - plan["rt_s"] < 0.1 * SPEED, (row, plan)
    assert rows[3]["step_id"] == "ts_missed" and rows[3]["rating"] == "n/a"  # timeout: missing, never 0
    assert rows[2]["category"] == ["none", "mild", "moderate", "severe"][int(float(rows[2]["rating"]))]
    records = session.records()
    onsets = [r["t"] for r in records if r["kind"] == ev.RATING_ONSET]
    assert onsets == [p["onset_t"] for p in planned]  # the flip time the display stamped, unchanged
    samples = [r for r in records if r["kind"] == ev.CONTINUOUS_SAMPLE]
    assert len(samples) >= 0.9 * (5 / SPEED) * 30
    assert samples[0]["value"] is None and samples[-1]["value"] is not None  # hidden until touched


def test_display_crash_mid_session_holds_until_the_screen_is_back(tmp_path: Path) -> None:
    """Killing the display mid-session (console flow): fault within 1 s, the session held, the lost rating
    shown again after the restart and answered there (never missing), the operator resumes after the release."""
    killed_at: list[float] = []
    faults: list[tuple[float, str]] = []
    released = threading.Event()
    session = display_session(tmp_path, speed=SPEED, seed=5, on_fault=lambda m: faults.append((now(), m)))
    channel = session.participant.channel

    def on_fault(message: str) -> None:  # as PreparedSession wires it
        faults.append((now(), message))
        session.bus.emit(ev.FAULT, device="display", message=message)
        session.engine.hold(message, source="display")

    def on_restored(message: str) -> None:  # the console: the operator resumes once the screen is back
        session.engine.release(message, "display")
        released.set()
        threading.Timer(0.3, session.engine.resume, args=("operator",)).start()

    channel.on_fault, channel.on_restored, channel.auto_restart = on_fault, on_restored, True
    faults.clear()

    def kill_after_first_rating(event: ev.Event) -> None:
        if event.kind == ev.RATING and event.data.get("step_id") == "ts_vas" and not killed_at:
            killed_at.append(now())
            os.kill(channel.pid, signal.SIGKILL)  # type: ignore[arg-type]

    session.bus.subscribe(kill_after_first_rating)
    assert str(session.run()) == "completed"
    assert killed_at and len(faults) == 1 and released.is_set()
    assert faults[0][0] - killed_at[0] < 1.0, "the crash was noticed too late"
    assert "display process exited" in faults[0][1]
    rows = session.beh()
    assert [r["step_id"] for r in rows] == ["ts_vas", "ts_nrs", "ts_cat", "ts_missed", "cs", "cs"]
    assert rows[0]["rating"] != "n/a"  # answered before the crash
    assert rows[1]["rating"] != "n/a"  # lost with the display: shown again and answered, never missing
    assert rows[4]["rating"] != "n/a" and rows[5]["rating"] != "n/a"
    records = session.records()
    assert [r["kind"] for r in records].count(ev.SESSION_END) == 1
    controls = [(r["action"], r["source"]) for r in records if r["kind"] == ev.CONTROL]
    assert controls == [("hold", "display"), ("release", "display"), ("resume", "operator")]
    release = next(r for r in records if r["kind"] == ev.CONTROL and r["action"] == "release")
    assert "interrupted screen again" in release["reason"]
    hold = next(r for r in records if r["kind"] == ev.CONTROL and r["action"] == "hold")
    after = [r for r in records if r["seq"] > hold["seq"] and r["kind"] == ev.STEP_START]
    assert after and after[0]["t"] > release["t"], "a step started while the session was held"
    events_tsv = pd.read_csv(next(session.paths.beh_dir.glob("*_events.tsv")), sep="\t", na_values="n/a")
    faults_tsv = events_tsv[events_tsv["trial_type"] == "fault"]
    assert (faults_tsv["device"] == "display").all()
    assert faults_tsv["detail"].str.startswith("participant display lost").any()


def test_command_line_session_resumes_by_itself_once_the_screen_is_back(tmp_path: Path) -> None:
    """PreparedSession (the command line): a killed display is restarted, the lost rating shown again, and
    the session resumes by itself, every step journaled with declared fields."""
    spec = SessionSpec(
        protocol_path=Path(__file__).resolve().parent / "ratings_only.yaml",
        participant="01",
        session="1",
        data_root=tmp_path,
        speed=SPEED,
        simulate=True,
        emulate=True,
        display=True,
        lsl=False,
    )
    prepared = PreparedSession(spec)
    channel = prepared.participant.channel  # type: ignore[union-attr]
    killed: list[int] = []

    def kill_at_second_rating(event: ev.Event) -> None:
        if event.kind == ev.RATING and event.data.get("step_id") == "general" and not killed:
            killed.append(channel.pid)
            os.kill(channel.pid, signal.SIGKILL)

    prepared.bus.subscribe(kill_at_second_rating)
    result = prepared.run()
    assert str(result.outcome) == "completed" and killed
    ratings = result.written.ratings if result.written is not None else None
    assert ratings is not None and ratings["rating"].notna().all(), "a rating lost with the display went missing"
    records = list(read_journal(result.paths.journal))
    controls = [(r["action"], r["source"]) for r in records if r["kind"] == ev.CONTROL]
    assert controls == [("hold", "display"), ("release", "display"), ("resume", "display back")]


def test_session_spec_display_wiring(tmp_path: Path) -> None:
    """SessionSpec(display=True, simulate=True) runs the screens in the display process, German protocol."""
    spec = SessionSpec(
        protocol_path=Path(__file__).resolve().parent / "ratings_only.yaml",
        participant="01",
        session="1",
        data_root=tmp_path,
        speed=SPEED,
        simulate=True,
        emulate=True,
        display=True,
        lsl=False,
    )
    prepared = PreparedSession(spec)
    participant = prepared.participant
    assert isinstance(participant, SimulatedDisplayParticipant)
    assert participant.channel.language == "de" and participant.channel.pid is not None
    result = prepared.run()
    assert str(result.outcome) == "completed"
    assert participant.channel.pid is None  # closed with the session
    ratings = result.written.ratings if result.written is not None else None
    assert ratings is not None and len(ratings) == 2
    assert set(ratings["input"]) <= {"keyboard", "mouse"} and ratings["rating"].notna().all()


def test_f12_in_the_display_window_stops_a_session(tmp_path: Path) -> None:
    """PreparedSession wiring: F12 pressed in the display window (XTEST) ends the session as emergency_stopped,
    journaled with source 'display key F12' and key F12."""
    from cpmlab.display.inject import XTestInjector

    spec = SessionSpec(
        protocol_path=Path(__file__).resolve().parent / "ratings_only.yaml",
        participant="01",
        session="1",
        data_root=tmp_path,
        speed=1.0,
        simulate=True,
        emulate=True,
        display=True,
        lsl=False,
    )
    prepared = PreparedSession(spec)
    channel = prepared.participant.channel  # type: ignore[union-attr]
    injector = XTestInjector()
    pressed: list[float] = []

    def press_at_first_rating(event: ev.Event) -> None:
        if event.kind == ev.STEP_START and event.data.get("step_id") == "general" and not pressed:
            pressed.append(now())
            injector.set_window(channel.window)
            injector.key("F12")

    prepared.bus.subscribe(press_at_first_rating)
    try:
        result = prepared.run()
    finally:
        injector.close()
    assert pressed and str(result.outcome) == "emergency_stopped"
    records = list(read_journal(result.paths.journal))
    stops = [r for r in records if r["kind"] == ev.CONTROL and r["action"] == "emergency_stop"]
    assert stops and stops[0]["source"] == "display key F12" and stops[0]["key"] == "F12"
    assert stops[0]["t"] - pressed[0] < 1.0
