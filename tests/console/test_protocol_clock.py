"""The console's one clock and its countdowns, fed by events (no Qt): protocol time, pauses, the display's countdown."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from cpmlab.console.countdown import current_countdown, format_countdown
from cpmlab.console.progress import SessionProgress, build_occurrences
from cpmlab.console.protocol_clock import ProtocolClock
from cpmlab.core.events import Event
from cpmlab.display.specs import CountdownSpec
from cpmlab.display.text_screens import CountdownScreen
from cpmlab.protocol.loader import load_protocol

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "protocols" / "cpm_sequential.yaml"


def test_protocol_time_is_the_onset_time_base_and_pauses_are_intervals() -> None:
    """(t - start) x speed as the BIDS onsets; a pause or hold stops the shown clock until resume, not release."""
    clock = ProtocolClock()
    assert clock.at(5.0) == 0.0 and not clock.started
    clock.on_event(Event("session_start", 100.0, {"speed": 4}))
    assert clock.at(102.5) == 10.0 and clock.stamp(102.5) == "0:10"
    clock.on_event(Event("control", 103.0, {"action": "hold", "source": "display"}))
    assert clock.paused and clock.shown_s(105.0) == 12.0 and clock.at(105.0) == 20.0
    assert clock.paused_for_s(105.0) == 8.0
    clock.on_event(Event("control", 104.0, {"action": "release", "source": "display"}))
    assert clock.paused  # released but not resumed: the engine stays paused
    clock.on_event(Event("control", 106.0, {"action": "resume", "source": "console"}))
    assert not clock.paused and clock.shown_s(107.0) == clock.at(107.0) == 28.0
    assert clock.paused_total_s(107.0) == 12.0
    assert clock.since(102.0, 107.0) == 20.0 and clock.since(102.0, 107.0, pausable=True) == 8.0
    clock.on_event(Event("control", 108.0, {"action": "pause", "source": "console"}))
    clock.on_event(Event("session_end", 109.0, {"outcome": "aborted"}))
    assert not clock.paused and clock.at(200.0) == 36.0 and clock.paused_total_s(200.0) == 16.0


def fake_ctx() -> SimpleNamespace:
    """Just enough of the display's drawing context for a CountdownScreen to count (no window)."""

    def text(value: str, *args: object, **kwargs: object) -> SimpleNamespace:
        return SimpleNamespace(text=value)

    return SimpleNamespace(text=text, rect=lambda *a, **k: SimpleNamespace(), half_len=0.5)


@pytest.mark.parametrize("speed", [1.0, 7.0, 40.0])
def test_immersion_countdown_is_the_participants_second_for_second(speed: float) -> None:
    """From the same immersion_start onset, console and participant display show the same remaining time."""
    occ = build_occurrences(load_protocol(PROTOCOL))
    cs = next(o for o in occ if o.kind == "immersion")
    p = SessionProgress(occ, speed)
    p.on_event(Event("session_start", 0.0, {"speed": speed}))
    p.on_event(Event("step_start", 1.0, {"path": cs.path}))
    assert current_countdown(p, 1.5) is None  # bath settling: nothing counts down yet
    onset = 2.0
    p.on_event(Event("immersion", onset, {"stage": "immersion_start", "step_id": "cs"}))
    screen = CountdownScreen(fake_ctx(), CountdownSpec(duration_s=60.0 / speed, time_scale=speed), None)
    screen.start(onset)
    for protocol_s in (0.0, 0.01, 0.99, 1.0, 17.3, 59.2, 59.99, 60.0, 75.0):
        t = onset + protocol_s / speed
        screen.update(t, set())
        down = current_countdown(p, t)
        assert down is not None and down.participant_sees and not down.upper_bound
        assert down.remaining_s == pytest.approx(max(60.0 - protocol_s, 0.0))
        assert format_countdown(down.remaining_s) == screen.clock.text, protocol_s
    p.on_event(Event("control", onset + 0.5, {"action": "pause"}))
    assert current_countdown(p, onset + 1.0).remaining_s == pytest.approx(60.0 - speed)  # the immersion runs on
    p.on_event(Event("immersion", onset + 1.0, {"stage": "immersion_end"}))
    assert current_countdown(p, onset + 1.1) is None


