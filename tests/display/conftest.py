"""Display tests run the real PsychoPy window under an X server (Xvfb in `make test`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
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


class Running:
    """A blocking channel call run in a thread; onset (the flip message) is waited for."""

    def __init__(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.onset: dict[str, Any] | None = None
        self.result: Any = None
        self._onset = threading.Event()

        def on_onset(msg: dict[str, Any]) -> None:
            self.onset = msg
            self._onset.set()

        def run() -> None:
            self.result = call(*args, on_onset=on_onset, **kwargs)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert self._onset.wait(5.0), "the screen never appeared"

    @property
    def geometry(self) -> dict[str, Any]:
        """Element positions reported at onset (window pixels)."""
        assert self.onset is not None
        return self.onset["geometry"]

    def join(self, timeout_s: float = 10.0) -> Any:
        """Wait for the call to return and give its result."""
        self.thread.join(timeout_s)
        assert not self.thread.is_alive(), "the screen never finished"
        return self.result


def load(path: Path) -> np.ndarray:
    """Return a screenshot as an RGB array (rows top-down)."""
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def background(img: np.ndarray) -> np.ndarray:
    """The background colour (top-left corner)."""
    return img[2, 2]


def ink(img: np.ndarray, rect: dict[str, float], pad_px: int = 0) -> float:
    """Fraction of pixels in rect (x, y, w, h) that differ from the background."""
    x0, y0 = max(int(rect["x"]) - pad_px, 0), max(int(rect["y"]) - pad_px, 0)
    x1, y1 = int(rect["x"] + rect["w"]) + pad_px, int(rect["y"] + rect["h"]) + pad_px
    region = img[y0:y1, x0:x1]
    assert region.size, f"empty region {rect}"
    return float((np.abs(region - background(img)).sum(axis=2) > 60).mean())


def orange(img: np.ndarray) -> np.ndarray:
    """Mask of marker-coloured (orange) pixels."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return (r > 200) & (g > 120) & (g < 215) & (b < 90)


def inside(rect: dict[str, float], width: int, height: int) -> bool:
    """Whether a pixel rectangle lies fully inside the window."""
    return rect["x"] >= 0 and rect["y"] >= 0 and rect["x"] + rect["w"] <= width and rect["y"] + rect["h"] <= height
