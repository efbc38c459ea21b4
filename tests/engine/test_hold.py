"""Holding the session while the participant display is lost: nothing new starts, resume waits for the display."""

from __future__ import annotations

import threading

import pytest
from helpers import make_run

from cpmlab.core import events as ev
from cpmlab.engine import SessionOutcome
from cpmlab.engine.steps import cold

SPEED = 10.0
BODY = """\
steps:
  - {type: wait, id: w, duration_s: 2}
  - {type: thermal, id: heat, baseline_c: 32, target_c: 40, plateau_s: 1}
"""


def test_hold_blocks_the_next_stimulus_until_release_and_resume() -> None:
    """A hold during a wait keeps the next stimulus from starting; the operator's resume is refused while held."""
    run = make_run(BODY, speed=SPEED)
    thread = run.start()
    run.wait_for(ev.STEP_START, step_id="w")
    run.engine.hold("participant display lost: the display window was closed")
    threading.Event().wait(0.6)  # the wait (0.2 s real) would have ended
    assert not run.of(ev.STEP_START, step_id="heat") and not run.of(ev.STIMULUS)
    run.engine.resume("operator")
    threading.Event().wait(0.2)
    assert run.engine.state == "paused" and not run.of(ev.STIMULUS)
    assert any("resume refused" in e.data["text"] for e in run.of(ev.NOTE))
    run.engine.release("participant display back and showing the interrupted screen again")
    threading.Event().wait(0.3)
    assert run.engine.state == "paused" and not run.of(ev.STIMULUS), "the operator resumes after a release"
    run.engine.resume("operator")
    thread.join(10)
    assert run.engine.outcome == SessionOutcome.COMPLETED
    controls = [(e.data["action"], e.data["source"]) for e in run.of(ev.CONTROL)]
    assert controls == [("hold", "display"), ("release", "display"), ("resume", "operator")]
    assert run.of(ev.CONTROL, action="hold")[0].data["reason"].startswith("participant display lost")


def test_release_can_resume_by_itself() -> None:
    """The command line's release resumes at once and journals who resumed."""
    run = make_run(BODY, speed=SPEED)
    thread = run.start()
    run.wait_for(ev.STEP_START, step_id="w")
    run.engine.hold("participant display lost")
    run.engine.hold("participant display lost")  # a second loss report changes nothing
    run.engine.release("participant display back", resume=True)
    thread.join(10)
    assert run.engine.outcome == SessionOutcome.COMPLETED
    assert [e.data["action"] for e in run.of(ev.CONTROL)] == ["hold", "release", "resume"]
    assert run.of(ev.CONTROL, action="resume")[0].data["source"] == "display back"


def test_hold_during_a_stimulus_lets_the_device_finish_it() -> None:
    """A hold while the thermode runs a stimulus neither stops nor stretches it (the device times it)."""
    run = make_run(BODY.replace("duration_s: 2", "duration_s: 0"), speed=SPEED)
    thread = run.start()
    run.wait_for(ev.STIMULUS, stage="ramp_start")
    run.engine.hold("participant display lost")
    end = run.wait_for(ev.STIMULUS, stage="end", timeout_s=5.0)
    start = run.of(ev.STIMULUS, stage="ramp_start")[0]
    assert end.t - start.t < 3.0
    run.engine.release("back", resume=True)
    thread.join(10)
    assert run.engine.outcome == SessionOutcome.COMPLETED


def test_emergency_stop_journals_the_key() -> None:
    """An emergency stop from the display's F12 is journaled with its source and key."""
    run = make_run(BODY, speed=SPEED)
    thread = run.start()
    run.wait_for(ev.STEP_START, step_id="w")
    run.engine.emergency_stop("display key F12", key="F12")
    thread.join(10)
    stop = run.of(ev.CONTROL, action="emergency_stop")[0]
    assert stop.data["source"] == "display key F12" and stop.data["key"] == "F12"
    assert run.engine.outcome == SessionOutcome.EMERGENCY_STOPPED


@pytest.mark.parametrize("first", ["limit timer", "step wait"])
def test_a_tolerance_lost_with_the_display_is_unknown_not_censored(first: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The display lost while awaiting the withdrawal: the immersion ends at its hard maximum, and the
    tolerance is journaled as unknown (display_lost), not as the participant lasting the whole time,
    whichever of the limit timer and the step's own wait ends the immersion first."""
    run = make_run(
        """
        steps:
          - {type: immersion, id: cs, setpoint_c: 10, duration_s: 20, max_s: 20, until_withdrawal: true}
          - {type: marker, id: after, name: after}
        """,
        speed=40.0,
    )

    def lost_display(timeout_s: float, what: str = "withdrawal", on_onset: object = None) -> float | None:
        run.engine.hold("participant display lost", source="display")
        threading.Event().wait(timeout_s)  # the channel waits for a display until the deadline
        if first == "limit timer":
            threading.Event().wait(0.3)  # the step's wait comes back well after the limit
        return None

    if first == "step wait":  # the limit timer fires well after the step's own end
        monkeypatch.setattr(cold, "LimitTimer", lambda delay_s, fn: threading.Timer(delay_s + 0.3, fn))

    run.participant.wait_for_response = lost_display  # type: ignore[method-assign]
    thread = run.start()
    tolerance = run.wait_for(ev.MEASURE, measure="cold_pain_tolerance", timeout_s=10)
    assert tolerance.data["value"] is None and tolerance.data["display_lost"] is True
    assert tolerance.data["censored"] is False
    end = run.wait_for(ev.IMMERSION, stage="immersion_end")
    assert end.data.get("censored") is not True
    threading.Event().wait(0.3)
    assert not run.of(ev.STEP_START, step_id="after"), "the next step started while held"
    run.engine.release("display back", resume=True)
    thread.join(10)
    assert run.engine.outcome == SessionOutcome.COMPLETED
