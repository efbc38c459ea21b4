"""After a stop the session keeps its readings live until the probe is back at neutral, and says whether it got there."""

from __future__ import annotations

import time

from helpers import Run, make_run

from cpmlab.core import events as ev
from cpmlab.engine import SessionOutcome
from cpmlab.engine.cooldown import NEUTRAL_TOLERANCE_C, PROBE_AT_NEUTRAL, PROBE_NOT_AT_NEUTRAL

SPEED = 10.0
HOT_PLATEAU = "steps:\n  - {type: thermal, id: ts, target_c: 46, plateau_s: 20, return_c_per_s: 2}\n"


def _wait_until_hot(run: Run, hot_c: float = 44.0) -> None:
    for _ in range(1000):
        if max(run.thermode.read_temperatures().zones_c) > hot_c:
            return
        time.sleep(0.01)
    raise AssertionError("the probe never got hot")


def test_an_emergency_stop_on_a_hot_probe_waits_for_neutral_with_readings_live() -> None:
    """Stopped at 46 C: readings go on after the stop, then a probe_at_neutral marker, then the session end."""
    run = make_run(HOT_PLATEAU, speed=SPEED)
    thread = run.start()
    _wait_until_hot(run)
    run.engine.emergency_stop("test")
    thread.join(15)
    assert run.engine.outcome == SessionOutcome.EMERGENCY_STOPPED
    stop = run.of(ev.CONTROL, action="emergency_stop")[0]
    marker = run.of(ev.MARKER, name=PROBE_AT_NEUTRAL)[0]
    end = run.of(ev.SESSION_END)[0]
    assert stop.t < marker.t <= end.t
    after = [e for e in run.of(ev.READING, device="thermode") if stop.t < e.t <= marker.t]
    assert len(after) > 5 and max(after[0].data["zones_c"]) > 40  # it was hot, and the console saw it cool
    assert marker.data["max_off_c"] <= NEUTRAL_TOLERANCE_C
    assert max(run.thermode.read_temperatures().zones_c) < 32 + 1.5


def test_a_completed_session_does_not_wait() -> None:
    """A session that ran to its end has no stop to report: no marker."""
    run = make_run("steps:\n  - {type: wait, duration_s: 1}\n", speed=SPEED)
    assert run.engine.run() == SessionOutcome.COMPLETED
    assert not run.of(ev.MARKER, name=PROBE_AT_NEUTRAL) and not run.of(ev.MARKER, name=PROBE_NOT_AT_NEUTRAL)


def test_a_silent_thermode_is_reported_as_not_confirmed_at_neutral() -> None:
    """A thermode that vanished sends nothing: the session ends saying the probe is not confirmed at neutral."""
    run = make_run(HOT_PLATEAU, speed=SPEED)
    thread = run.start()
    _wait_until_hot(run)
    run.thermode.vanish()
    thread.join(15)
    marker = run.of(ev.MARKER, name=PROBE_NOT_AT_NEUTRAL)[0]
    assert marker.data["reason"] == "no readings"
    assert run.engine.outcome == SessionOutcome.FAULT
