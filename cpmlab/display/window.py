"""How the display process opens its window: options, PsychoPy preferences, the X connection, the parent check."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cpmlab.display.session_key import SessionKey


@dataclass
class DisplayOptions:
    """How to open the window and where the engine is."""

    connect: str
    key: SessionKey
    screen: int = 0
    fullscreen: bool = False
    size: tuple[int, int] = (1024, 768)
    pos: tuple[int, int] | None = None
    parent_pid: int | None = None
    font: str = "DejaVu Sans"
    language: str = "en"  # of the display's own texts when the engine is gone


def configure_psychopy() -> None:
    """Set PsychoPy preferences before its visual module loads: no audio, no network checks."""
    os.environ.setdefault("PSYCHOPY_NO_UPDATE_CHECK", "1")
    from psychopy import prefs

    prefs.hardware["audioLib"] = []  # the display never plays sound; skip PTB/portaudio probing
    prefs.general["winType"] = "pyglet"
    for key in ("allowUsageStats", "checkForUpdates"):
        if key in prefs.connections:
            prefs.connections[key] = False
    from psychopy import logging as plog

    plog.console.setLevel(plog.ERROR)


def x_connection(window: Any) -> tuple[Any, int | None]:
    """Return the window's Xlib display and its socket (None, None when not on X11)."""
    try:
        from pyglet.libs.x11 import xlib

        display = window._x_display
        return display, int(xlib.XConnectionNumber(display))
    except Exception:
        return None, None


def parent_alive(parent_pid: int) -> bool:
    """Whether the process that started this one still runs (we are re-parented once it is gone)."""
    return os.getppid() == parent_pid


def never_grab(window: Any) -> None:
    """Keep a pyglet X11 window from grabbing the pointer or keyboard (its full screen grabs the pointer).

    The console's emergency-stop button must take a click whatever window is full screen; the
    display reads its own input through focus and normal events only.
    """
    try:
        from pyglet.libs.x11 import xlib

        display = window._x_display
    except Exception:
        return  # not X11: nothing grabs here

    def no_grab() -> None:
        window._applied_mouse_exclusive = window._applied_keyboard_exclusive = False

    window._update_exclusivity = no_grab
    xlib.XUngrabPointer(display, xlib.CurrentTime)
    xlib.XUngrabKeyboard(display, xlib.CurrentTime)
    xlib.XFlush(display)
