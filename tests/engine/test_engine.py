"""Session engine: step order and timing at a fixed speed, pause/resume, abort, emergency stop, safety."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from helpers import make_run

from cpmlab.core import events as ev
from cpmlab.engine import SessionOutcome
from cpmlab.engine.steps import cold
from cpmlab.participant.simulated import ParticipantModel

SPEED = 10.0


def protocol_s(run, a: ev.Event, b: ev.Event) -> float:
    return (b.t - a.t) * run.engine.speed


def test_steps_run_in_order_with_their_protocol_durations() -> None:
    """Steps start in file order and each takes its protocol duration at the given speed."""
    run = make_run(
        """
        steps:
          - {type: marker, id: m1, name: go}
          - {type: wait, id: w, duration_s: 4}
          - {type: thermal, id: ts, target_c: 44, baseline_c: 32, ramp_c_per_s: 4, return_c_per_s: 4, plateau_s: 5}
          - {type: rating, id: r, rates: ts, timeout_s: 10}
          - {type: marker, id: m2, name: end}
    """,
        speed=SPEED,
    )
    assert run.engine.run() == SessionOutcome.COMPLETED
    starts = [e.data["step_id"] for e in run.of(ev.STEP_START)]
    assert starts == ["m1", "w", "ts", "r", "m2"]
    w0, w1 = run.of(ev.STEP_START, step_id="w")[0], run.of(ev.STEP_END, step_id="w")[0]
    assert abs(protocol_s(run, w0, w1) - 4.0) < 1.0
    stages = {e.data["stage"]: e for e in run.of(ev.STIMULUS)}
    assert list(stages) == ["ramp_start", "plateau_start", "return_start", "end"]
    assert abs(protocol_s(run, stages["ramp_start"], stages["plateau_start"]) - 3.0) < 0.05
    assert abs(protocol_s(run, stages["plateau_start"], stages["return_start"]) - 5.0) < 0.05
    assert abs(protocol_s(run, stages["ramp_start"], stages["end"]) - 11.0) < 0.05
    # the device ran the stimulus it was given, and the rating refers to it
    ((_, stim),) = [c for c in run.thermode.calls if c[0] == "stimulate"]
    assert (stim.target_c, stim.plateau_s, stim.device_duration_s) == (44.0, 5.0, 8.0)
    rating = run.of(ev.RATING)[0]
    assert rating.data["rates"] == "ts" and rating.data["stimulus_c"] == 44.0
    assert rating.data["value"] is not None


def test_readings_are_published_while_running_only() -> None:
    """Thermode readings become events during the session and stop after it."""
    run = make_run("steps:\n  - {type: wait, duration_s: 3}\n", speed=SPEED)
    run.engine.run()
    n = len(run.of(ev.READING, device="thermode"))
    assert n > 3
    threading.Event().wait(0.2)
    assert len(run.of(ev.READING, device="thermode")) == n
    run.thermode.close()


def test_pause_suspends_waits_and_resume_continues() -> None:
    """A pause during a wait stretches it by the paused time; both controls are recorded."""
    run = make_run("steps:\n  - {type: wait, id: w, duration_s: 5}\n  - {type: marker, id: m, name: x}\n", speed=SPEED)
    thread = run.start()
    run.wait_for(ev.STEP_START, step_id="w")
    run.engine.pause()
    threading.Event().wait(0.6)
    assert not run.of(ev.STEP_START, step_id="m")
    assert run.engine.state == "paused"
    run.engine.resume()
    thread.join(5)
    w0, w1 = run.of(ev.STEP_START, step_id="w")[0], run.of(ev.STEP_END, step_id="w")[0]
    assert (w1.t - w0.t) > 0.5 + 0.5 * 5 / SPEED
    assert [e.data["action"] for e in run.of(ev.CONTROL)] == ["pause", "resume"]
    assert run.engine.outcome == SessionOutcome.COMPLETED


def test_abort_during_a_stimulus_aborts_the_thermode_and_skips_the_rest() -> None:
    """Abort sends abort to the devices, ends the session as aborted and runs nothing after."""
    run = make_run(
        """
        steps:
          - {type: thermal, id: ts, target_c: 45, plateau_s: 20}
          - {type: marker, id: after, name: never}
    """,
        speed=SPEED,
    )
    thread = run.start()
    run.wait_for(ev.STIMULUS, stage="plateau_start")
    run.engine.abort("test abort")
    thread.join(5)
    assert run.engine.outcome == SessionOutcome.ABORTED
    assert any(c[0] == "abort" for c in run.thermode.calls)
    assert not run.of(ev.STEP_START, step_id="after")
    assert run.of(ev.STEP_END, step_id="ts")[0].data["status"] == "aborted"
    assert run.of(ev.SESSION_END)[0].data["outcome"] == "aborted"


def test_emergency_stop_aborts_every_device_and_withdraws_the_hand() -> None:
    """Emergency stop during a test stimulus in parallel with immersion aborts thermode and bath at once."""
    run = make_run(
        """
        steps:
          - type: parallel
            steps:
              - {type: immersion, id: cs, setpoint_c: 10, duration_s: 60, max_s: 90}
              - {type: thermal, id: ts, target_c: 45, plateau_s: 30, phase: during}
    """,
        speed=SPEED,
    )
    thread = run.start()
    run.wait_for(ev.STIMULUS, stage="plateau_start")
    run.engine.emergency_stop("test")
    thread.join(5)
    assert not thread.is_alive()
    assert run.engine.outcome == SessionOutcome.EMERGENCY_STOPPED
    assert any(c[0] == "abort" for c in run.thermode.calls)
    assert any(c[0] == "abort" for c in run.bath.calls)
    assert run.of(ev.CONTROL, action="emergency_stop")
    assert run.of(ev.IMMERSION, stage="immersion_end")
    assert not run.bath.physics.hand_immersed


def test_parallel_block_runs_the_test_stimulus_during_immersion() -> None:
    """A thermal stimulus in a parallel block starts and ends inside the immersion window."""
    run = make_run(
        """
        steps:
          - type: parallel
            steps:
              - {type: immersion, id: cs, setpoint_c: 10, duration_s: 40, max_s: 60, ratings_at_s: [35]}
              - type: block
                steps:
                  - {type: wait, duration_s: 5}
                  - {type: thermal, id: ts, phase: during, target_c: 45, ramp_c_per_s: 5, return_c_per_s: 5, plateau_s: 10}
                  - {type: rating, rates: ts, timeout_s: 8}
    """,
        speed=SPEED,
    )
    assert run.engine.run() == SessionOutcome.COMPLETED
    i0 = run.of(ev.IMMERSION, stage="immersion_start")[0].t
    i1 = run.of(ev.IMMERSION, stage="immersion_end")[0].t
    s0 = run.of(ev.STIMULUS, stage="ramp_start")[0].t
    s1 = run.of(ev.STIMULUS, stage="end")[0].t
    assert i0 < s0 < s1 < i1
    abouts = sorted(e.data["about"] for e in run.of(ev.RATING))
    assert abouts == ["cold", "heat"]
    assert run.of(ev.RATING, about="heat")[0].data["phase"] == "during"


def test_randomised_block_is_reproducible_from_the_seed() -> None:
    """A randomised block shuffles its steps per repetition; the same seed gives the same order."""
    body = """
        steps:
          - type: block
            repeat: 4
            randomize: true
            steps:
              - {type: marker, id: a, name: a}
              - {type: marker, id: b, name: b}
              - {type: marker, id: c, name: c}
    """

    def order(seed: int) -> list[str]:
        run = make_run(body, speed=SPEED, seed=seed)
        run.engine.run()
        return [e.data["name"] for e in run.of(ev.MARKER) if e.data["name"] in "abc"]

    first = order(3)
    assert first == order(3)
    assert len(first) == 12 and sorted(first) == sorted("abc" * 4)
    assert any(order(s) != first for s in (4, 5, 6))
    assert any(first[i : i + 3] != ["a", "b", "c"] for i in range(0, 12, 3))


def test_immersion_ends_at_the_hard_maximum_when_nobody_withdraws() -> None:
    """A tolerance immersion whose participant never withdraws ends at max_s, censored."""
    run = make_run(
        """
        steps:
          - {type: immersion, id: cs, setpoint_c: 10, duration_s: 20, max_s: 20, until_withdrawal: true}
    """,
        speed=SPEED,
        model=ParticipantModel(cold_tolerance_s=500),
    )
    assert run.engine.run() == SessionOutcome.COMPLETED
    start = run.of(ev.IMMERSION, stage="immersion_start")[0]
    [end] = run.of(ev.IMMERSION, stage="immersion_end")
    assert (end.data["reason"], end.data["censored"], end.data["duration_s"]) == ("hard maximum", True, 20)
    assert protocol_s(run, start, end) == pytest.approx(20.0)
    assert run.of(ev.STEP_END, step_id="cs")[0].data["status"] == "done"


HARD_MAX_BODY = """
        steps:
          - {type: immersion, id: cs, setpoint_c: 10, duration_s: 4, max_s: 4, until_withdrawal: true}
    """


def _immersion_end_when(monkeypatch: pytest.MonkeyPatch, timer_first: bool) -> tuple[dict[str, Any], float, str]:
    """Run a tolerance immersion nobody withdraws from, with the limit timer or the step's wait forced to win."""
    run = make_run(HARD_MAX_BODY, speed=SPEED, model=ParticipantModel(cold_tolerance_s=500))
    if timer_first:  # the step's wait comes back well after the limit
        late = run.participant.wait_for_response

        def wait_late(timeout_s: float, what: str = "response") -> float | None:
            late(timeout_s, what=what)
            time.sleep(0.3)
            return None

        run.participant.wait_for_response = wait_late  # type: ignore[method-assign]
    else:  # the limit timer fires well after the step's own end

        def slow_timer(delay_s: float, fn: Any, args: Any = ()) -> threading.Timer:
            return threading.Timer(delay_s + 0.3, fn, args=args)

        monkeypatch.setattr(cold, "LimitTimer", slow_timer)
    assert run.engine.run() == SessionOutcome.COMPLETED
    start = run.of(ev.IMMERSION, stage="immersion_start")[0]
    [end] = run.of(ev.IMMERSION, stage="immersion_end")
    data = {k: v for k, v in end.data.items() if k != "t"}
    return data, protocol_s(run, start, end), run.of(ev.STEP_END, step_id="cs")[0].data["status"]


