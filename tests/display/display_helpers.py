"""Helpers for the display tests: run a blocking screen call in a thread, read screenshots."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import cpmlab.display.messages as m


class Running:
    """A blocking channel call run in a thread; onset (the flip message) is waited for."""

    def __init__(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.onset: m.Onset | None = None
        self.result: Any = None
        self._onset = threading.Event()

        def on_onset(msg: m.Onset) -> None:
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
        return self.onset.geometry

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
