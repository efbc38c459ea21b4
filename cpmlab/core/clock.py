"""The one clock every cpmlab event is stamped with."""

from __future__ import annotations

import time

try:
    from pylsl import local_clock as _local_clock
except Exception:  # pragma: no cover - pylsl ships liblsl; fall back only if it cannot load
    _local_clock = time.monotonic


def now() -> float:
    """Return the shared monotonic clock in seconds (pylsl.local_clock)."""
    return float(_local_clock())


def wall_time_iso() -> str:
    """Return the current wall-clock time as an ISO 8601 string with UTC offset."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
