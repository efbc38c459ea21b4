"""Shared part of the line-based bath emulators (Julabo, Lauda) on a real pty.

Assembles ``\\r``-terminated command lines, answers with ``\\r\\n``-terminated lines,
drives a :class:`BathModel` on a :class:`DeviceClock`, records every command with its
arrival time, counts commands that arrive faster than the manual's spacing, and can
ignore the very first query (as some units do after connect). Facts and sources: docs/hardware.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from cpmlab.hardware_mocks.physics import BathModel, DeviceClock
from cpmlab.hardware_mocks.serial_port import SERIAL_FAULTS, PtySerialDevice

MAX_LINE_BYTES = 80
#: ``drift``: the regulation fails and the water drifts at ``drift_c_per_s`` (default -0.1 C/s).
BATH_FAULTS = (*SERIAL_FAULTS, "drift")


class LineBathDevice(PtySerialDevice):
    """A bath answering one ASCII line per command; subclasses implement handle()."""

    #: Manual's minimum gap between two commands with the same prefix, in s.
    spacing_s: ClassVar[Mapping[str, float]] = {}
    reply_terminator: ClassVar[bytes] = b"\r\n"
    faults = BATH_FAULTS

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        fault: str | None = None,
        seed: int | None = None,
        start_c: float = 20.0,
        setpoint_c: float = 20.0,
        tau_s: float = 120.0,
        hand_warming_c_per_s: float = 0.01,
        running: bool = False,
        first_query_timeout: bool = False,
        tcp: bool = False,
    ) -> None:
        self.clock = DeviceClock(time_scale)
        self.bath = BathModel(
            start_c=start_c,
            setpoint_c=setpoint_c,
            tau_s=tau_s,
            hand_warming_c_per_s=hand_warming_c_per_s,
            clock=self.clock,
        )
        self.bath.set_running(running)
        self.first_query_timeout = first_query_timeout
        self.commands: list[tuple[float, str]] = []  # (monotonic arrival time, command)
        self.spacing_violations = 0
        self.ignored: list[str] = []  # commands the device ignored (unknown or too early)
        self._last_by_prefix: dict[str, float] = {}
        self._buffer = bytearray()
        self._state_lock = threading.RLock()
        super().__init__(fault=fault, seed=seed, tcp=tcp)

    def set_fault(self, fault: str | None, **params: Any) -> None:
        """Switch a fault on (one of ``faults``) or off (None); ``drift`` moves the water off its setpoint."""
        super().set_fault(fault, **params)
        self.bath.set_drift(float(params.get("drift_c_per_s", -0.1)) if fault == "drift" else 0.0)

    # -- test and demo controls -----------------------------------------------------------
    def set_hand_immersed(self, immersed: bool) -> None:
        """Put a hand in the bath (True: it warms the water) or take it out."""
        self.bath.set_hand_immersed(immersed)

    def temperature_c(self) -> float:
        """Return the bath temperature, in C (for tests; the client asks over the wire)."""
        return self.bath.temperature()

    # -- wire -----------------------------------------------------------------------------
    def on_bytes(self, data: bytes) -> None:
        """Assemble command lines and answer each one (a wrong-framing client reads noise)."""
        if self.bytesize == 7:
            data = bytes(b & 0x7F for b in data)
        self._buffer += data
        while True:
            ends = [i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0]
            if not ends:
                if len(self._buffer) > MAX_LINE_BYTES:
                    self._buffer.clear()
                    self.on_overflow()
                return
            end = min(ends)
            line = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            text = line.decode("ascii", "replace").strip()
            if text:
                self._on_line(text)

    def on_overflow(self) -> None:
        """Hook: a line grew too long without a terminator (default: drop it silently)."""

    def _on_line(self, text: str) -> None:
        now = time.monotonic()
        with self._state_lock:
            first = not self.commands
            self.commands.append((now, text))
            for prefix, gap_s in self.spacing_s.items():
                if text.upper().startswith(prefix):
                    last = self._last_by_prefix.get(prefix)
                    if last is not None and now - last < gap_s:
                        self.spacing_violations += 1
                    self._last_by_prefix[prefix] = now
            if first and self.first_query_timeout:
                self.ignored.append(text)
                return  # this unit lets the very first query after connect time out
            reply = self.handle(text)
        if reply is not None:
            self.send(reply.encode("ascii") + self.reply_terminator)

    def handle(self, text: str) -> str | None:
        """Return the reply line (without terminator) to a command, or None for no reply."""
        raise NotImplementedError
