"""Where a windowed participant display opens: beside the console, never over its controls."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

Rect = tuple[int, int, int, int]  # x, y, width, height in pixels

MIN_SIZE = (320, 240)
DISPLAY_SIZE = (1024, 768)


def display_beside(console: Rect, screen: Rect, size: tuple[int, int] = DISPLAY_SIZE) -> tuple[Rect, bool]:
    """Return the display's rectangle in the widest free strip beside the console, and whether it fits there.

    The window keeps its 4:3 shape and shrinks to fit the strip (not below MIN_SIZE); if even
    that does not fit, it goes to the widest strip anyway, and the caller says so.
    """
    cx, cy, cw, ch = console
    sx, sy, sw, sh = screen
    strips = [
        (sx, sy, max(cx - sx, 0), sh),  # left of the console
        (cx + cw, sy, max(sx + sw - (cx + cw), 0), sh),  # right of it
        (sx, sy, sw, max(cy - sy, 0)),  # above it
        (sx, cy + ch, sw, max(sy + sh - (cy + ch), 0)),  # below it
    ]
    x, y, w, h = max(strips, key=lambda r: min(r[2] / size[0], r[3] / size[1]))
    scale = min(w / size[0], h / size[1], 1.0)
    width, height = int(size[0] * scale), int(size[1] * scale)
    fits = width >= MIN_SIZE[0] and height >= MIN_SIZE[1]
    width, height = max(width, MIN_SIZE[0]), max(height, MIN_SIZE[1])
    return (x, y, width, height), fits


def place_beside(spec: Any, window: Any) -> None:
    """Set a SessionSpec's windowed display position and size beside the console window (a QWidget)."""
    frame, screen = window.frameGeometry(), window.screen().availableGeometry()
    rect, fits = display_beside(
        (frame.x(), frame.y(), frame.width(), frame.height()),
        (screen.x(), screen.y(), screen.width(), screen.height()),
    )
    spec.display_position, spec.display_size = (rect[0], rect[1]), (rect[2], rect[3])
    if not fits:
        log.warning("no room beside the console for the participant display: make the console window smaller")
