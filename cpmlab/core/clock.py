"""The one clock every cpmlab event is stamped with."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _default_lsl_config() -> None:
    """Point liblsl at cpmlab's quiet config unless the lab configured liblsl itself."""
    if "LSLAPICFG" in os.environ:
        return
    own = (Path.cwd() / "lsl_api.cfg", Path.home() / "lsl_api" / "lsl_api.cfg", Path("/etc/lsl_api/lsl_api.cfg"))
    if not any(p.is_file() for p in own):
        os.environ["LSLAPICFG"] = str(Path(__file__).with_name("lsl_api.cfg"))


_default_lsl_config()  # must run before liblsl loads

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
