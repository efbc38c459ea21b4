"""The display window closed or frozen: the channel notices within a second, answers at once, restarts."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from display_helpers import Running

from cpmlab.core.clock import now
from cpmlab.display.channel import DisplayChannel
from cpmlab.display.inject import XTestInjector
from cpmlab.participant.channel import RatingRequest

REQUEST = RatingRequest("nrs", "How painful is it?", ("no pain", "worst pain imaginable"), timeout_s=10.0)


@pytest.fixture
def faulty() -> Iterator[tuple[DisplayChannel, list[tuple[float, str]]]]:
    faults: list[tuple[float, str]] = []
    channel = DisplayChannel(size=(800, 600), position=(0, 0), on_fault=lambda m: faults.append((now(), m)))
    try:
        yield channel, faults
    finally:
        channel.close()


def _close_window(window_id: int) -> None:
    """Ask the window to close as a window manager does (WM_DELETE_WINDOW)."""
    from Xlib import X, display, protocol

    d = display.Display()
    window = d.create_resource_object("window", window_id)
    wm_protocols, wm_delete = d.intern_atom("WM_PROTOCOLS"), d.intern_atom("WM_DELETE_WINDOW")
    event = protocol.event.ClientMessage(
        window=window, client_type=wm_protocols, data=(32, [wm_delete, X.CurrentTime, 0, 0, 0])
    )
    window.send_event(event, event_mask=X.NoEventMask)
    d.sync()
    d.close()


def _answer(channel: DisplayChannel, key: str) -> float | None:
    injector = XTestInjector()
    try:
        run = Running(channel.rate, REQUEST)
        assert run.onset is not None and run.onset.window is not None
        injector.set_window(run.onset.window)
        injector.key(key)
        injector.key("return")
        return run.join().value
    finally:
        injector.close()


def test_window_closed_mid_rating(faulty: tuple[DisplayChannel, list[tuple[float, str]]]) -> None:
    """Closing the window mid-rating: a fault within 1 s, and the rating is never answered as missing.

    The call waits through the outage; once a display is back it shows the same rating again
    (a second onset), and the participant's answer there is the result.
    """
    channel, faults = faulty
    first_pid = channel.pid
    restored: list[str] = []
    channel.on_restored = restored.append
    run = Running(channel.rate, REQUEST)
    closed_at = now()
    assert channel.window.x_window_id is not None
    _close_window(channel.window.x_window_id)
    deadline = time.monotonic() + 2.0
    while not faults and time.monotonic() < deadline:
        time.sleep(0.01)
    assert faults and faults[0][0] - closed_at < 1.0 and "closed" in faults[0][1]
    assert not channel.available
    time.sleep(0.5)
    assert run.thread.is_alive(), "a lost rating screen must not be answered as a timeout or missing"
    first_onset = run.onset
    assert channel.restart()
    assert channel.available and channel.pid != first_pid
    deadline = time.monotonic() + 5.0
    while run.onset is first_onset and time.monotonic() < deadline:
        time.sleep(0.01)
    assert run.onset is not first_onset, "the interrupted rating was not shown again"
    assert restored and "interrupted screen again" in restored[0]
    injector = XTestInjector()
    try:
        assert run.onset is not None and run.onset.window is not None
        injector.set_window(run.onset.window)
        injector.key("4")
        injector.key("return")
    finally:
        injector.close()
    assert run.join().value == 4.0


def test_requests_during_an_outage_wait_for_the_display(
    faulty: tuple[DisplayChannel, list[tuple[float, str]]],
) -> None:
    """With no display up, a screen waits for one; a key listener waits only until its own deadline."""
    channel, faults = faulty
    assert channel.pid is not None
    os.kill(channel.pid, signal.SIGKILL)
    deadline = time.monotonic() + 3.0
    while not faults and time.monotonic() < deadline:
        time.sleep(0.01)
    assert faults and not channel.available
    started = now()
    assert channel.wait_for_response(0.5) is None
    assert 0.45 < now() - started < 1.0
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(channel.show_text("Press SPACE", key="space", timeout_s=None)))
    thread.start()
    time.sleep(0.3)
    assert thread.is_alive() and not box
    channel.cancel()
    thread.join(2.0)
    assert box and box[0].ended_by == "aborted"  # type: ignore[attr-defined]
    assert channel.restart()
    assert _answer(channel, "4") == 4.0


def test_frozen_display_is_a_fault(faulty: tuple[DisplayChannel, list[tuple[float, str]]]) -> None:
    """A display that stops responding (process frozen) is reported within about a second and replaced."""
    channel, faults = faulty
    pid = channel.pid
    assert pid is not None
    frozen_at = now()
    os.kill(pid, signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 3.0
        while not faults and time.monotonic() < deadline:
            time.sleep(0.01)
        assert faults and "stopped responding" in faults[0][1]
        assert faults[0][0] - frozen_at < channel.heartbeat_timeout_s + 0.3
    finally:
        os.kill(pid, signal.SIGCONT)
    assert channel.restart() and channel.pid != pid
    assert _answer(channel, "9") == 9.0
