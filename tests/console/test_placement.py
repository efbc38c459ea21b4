"""Where a windowed participant display opens: beside the console, never over its controls."""

from __future__ import annotations

from cpmlab.console.placement import MIN_SIZE, display_beside


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_display_goes_beside_the_console_and_shrinks_to_fit() -> None:
    """A console on the left of a 1920x1080 screen: the display opens on its right, 4:3, not over it."""
    console = (0, 0, 1000, 900)
    rect, fits = display_beside(console, (0, 0, 1920, 1080))
    assert fits and not _overlap(rect, console)
    assert rect[0] >= 1000 and rect[2] <= 920 and abs(rect[2] / rect[3] - 4 / 3) < 0.01


def test_display_uses_the_strip_below_when_that_is_the_roomiest() -> None:
    """A wide, short console at the top: the display goes below it."""
    console = (0, 0, 1280, 300)
    rect, fits = display_beside(console, (0, 0, 1280, 1024))
    assert fits and rect[1] >= 300 and not _overlap(rect, console)


def test_no_room_is_reported() -> None:
    """A console filling the screen leaves no room: the caller is told (and the window keeps a minimum size)."""
    rect, fits = display_beside((0, 0, 1280, 1024), (0, 0, 1280, 1024))
    assert not fits and (rect[2], rect[3]) == MIN_SIZE