def test_a_text_less_wait_counts_its_drawn_length_and_freezes_while_paused() -> None:
    """The random wait counts down from its 'wait' marker's length; paused, it stands still; resumed, it goes on."""
    occ = build_occurrences(load_protocol(PROTOCOL))
    wait = next(o for o in occ if o.kind == "wait" and o.step is not None and not o.step.text)
    p = SessionProgress(occ, 2.0)
    p.on_event(Event("session_start", 0.0, {"speed": 2}))
    p.on_event(Event("step_start", 10.0, {"path": wait.path, "rep": wait.rep}))
    p.on_event(Event("marker", 10.0, {"name": "wait", "duration_s": 24.0}))
    down = current_countdown(p, 12.0)
    assert down is not None and down.what == "wait" and down.remaining_s == 20.0 and not down.upper_bound
    position = p.position_s(12.0)
    p.on_event(Event("control", 12.0, {"action": "pause"}))
    frozen = current_countdown(p, 15.0)
    assert frozen is not None and frozen.frozen and frozen.remaining_s == 20.0 and frozen.text == "0:20 left (paused)"
    assert p.position_s(15.0) == position and p.clock.shown_s(15.0) == 24.0
    p.on_event(Event("control", 16.0, {"action": "resume"}))
    assert current_countdown(p, 17.0).remaining_s == 18.0 and not current_countdown(p, 17.0).frozen


def test_a_wait_with_participant_text_is_not_frozen() -> None:
    """A wait showing text ends on the display's own timeout: a pause does not stop its countdown."""
    occ = build_occurrences(load_protocol(PROTOCOL))
    rest = next(o for o in occ if o.step_id == "after_cs_rest")
    p = SessionProgress(occ, 1.0)
    p.on_event(Event("session_start", 0.0, {"speed": 1}))
    p.on_event(Event("step_start", 10.0, {"path": rest.path}))
    p.on_event(Event("control", 11.0, {"action": "pause"}))
    down = current_countdown(p, 15.0)
    assert down is not None and not down.frozen and down.remaining_s == 25.0


def test_next_step_is_expected_when_the_drawn_wait_ends() -> None:
    """Once a random wait's length is drawn, 'Next' counts to its end, not to the 30 s maximum."""
    occ = build_occurrences(load_protocol(PROTOCOL))
    wait = next(o for o in occ if o.kind == "wait" and o.step is not None and not o.step.text)
    p = SessionProgress(occ, 1.0)
    p.on_event(Event("session_start", 0.0, {"speed": 1}))
    p.on_event(Event("step_start", 10.0, {"path": wait.path, "rep": wait.rep}))
    assert "when this step ends" in p.next_text(10.0)
    p.on_event(Event("marker", 10.0, {"name": "wait", "duration_s": 24.0}))
    assert p.next_text(14.0).endswith(" in 0:20")
    assert p.remaining_s(14.0) == p.total_s - wait.start_s - 4.0 - 6.0


def test_next_and_countdown_round_alike() -> None:
    """Mid-second, the running wait's countdown and the next step's 'in' show the same second."""
    occ = build_occurrences(load_protocol(PROTOCOL))
    wait = next(o for o in occ if o.kind == "wait" and o.step is not None and not o.step.text)
    p = SessionProgress(occ, 1.0)
    p.on_event(Event("session_start", 0.0, {"speed": 1}))
    p.on_event(Event("step_start", 10.0, {"path": wait.path, "rep": wait.rep}))
    p.on_event(Event("marker", 10.0, {"name": "wait", "duration_s": 24.0}))
    down = current_countdown(p, 11.4)
    assert down is not None and down.text == "0:23 left" and p.next_text(11.4).endswith(" in 0:23")
