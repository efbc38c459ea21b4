"""The engine <-> display wire protocol: JSON messages over ZeroMQ (see docs/display.md)."""

from __future__ import annotations

import json
import socket
from collections import deque
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = 1
DEFAULT_BIND = "tcp://127.0.0.1:*"  # loopback, a free port chosen by the OS

# engine -> display
SHOW = "show"  # {"id", "screen": {...}}
CANCEL = "cancel"  # end the current screen at once (ended_by "aborted")
AWAIT_KEY = "await_key"  # {"id", "keys", "timeout_s"}: listen for a response key, screen unchanged
PING = "ping"  # {"t": engine clock}; answered by PONG
SCREENSHOT = "screenshot"  # {"id", "path"}: save the next frame (back buffer) as PNG
INJECT = "inject"  # {"events": [...]}: the window dispatches these key/mouse events itself
QUIT = "quit"

# display -> engine
HELLO = "hello"  # {"version", "pid", "clock_id", "window": {...}, "t"}
HEARTBEAT = "heartbeat"  # {"t", "frame"}
PONG = "pong"  # {"t_engine", "t"}
ONSET = "onset"  # {"id", "t" (flip), "flip_t", "kind", "window", "geometry"}
SAMPLE = "sample"  # {"id", "t", "value"}
RESULT = "result"  # {"id", ...kind-specific fields}
SCREENSHOT_SAVED = "screenshot_saved"  # {"id", "path"}
CLOSED = "closed"  # {"reason"}: the window was closed; the process exits next
ERROR = "error"  # {"id"?, "message"}


def encode(msg: dict[str, Any]) -> bytes:
    """Serialise one message to a UTF-8 JSON frame."""
    return json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(frame: bytes) -> dict[str, Any]:
    """Parse one JSON frame into a message dict (raises ValueError if it is not one)."""
    msg = json.loads(frame.decode("utf-8"))
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ValueError(f"not a cpmlab display message: {frame[:80]!r}")
    return msg


def clock_id() -> str:
    """Name this machine's local_clock domain (host and boot), so peers know if they share it."""
    boot = Path("/proc/sys/kernel/random/boot_id")
    try:
        boot_id = boot.read_text().strip()
    except OSError:
        boot_id = "?"
    return f"{socket.gethostname()}/{boot_id}"


class ClockSync:
    """Map display-clock times to the engine clock from ping/pong exchanges (NTP style).

    When both processes run on one machine (same clock_id) the offset is exactly 0.
    """

    def __init__(self, same_clock: bool, window: int = 32) -> None:
        self.same_clock = same_clock
        self._samples: deque[tuple[float, float]] = deque(maxlen=window)  # (rtt_s, offset_s)

    def add(self, t_send: float, t_display: float, t_recv: float) -> None:
        """Record one exchange: engine send time, display reply time, engine receive time."""
        self._samples.append((t_recv - t_send, t_display - (t_send + t_recv) / 2.0))

    @property
    def offset_s(self) -> float:
        """Display clock minus engine clock, from the exchange with the shortest round trip."""
        if self.same_clock or not self._samples:
            return 0.0
        return min(self._samples)[1]

    def to_engine(self, t_display: float | None) -> float | None:
        """Convert a display-clock time to the engine clock."""
        return None if t_display is None else t_display - self.offset_s