def test_the_hard_maximum_is_recorded_the_same_whichever_path_ends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Timer first or the step's own wait first: one immersion_end, censored at the limit, duration max_s, at max_s."""
    by_timer = _immersion_end_when(monkeypatch, timer_first=True)
    by_step = _immersion_end_when(monkeypatch, timer_first=False)
    assert by_timer == by_step
    data, duration_s, status = by_timer
    assert (data["reason"], data["censored"], data["duration_s"], status) == ("hard maximum", True, 4, "done")
    assert duration_s == pytest.approx(4.0)


def test_withdrawal_before_the_limit_ends_the_immersion() -> None:
    """A participant who withdraws at ~tolerance ends the immersion, not censored."""
    run = make_run(
        """
        steps:
          - {type: immersion, id: cs, setpoint_c: 10, duration_s: 90, max_s: 90, until_withdrawal: true}
    """,
        speed=SPEED,
        model=ParticipantModel(cold_tolerance_s=20),
    )
    run.engine.run()
    start, end = run.of(ev.IMMERSION, stage="immersion_start")[0], run.of(ev.IMMERSION, stage="immersion_end")[0]
    assert end.data["censored"] is False and end.data["reason"] == "withdrawal"
    assert 5 < protocol_s(run, start, end) < 40


def test_a_value_computed_past_the_limit_is_refused_before_the_device_gets_it() -> None:
    """A variable set at run time above the maximum stops the session; the thermode never sees it."""
    run = make_run(
        """
        variables: {ts_c: 44}
        steps:
          - {type: set, variable: ts_c, value: "${ts_c + 10}"}
          - {type: thermal, id: ts, target_c: "${ts_c}", plateau_s: 5}
    """,
        speed=SPEED,
    )
    assert run.engine.run() == SessionOutcome.FAILED
    assert not [c for c in run.thermode.calls if c[0] == "stimulate"]
    fault = run.of(ev.FAULT)[0]
    assert "54" in fault.data["message"] and "outside the allowed range" in fault.data["message"]


def test_missing_rating_is_recorded_as_none_never_zero() -> None:
    """A participant who does not answer gives value None after the timeout."""
    run = make_run(
        """
        steps:
          - {type: thermal, id: ts, target_c: 44, plateau_s: 1}
          - {type: rating, rates: ts, timeout_s: 3}
    """,
        speed=SPEED,
        model=ParticipantModel(answers=False),
    )
    run.engine.run()
    rating = run.of(ev.RATING)[0]
    assert rating.data["value"] is None and rating.data["rt_s"] is None


def test_device_fault_mid_session_aborts_and_is_recorded() -> None:
    """A thermode that vanishes becomes a fault event and the session ends as a fault."""
    run = make_run("steps:\n  - {type: wait, id: w, duration_s: 30}\n  - {type: marker, id: m, name: x}\n", speed=SPEED)
    thread = run.start()
    run.wait_for(ev.STEP_START, step_id="w")
    run.thermode.vanish()
    thread.join(5)
    assert run.of(ev.FAULT, device="thermode")
    assert run.engine.outcome == SessionOutcome.FAULT
    assert not run.of(ev.STEP_START, step_id="m")
