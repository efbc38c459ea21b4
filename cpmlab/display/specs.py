"""What a screen shows (the spec the engine sends) and where the display window is.

Every participant-facing string is in the spec: protocol texts from the protocol, the
display's own UI strings chosen by the engine from cpmlab.display.i18n. `hold` keeps a screen
up until the next one; `overlay` returns to the held screen afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ScaleName = Literal["vas", "nrs", "categorical"]


@dataclass(frozen=True, kw_only=True)
class TextSpec:
    """Instruction, break or thank-you text; ends on one of keys, after timeout_s, or is held."""

    kind: Literal["text", "break", "thanks"] = "text"
    text: str = ""
    title: str | None = None
    keys: tuple[str, ...] = ()
    timeout_s: float | None = None
    footer: str | None = None
    show_timer: bool = False
    time_scale: float = 1.0
    hold: bool = False
    overlay: bool = False


@dataclass(frozen=True, kw_only=True)
class FixationSpec:
    """A fixation cross for timeout_s seconds (or held)."""

    kind: Literal["fixation"] = "fixation"
    timeout_s: float | None = None
    hold: bool = False
    overlay: bool = False


@dataclass(frozen=True, kw_only=True)
class CountdownSpec:
    """'Put your hand in the water' with a clock counting duration_s down; always held."""

    kind: Literal["countdown"] = "countdown"
    text: str = ""
    duration_s: float
    label: str = ""
    response_hint: str | None = None
    time_scale: float = 1.0
    hold: bool = True
    overlay: bool = False


@dataclass(frozen=True, kw_only=True)
class RatingSpec:
    """One rating on a VAS, NRS or categorical scale; missing (null) if not confirmed in timeout_s."""

    kind: Literal["rating"] = "rating"
    scale: ScaleName = "vas"
    question: str = ""
    anchors: tuple[str, str] = ("", "")
    categories: tuple[str, ...] = ()
    timeout_s: float = 20.0
    confirm: str = "OK"
    hint: str | None = None
    no_answer: str = ""
    feedback_s: float = 0.0
    hold: bool = False
    overlay: bool = False


@dataclass(frozen=True, kw_only=True)
class ContinuousSpec:
    """A slider rated all the time over duration_s, sampled at rate_hz."""

    kind: Literal["continuous"] = "continuous"
    scale: Literal["vas", "nrs"] = "vas"
    question: str = ""
    anchors: tuple[str, str] = ("", "")
    duration_s: float
    rate_hz: float = 30.0
    hint: str | None = None
    hold: bool = False
    overlay: bool = False


@dataclass(frozen=True, kw_only=True)
class BlankSpec:
    """An empty screen."""

    kind: Literal["blank"] = "blank"
    hold: bool = False
    overlay: bool = False


ScreenSpec = TextSpec | FixationSpec | CountdownSpec | RatingSpec | ContinuousSpec | BlankSpec


@dataclass(frozen=True, kw_only=True)
class WindowInfo:
    """Where the display window is on its X screen (pixels) and its X window id."""

    x: int = 0
    y: int = 0
    width: int = 0
    height: int = 0
    fullscreen: bool = False
    screen: int = 0
    x_window_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class InjectedInput:
    """One input event the display window dispatches itself (x_px, y_px: window pixels, top-left origin)."""

    kind: Literal["key", "key_down", "key_up", "move", "click"]
    key: str | None = None
    x_px: float = 0.0
    y_px: float = 0.0


Geometry = dict[str, Any]  # element name -> rectangle {x, y, w, h} or coordinate, in window pixels
