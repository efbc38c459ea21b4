"""The display window closed or frozen: the channel notices within a second, answers at once, restarts."""

from __future__ import annotations

import os
import signal
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
    """Closing the window mid-rating: the rating returns missing, a fault within 1 s, restart() brings it back."""
    channel, faults = faulty
    first_pid = channel.pid
    run = Running(channel.rate, REQUEST)
    closed_at = now()
    assert channel.window.x_window_id is not None
    _close_window(channel.window.x_window_id)
    result = run.join(2.0)
    assert result.value is None and now() - closed_at < 1.0
    deadline = time.monotonic() + 2.0
    while not faults and time.monotonic() < deadline:
        time.sleep(0.01)
    assert faults and faults[0][0] - closed_at < 1.0 and "closed" in faults[0][1]
    assert not channel.available
    started = now()
    assert channel.rate(REQUEST).value is None  # during the outage: missing, at once
    assert channel.show_text("Press SPACE", key="space", timeout_s=None).ended_by == "timeout"
    assert channel.wait_for_response(30.0) is None
    assert now() - started < 0.2
    assert channel.restart()
    assert channel.available and channel.pid != first_pid
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
