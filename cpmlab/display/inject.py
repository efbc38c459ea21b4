"""Real keyboard and mouse input for the display window, for simulated participants and tests.

XTestInjector sends input through the X server's XTEST extension (the mechanism xdotool
uses, called in-process through python-xlib, a PsychoPy dependency: about 0.1 ms per event
against about 40 ms per xdotool process start, which matters at 30 Hz slider moves and at
speed 20). The events reach pyglet exactly as a USB keyboard's would. MessageInjector asks
the display window to dispatch the pyglet events itself: for a display on another machine
or without X; it skips only the X server and pyglet's event translation.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Protocol

import cpmlab.display.messages as m
from cpmlab.display.specs import InjectedInput, WindowInfo

X_KEYSYMS = {
    "space": "space",
    "return": "Return",
    "left": "Left",
    "right": "Right",
    "up": "Up",
    "down": "Down",
    "escape": "Escape",
}


class Injector(Protocol):
    """Press keys and click in the display window (window pixels, origin top-left)."""

    def key(self, name: str) -> None:
        """Press and release a key (cpmlab key name: space, return, left, right, 0-9)."""
        ...

    def move(self, x_px: float, y_px: float) -> None:
        """Move the pointer to a point of the window."""
        ...

    def click(self, x_px: float, y_px: float) -> None:
        """Move the pointer there and click the left button."""
        ...

    def set_window(self, window: WindowInfo) -> None:
        """Tell the injector where the display window is on the screen."""
        ...


class XTestInjector:
    """Inject input through XTEST on the X display the display process uses."""

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import display as xdisplay

        self._display = xdisplay.Display(display_name or os.environ.get("DISPLAY"))
        if not self._display.has_extension("XTEST"):
            raise RuntimeError("the X server has no XTEST extension")
        self._lock = threading.Lock()
        self._origin = (0, 0)
        self._window_id: int | None = None

    def set_window(self, window: WindowInfo) -> None:
        """Remember the window's screen position and give it the keyboard focus."""
        from Xlib import X

        self._origin = (window.x, window.y)
        window_id = window.x_window_id
        if window_id and window_id != self._window_id:
            with self._lock:
                self._display.create_resource_object("window", int(window_id)).set_input_focus(
                    X.RevertToParent, X.CurrentTime
                )
                self._display.sync()
            self._window_id = int(window_id)

    def _keycode(self, name: str) -> int:
        from Xlib import XK

        keysym = XK.string_to_keysym(X_KEYSYMS.get(name, name))
        code = self._display.keysym_to_keycode(keysym)
        if not code:
            raise ValueError(f"no key {name!r} on this X display")
        return int(code)

    def key(self, name: str) -> None:
        """Press and release a key."""
        from Xlib import X
        from Xlib.ext import xtest

        code = self._keycode(name)
        with self._lock:
            xtest.fake_input(self._display, X.KeyPress, code)
            xtest.fake_input(self._display, X.KeyRelease, code)
            self._display.sync()

    def move(self, x_px: float, y_px: float) -> None:
        """Move the pointer to a window point."""
        from Xlib import X
        from Xlib.ext import xtest

        with self._lock:
            xtest.fake_input(
                self._display, X.MotionNotify, x=round(self._origin[0] + x_px), y=round(self._origin[1] + y_px)
            )
            self._display.sync()

    def click(self, x_px: float, y_px: float) -> None:
        """Click the left button at a window point."""
        from Xlib import X
        from Xlib.ext import xtest

        self.move(x_px, y_px)
        with self._lock:
            xtest.fake_input(self._display, X.ButtonPress, 1)
            xtest.fake_input(self._display, X.ButtonRelease, 1)
            self._display.sync()

    def close(self) -> None:
        """Close the X connection."""
        self._display.close()


class MessageInjector:
    """Inject input by asking the display window to dispatch the events itself."""

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    def set_window(self, window: WindowInfo) -> None:
        """Nothing to do: coordinates are window pixels already."""

    def key(self, name: str) -> None:
        """Press and release a key."""
        self.channel.send(m.Inject(events=(InjectedInput(kind="key", key=name),)))

    def move(self, x_px: float, y_px: float) -> None:
        """Move the pointer to a window point."""
        self.channel.send(m.Inject(events=(InjectedInput(kind="move", x_px=x_px, y_px=y_px),)))

    def click(self, x_px: float, y_px: float) -> None:
        """Click at a window point."""
        self.channel.send(m.Inject(events=(InjectedInput(kind="click", x_px=x_px, y_px=y_px),)))

    def close(self) -> None:
        """Nothing to release."""


def default_injector(channel: Any) -> XTestInjector | MessageInjector:
    """Return XTEST input when this process can reach the display's X server, else message input."""
    if os.environ.get("DISPLAY") and getattr(channel, "spawn", False):
        try:
            return XTestInjector()
        except Exception:
            pass
    return MessageInjector(channel)
