"""A stimulus the thermode does not accept ends the session as a fault: one thermode fault with
cause stimulus_refused, every device aborted, no stimulus stages and no rating for that trial."""

from __future__ import annotations

import pytest
from helpers import make_run

from cpmlab.core import events as ev
from cpmlab.engine import SessionOutcome

SPEED = 50.0

SEQUENTIAL = """
steps:
  - {type: thermal, id: ts, target_c: 44, baseline_c: 32, ramp_c_per_s: 4, return_c_per_s: 4, plateau_s: 5}
  - {type: rating, id: r, rates: ts, timeout_s: 10}
  - {type: marker, id: after, name: after}
"""

DURING_IMMERSION = """
steps:
  - type: parallel
    id: p
    steps:
      - {type: immersion, id: cp, setpoint_c: 7, duration_s: 20, max_s: 30, settle_tolerance_c: 0.2}
      - type: block
        steps:
          - {type: wait, id: w, duration_s: 2}
          - {type: thermal, id: ts, target_c: 44, baseline_c: 32, ramp_c_per_s: 4, return_c_per_s: 4, plateau_s: 5}
          - {type: rating, id: r, rates: ts, timeout_s: 10}
"""


@pytest.mark.parametrize("body", [SEQUENTIAL, DURING_IMMERSION], ids=["sequential", "during_immersion"])
def test_a_refused_stimulus_is_a_fault_without_a_rating(body: str) -> None:
    """Refused: outcome fault, one fault (thermode, stimulus_refused, the step id), aborts, no rating."""
    run = make_run(body, speed=SPEED)
    run.thermode.refuse_stimuli = True
    try:
        outcome = run.engine.run()
    finally:
        run.thermode.close()
    assert outcome == SessionOutcome.FAULT
    faults = run.of(ev.FAULT)
    assert len(faults) == 1, [f.data for f in faults]
    assert faults[0].data["device"] == "thermode" and faults[0].data["cause"] == "stimulus_refused"
    assert faults[0].data["step_id"] == "ts" and "refused" in faults[0].data["message"]
    assert not run.of(ev.STIMULUS) and not run.of(ev.RATING)
    assert not run.of(ev.STEP_START, step_id="after")
    assert any(name == "abort" for name, _ in run.thermode.calls)
    assert run.of(ev.CONTROL, action="abort", source="device")
    assert run.of(ev.SESSION_END)[0].data["outcome"] == "fault"


def test_a_stimulus_ended_by_an_emergency_stop_is_not_a_refusal() -> None:
    """The stop's own abort makes a slow-starting stimulus fail (a Medoc in its pre-test): the
    session is emergency-stopped, and no stimulus_refused fault is journaled."""
    run = make_run(SEQUENTIAL, speed=SPEED)
    thermode = run.thermode
    plain_stimulate = thermode.stimulate

    def stopped_while_starting(stimulus: object) -> None:
        run.engine.emergency_stop(source="test")
        thermode.refuse_stimuli = True  # the device reports the aborted start as not taken
        plain_stimulate(stimulus)  # type: ignore[arg-type]

    thermode.stimulate = stopped_while_starting  # type: ignore[method-assign]
    try:
        outcome = run.engine.run()
    finally:
        thermode.close()
    assert outcome == SessionOutcome.EMERGENCY_STOPPED
    assert not [f for f in run.of(ev.FAULT) if f.data.get("cause") == "stimulus_refused"]
