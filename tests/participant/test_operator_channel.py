"""Operator presses answer the participant's pending wait (pain detected, hand out) and are always reported."""

from __future__ import annotations

import threading
import time

from cpmlab.core.clock import now
from cpmlab.participant.operator import OperatorResponses
from cpmlab.participant.simulated import ParticipantModel, SimulatedParticipant


def silent() -> tuple[OperatorResponses, list[tuple[str, str, float, bool]]]:
    presses: list[tuple[str, str, float, bool]] = []
    inner = SimulatedParticipant(ParticipantModel(answers=False))
    return OperatorResponses(inner, lambda *a: presses.append(a)), presses


def test_a_press_answers_the_pending_wait_with_its_own_time() -> None:
    """A 'pain detected' press 0.1 s into a 5 s wait ends it at once and returns the press time."""
    channel, presses = silent()
    box: list[float | None] = []
    started = now()
    waiter = threading.Thread(target=lambda: box.append(channel.wait_for_response(5.0, "cold_detection")))
    waiter.start()
    time.sleep(0.1)
    t = now()
    assert channel.press("pain_detected", "cold_detection", t)
    waiter.join(2.0)
    assert not waiter.is_alive() and box == [t]
    assert now() - started < 1.0
    assert presses == [("pain_detected", "cold_detection", t, True)]


def test_a_press_for_something_else_is_reported_but_does_not_answer() -> None:
    """A 'hand out' press while pain detection is awaited, or with no wait at all, is only reported."""
    channel, presses = silent()
    assert not channel.press("hand_withdrawn_early", "withdrawal", now())
    box: list[float | None] = []
    waiter = threading.Thread(target=lambda: box.append(channel.wait_for_response(0.3, "cold_detection")))
    waiter.start()
    time.sleep(0.05)
    assert not channel.press("tolerance_reached", "withdrawal", now())
    waiter.join(2.0)
    assert box == [None]
    assert [p[3] for p in presses] == [False, False]


def test_other_waits_go_straight_to_the_participant() -> None:
    """Heat-threshold waits are not relayed: an operator cannot feel the heat for the participant."""
    channel, _ = silent()
    assert not channel.press("pain_detected", "heat_threshold", now())
    assert channel.wait_for_response(0.05, "heat_threshold") is None
