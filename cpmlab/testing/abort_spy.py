"""Stamp the moment an emulator first receives an abort byte (emergency-stop and watchdog benchmarks)."""

from __future__ import annotations

import threading
from typing import Any

from cpmlab.core.clock import now


class AbortSpy:
    """Wraps an emulator's byte handler; received_at is the LSL time the first abort byte arrived."""

    def __init__(self, emulator: Any, abort_byte: bytes = b"A") -> None:
        self.received_at: float | None = None
        self.arrived = threading.Event()
        handle = emulator.on_bytes

        def on_bytes(data: bytes) -> None:
            if abort_byte in data and not self.arrived.is_set():
                self.received_at = now()
                self.arrived.set()
            handle(data)

        emulator.on_bytes = on_bytes

    def wait(self, timeout_s: float) -> float | None:
        """Wait for the abort byte; return when it arrived, or None."""
        self.arrived.wait(timeout_s)
        return self.received_at
