"""The engine <-> display wire protocol: typed messages, one JSON frame each (see docs/display.md).

Both processes build and read these dataclasses only; encode() and decode() are the one place
a message becomes bytes or bytes become a message. decode() refuses anything that is not
exactly one known message with correctly typed fields (MessageError).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from cpmlab.display.specs import Geometry, InjectedInput, ScreenSpec, WindowInfo
from cpmlab.display.wire import MessageError, from_json, to_json

PROTOCOL_VERSION = 2
DEFAULT_BIND = "tcp://127.0.0.1:*"  # loopback, a free port chosen by the OS
MAX_FRAME_BYTES = 16 * 1024 * 1024  # a long continuous rating's samples fit; a flood does not

EndedBy = Literal["key", "timeout", "aborted", "response", "time"]


# -- engine -> display --------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Show:
    """Show a screen; answered by Onset, then Result (held screens: Onset only)."""

    TYPE: ClassVar[str] = "show"
    screen: ScreenSpec
    id: int = 0


@dataclass(frozen=True, kw_only=True)
class Cancel:
    """End the current screen at once (ended_by aborted) and drop held screens and listeners."""

    TYPE: ClassVar[str] = "cancel"


@dataclass(frozen=True, kw_only=True)
class AwaitKey:
    """Listen for a response key without changing the screen; answered by Onset, then Result."""

    TYPE: ClassVar[str] = "await_key"
    keys: tuple[str, ...]
    timeout_s: float
    what: str = "withdrawal"
    hint: str | None = None
    id: int = 0


@dataclass(frozen=True, kw_only=True)
class Ping:
    """Heartbeat and clock-sync probe from the engine (t: engine clock); answered by Pong."""

    TYPE: ClassVar[str] = "ping"
    t: float
    id: int | None = None


@dataclass(frozen=True, kw_only=True)
class Screenshot:
    """Save the next frame (back buffer, before the flip) as PNG at path; answered by ScreenshotSaved."""

    TYPE: ClassVar[str] = "screenshot"
    path: str
    id: int = 0


@dataclass(frozen=True, kw_only=True)
class Inject:
    """Make the display window dispatch these input events itself (simulated participant, no X access)."""

    TYPE: ClassVar[str] = "inject"
    events: tuple[InjectedInput, ...]


@dataclass(frozen=True, kw_only=True)
class Quit:
    """Close the window and exit 0."""

    TYPE: ClassVar[str] = "quit"


# -- display -> engine --------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Hello:
    """A display introduces itself (repeated each second until the engine answers)."""

    TYPE: ClassVar[str] = "hello"
    version: int
    token: str  # the session's token: proves this display belongs to the session
    pid: int
    clock_id: str
    window: WindowInfo
    t: float


@dataclass(frozen=True, kw_only=True)
class Heartbeat:
    """The frame loop is alive (every 0.1 s)."""

    TYPE: ClassVar[str] = "heartbeat"
    t: float
    frame: int


@dataclass(frozen=True, kw_only=True)
class Pong:
    """Answer to Ping: the engine's send time and the display's clock when it answered."""

    TYPE: ClassVar[str] = "pong"
    TIME_FIELDS: ClassVar[tuple[str, ...]] = ("t",)
    t: float
    t_engine: float | None = None
    id: int | None = None


@dataclass(frozen=True, kw_only=True)
class Onset:
    """The first frame of a screen is on (t stamped right after the flip) or a key listener is armed."""

    TYPE: ClassVar[str] = "onset"
    TIME_FIELDS: ClassVar[tuple[str, ...]] = ("t", "flip_t")
    id: int
    t: float
    kind: str
    flip_t: float | None = None
    window: WindowInfo | None = None
    geometry: Geometry = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Sample:
    """One continuous-rating sample, sent as it is taken (value null before the first touch)."""

    TYPE: ClassVar[str] = "sample"
    TIME_FIELDS: ClassVar[tuple[str, ...]] = ("t",)
    id: int
    t: float
    value: float | None


@dataclass(frozen=True, kw_only=True)
class Result:
    """A screen or key listener ended; the fields a kind does not use stay null."""

    TYPE: ClassVar[str] = "result"
    TIME_FIELDS: ClassVar[tuple[str, ...]] = ("onset_t", "end_t", "response_t")
    id: int | None
    kind: str
    onset_t: float
    end_t: float
    ended_by: EndedBy
    key: str | None = None
    value: float | None = None
    response_t: float | None = None
    input_device: str | None = None
    confirm_device: str | None = None
    category: str | None = None
    unconfirmed_value: float | None = None
    samples: tuple[tuple[float, float | None], ...] = ()


@dataclass(frozen=True, kw_only=True)
class ScreenshotSaved:
    """A screenshot was written, with what was on screen."""

    TYPE: ClassVar[str] = "screenshot_saved"
    id: int | None
    path: str
    kind: str | None = None
    geometry: Geometry = field(default_factory=dict)
    window: WindowInfo | None = None


@dataclass(frozen=True, kw_only=True)
class Closed:
    """The window was closed; the process exits with code 3 next."""

    TYPE: ClassVar[str] = "closed"
    reason: str


@dataclass(frozen=True, kw_only=True)
class EmergencyStop:
    """The participant-display window got an emergency-stop key (F12, Ctrl+Space): stop the session now."""

    TYPE: ClassVar[str] = "emergency_stop"
    TIME_FIELDS: ClassVar[tuple[str, ...]] = ("t",)
    key: str  # the key as pressed, e.g. "F12" or "Ctrl+Space"
    t: float


@dataclass(frozen=True, kw_only=True)
class Error:
    """A message could not be handled (e.g. an unknown screen kind); nothing changed."""

    TYPE: ClassVar[str] = "error"
    message: str
    id: int | None = None


ToDisplay = Show | Cancel | AwaitKey | Ping | Screenshot | Inject | Quit
ToEngine = Hello | Heartbeat | Pong | Onset | Sample | Result | ScreenshotSaved | Closed | EmergencyStop | Error
Message = ToDisplay | ToEngine

TO_DISPLAY: dict[str, type[Any]] = {cls.TYPE: cls for cls in (Show, Cancel, AwaitKey, Ping, Screenshot, Inject, Quit)}
TO_ENGINE: dict[str, type[Any]] = {
    cls.TYPE: cls
    for cls in (Hello, Heartbeat, Pong, Onset, Sample, Result, ScreenshotSaved, Closed, EmergencyStop, Error)
}


def encode(msg: Message) -> bytes:
    """Serialise one message to a UTF-8 JSON frame (ValueError for a non-finite number)."""
    body = {"type": msg.TYPE, **to_json(msg)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _no_constants(name: str) -> Any:
    raise MessageError(f"{name} is not a number a message may carry")


def decode(frame: bytes, accept: dict[str, type[Any]] | None = None) -> Any:
    """Parse one frame into the message it is; MessageError unless it is exactly one known, well-typed message.

    accept limits the types to one direction (TO_ENGINE, TO_DISPLAY); default: either.
    """
    known = accept if accept is not None else {**TO_DISPLAY, **TO_ENGINE}
    if len(frame) > MAX_FRAME_BYTES:
        raise MessageError(f"display message of {len(frame)} bytes is over the {MAX_FRAME_BYTES}-byte limit")
    try:
        body = json.loads(frame.decode("utf-8"), parse_constant=_no_constants)
    except ValueError as exc:  # not UTF-8, not JSON, or a number too long to read
        raise MessageError(f"not a cpmlab display message (not UTF-8 JSON: {exc}): {frame[:80]!r}") from None
    except RecursionError:
        raise MessageError("not a cpmlab display message (nested too deeply)") from None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        raise MessageError(f"not a cpmlab display message (no type): {frame[:80]!r}")
    kind = body.pop("type")
    cls = known.get(kind)
    if cls is None:
        raise MessageError(f"unknown display message type {kind!r}; expected one of {', '.join(sorted(known))}")
    return from_json(cls, body, kind)
