"""Test and benchmark tools for the participant display: screenshots, ping round trips, raw screens.

None of these are part of a session: the engine shows screens through DisplayChannel's
participant-channel methods only.
"""

from __future__ import annotations

from pathlib import Path

import cpmlab.display.messages as m
from cpmlab.core.clock import now
from cpmlab.display.channel import DisplayChannel
from cpmlab.display.connection import OnsetCallback
from cpmlab.display.specs import ScreenSpec


def screenshot(channel: DisplayChannel, path: str | Path, timeout_s: float = 5.0) -> m.ScreenshotSaved | None:
    """Save the display's next frame as PNG at path; return its answer (geometry, window) or None."""
    if channel.connection is None:
        return None
    reply = channel.connection.request(
        m.Screenshot(path=str(Path(path).resolve())), wait_s=timeout_s, until=m.ScreenshotSaved
    )
    return reply.final if reply.status == "ok" else None


def round_trip_s(channel: DisplayChannel, timeout_s: float = 2.0) -> float | None:
    """Time one ping -> pong exchange with the display (engine clock, seconds; None if unanswered)."""
    if channel.connection is None:
        return None
    t0 = now()
    reply = channel.connection.request(m.Ping(t=t0), wait_s=timeout_s, until=m.Pong)
    return now() - t0 if reply.status == "ok" else None


def show_screen(
    channel: DisplayChannel,
    screen: ScreenSpec,
    *,
    wait_s: float | None = None,
    on_onset: OnsetCallback | None = None,
) -> m.Result | m.Onset | None:
    """Show any screen spec and return its result (held screens: their onset; None if missing)."""
    if channel.connection is None:
        return None
    until = m.Onset if screen.hold else m.Result
    reply = channel.connection.request(m.Show(screen=screen), wait_s=wait_s, until=until, on_onset=on_onset)
    return reply.final
