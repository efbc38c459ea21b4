"""Display tests run the real PsychoPy window under an X server (Xvfb in `make test`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cpmlab.display.channel import DisplayChannel
from cpmlab.display.inject import XTestInjector


def _no_x_reason() -> str | None:
    if not os.environ.get("DISPLAY"):
        return "no X display (DISPLAY is unset): run under xvfb-run, as `make test` does"
    try:
        from Xlib import display

        display.Display().close()
    except Exception as exc:
        return f"cannot open X display {os.environ['DISPLAY']!r}: {exc}"
    return None


NO_X = _no_x_reason()


@pytest.fixture(autouse=True)
def _needs_x(request: pytest.FixtureRequest) -> None:
    if NO_X and getattr(request.module, "NEEDS_X", True):
        pytest.skip(NO_X)


@pytest.fixture(scope="session")
def shots() -> Path:
    """Folder for the display screenshots (test-artifacts/display)."""
    folder = Path(__file__).resolve().parents[2] / "test-artifacts" / "display"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def channel() -> Iterator[DisplayChannel]:
    """One display process (1024x768 window at 0,0) shared by a module's tests."""
    if NO_X:
        pytest.skip(NO_X)
    ch = DisplayChannel(size=(1024, 768), position=(0, 0))
    try:
        yield ch
    finally:
        ch.close()


@pytest.fixture(scope="module")
def xinput(channel: DisplayChannel) -> Iterator[XTestInjector]:
    """Real keyboard/mouse input (XTEST) into the channel's window."""
    injector = XTestInjector()
    injector.set_window(channel.window)
    yield injector
    injector.close()
