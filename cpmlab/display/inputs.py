"""Keyboard and mouse input of the display window, stamped on the shared clock as it arrives.

Handlers are pushed onto the pyglet window, so every key or mouse event the X server (or a
message-injected dispatch) delivers is stamped with pylsl.local_clock when the event loop
dispatches it (resolution: one pass of the display loop, at most one frame).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cpmlab.core.clock import now
from cpmlab.display.specs import InjectedInput

KEY_ALIASES = {"enter": "return", "num_enter": "return", "escape": "escape"}
StopCallback = Callable[[str, float], None]


@dataclass(frozen=True)
class InputEvent:
    """One key or mouse event; x, y in height units (origin at the window centre, y up)."""

    kind: str  # key, key_up, move, press, release
    t: float
    device: str  # keyboard, mouse
    key: str | None = None
    x: float = 0.0
    y: float = 0.0


def key_name(symbol: int) -> str:
    """Return the lower-case cpmlab name of a pyglet key symbol (space, return, left, 5, ...)."""
    from pyglet.window import key

    name = key.symbol_string(symbol).lower()
    if name.startswith("_") and name[1:].isdigit():
        name = name[1:]
    if name.startswith("num_") and name[4:].isdigit():
        name = name[4:]
    return KEY_ALIASES.get(name, name)


def key_symbol(name: str) -> int:
    """Return the pyglet key symbol for a cpmlab key name (inverse of key_name)."""
    from pyglet.window import key

    upper = name.upper()
    if upper.isdigit():
        upper = f"_{upper}"
    if upper == "RETURN":
        return int(key.RETURN)
    return int(getattr(key, upper))


def stop_key(symbol: int, modifiers: int) -> str | None:
    """Return the emergency-stop key this press is ("F12", "Ctrl+Space"), or None."""
    from pyglet.window import key

    if symbol == key.F12:
        return "F12"
    if symbol == key.SPACE and modifiers & key.MOD_CTRL:
        return "Ctrl+Space"
    return None


class InputCollector:
    """Collect stamped input events from a pyglet window until drained; note a closed window.

    An emergency-stop key (F12, Ctrl+Space) goes to on_stop at once and never reaches a screen.
    """

    def __init__(self, window: Any, on_stop: StopCallback | None = None) -> None:
        self.window = window
        self.on_stop = on_stop
        self.events: list[InputEvent] = []
        self.held: set[str] = set()
        self.closed = False
        self.pointer: tuple[float, float] | None = None
        window.push_handlers(
            on_key_press=self._on_key_press,
            on_key_release=self._on_key_release,
            on_mouse_motion=self._on_mouse_motion,
            on_mouse_drag=self._on_mouse_drag,
            on_mouse_press=self._on_mouse_press,
            on_mouse_release=self._on_mouse_release,
            on_close=self._on_close,
        )

    def _units(self, x_px: float, y_px: float) -> tuple[float, float]:
        width, height = self.window.get_size()
        return (float(x_px) - width / 2.0) / height, (float(y_px) - height / 2.0) / height

    def _on_key_press(self, symbol: int, modifiers: int) -> bool:
        t = now()
        stop = stop_key(symbol, modifiers)
        if stop is not None:
            if self.on_stop is not None:
                self.on_stop(stop, t)
            return True
        name = key_name(symbol)
        self.held.add(name)
        self.events.append(InputEvent("key", t, "keyboard", key=name))
        return True  # handled: PsychoPy's own key buffer would only grow

    def _on_key_release(self, symbol: int, modifiers: int) -> bool:
        if stop_key(symbol, modifiers) is not None:
            return True
        name = key_name(symbol)
        self.held.discard(name)
        self.events.append(InputEvent("key_up", now(), "keyboard", key=name))
        return True

    def _mouse(self, kind: str, x_px: float, y_px: float) -> bool:
        x, y = self._units(x_px, y_px)
        self.pointer = (x, y)
        self.events.append(InputEvent(kind, now(), "mouse", x=x, y=y))
        return True

    def _on_mouse_motion(self, x: float, y: float, dx: float, dy: float) -> bool:
        return self._mouse("move", x, y)

    def _on_mouse_drag(self, x: float, y: float, dx: float, dy: float, buttons: int, modifiers: int) -> bool:
        return self._mouse("move", x, y)

    def _on_mouse_press(self, x: float, y: float, button: int, modifiers: int) -> bool:
        return self._mouse("press", x, y)

    def _on_mouse_release(self, x: float, y: float, button: int, modifiers: int) -> bool:
        return self._mouse("release", x, y)

    def _on_close(self) -> bool:
        self.closed = True
        return True  # keep the GL window alive; the display loop exits cleanly

    def drain(self) -> list[InputEvent]:
        """Return and forget the events collected so far."""
        events, self.events = self.events, []
        return events

    def dispatch_injected(self, events: Iterable[InjectedInput]) -> None:
        """Make the window dispatch key/mouse events from an inject message (x_px, y_px: top-left origin)."""
        from pyglet.window import mouse

        _, height = self.window.get_size()
        for item in events:
            kind = item.kind
            if kind in ("key", "key_down", "key_up"):
                if item.key is None:
                    raise ValueError(f"an injected {kind} event needs a key")
                symbol = key_symbol(item.key)
                if kind in ("key", "key_down"):
                    self.window.dispatch_event("on_key_press", symbol, 0)
                if kind in ("key", "key_up"):
                    self.window.dispatch_event("on_key_release", symbol, 0)
                continue
            x, y = item.x_px, float(height) - item.y_px
            if kind == "move":
                self.window.dispatch_event("on_mouse_motion", x, y, 0, 0)
            elif kind == "click":
                self.window.dispatch_event("on_mouse_motion", x, y, 0, 0)
                self.window.dispatch_event("on_mouse_press", x, y, mouse.LEFT, 0)
                self.window.dispatch_event("on_mouse_release", x, y, mouse.LEFT, 0)
