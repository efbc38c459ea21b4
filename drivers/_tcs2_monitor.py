"""Watch a connected TCS II during the session: its error state, its answers and its stream.

Every ``MONITOR_EVERY_S`` the monitor asks ``Q`` (error state) with a short timeout (not
journaled unless slow or failed, which is a warning or a fault), and
checks the periodic temperature output. A fault is reported (once) when the device does not
answer in time, answers garbage, reports an error code, or its stream stops or turns to
garbage; then the monitor ends (the session ends on a fault). Facts: docs/hardware.md.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from cpmlab.core.clock import now
from cpmlab.core.errors import DeviceError

#: How often the error state is asked and the stream checked, in s.
MONITOR_EVERY_S = 0.2
#: A ``Q`` not answered within this is a fault, in s (the reply is 8 bytes at 115200 baud;
#: the margin keeps a loaded PC from faulting a healthy device).
MONITOR_TIMEOUT_S = 0.6
#: With the periodic output on, no record for this long means the stream stopped, in s
#: (the output is 1 Hz between stimuli).
STREAM_GAP_S = 1.5
#: This many garbage bytes between two checks (a record's worth) mean the stream is garbage.
GARBAGE_BYTES = 24


class Tcs2Monitor:
    """A daemon thread checking one Tcs2Thermode until stopped or until it reports a fault."""

    def __init__(self, thermode: Any, every_s: float = MONITOR_EVERY_S) -> None:
        self._thermode = thermode
        self.every_s = every_s
        self._stop = threading.Event()
        self.faulted = False
        self._thread = threading.Thread(target=self._loop, name="tcs2-monitor", daemon=True)

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (waits briefly for the thread)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=MONITOR_TIMEOUT_S + 0.5)

    def _loop(self) -> None:
        thermode = self._thermode
        garbage_seen = thermode.malformed_count
        while not self._stop.wait(self.every_s):
            try:
                state = thermode.error_state(timeout_s=MONITOR_TIMEOUT_S, journal=False)
            except DeviceError:
                self.faulted = True  # the query reported it
                return
            if self._stop.is_set():
                return
            message = None
            if not state.ok:
                message = f"TCS II reports an error: zones {state.zones}, neutral sensor {state.neutral}"
            latest = thermode.latest_reading
            if thermode.streaming and (latest is None or now() - latest.t > STREAM_GAP_S) and self._stream_due():
                message = f"TCS II temperature stream stopped (no record for {STREAM_GAP_S:g} s)"
            garbage = thermode.malformed_count
            if garbage - garbage_seen >= GARBAGE_BYTES:
                message = f"TCS II temperature stream turned to garbage ({garbage - garbage_seen} bytes)"
            garbage_seen = garbage
            if message is not None:
                self.faulted = True
                thermode.report_fault(message)
                return

    def _stream_due(self) -> bool:
        """True once the stream has been on long enough that a record must have come."""
        return time.monotonic() - self._thermode.streaming_since > STREAM_GAP_S
