"""Which clock a process stamps with, and mapping a display's clock to the engine's (NTP style)."""

from __future__ import annotations

import socket
from collections import deque
from pathlib import Path


def clock_id() -> str:
    """Name this machine's local_clock domain (host and boot), so peers know if they share it."""
    boot = Path("/proc/sys/kernel/random/boot_id")
    try:
        boot_id = boot.read_text().strip()
    except OSError:
        boot_id = "?"
    return f"{socket.gethostname()}/{boot_id}"


class ClockSync:
    """Map display-clock times to the engine clock from ping/pong exchanges.

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
