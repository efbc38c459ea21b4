"""Lauda thermostat emulator (TYPE/STAT space-syntax family) on a real pty.

9600 8N1; commands end with ``\\r``; every command is answered with one ``\\r\\n`` line:
``TYPE`` the model id, ``IN_SP_00`` / ``IN_PV_00`` / ``IN_PV_05`` a plain decimal,
``OUT_SP_00 12.00`` / ``START`` / ``STOP`` ``OK``, ``STAT`` five 0/1 flags (overheat, low
level, pump error, controller error 1, controller error 2). Errors follow Lauda's table:
unknown command ``ERR_3`` (chosen over ``ERR_2``, which Lauda reserves for wrong input such
as a buffer overflow and which this emulator sends for an over-long line), malformed value
``ERR_5``, value out of range ``ERR_6``.

The ``alarm`` fault sets the low-level flag (``STAT`` = ``01000``), drops the level and
stops the thermostat; ``first_query_timeout=True`` ignores the very first query.
Facts and sources: docs/hardware.md.
"""

from __future__ import annotations

import re
from typing import Any

from cpmlab.devices.plugins import EmulatorSpec
from cpmlab.hardware_mocks._line_bath import BATH_FAULTS, LineBathDevice

DEFAULT_TYPE = "RE206"
ALARM_FLAGS = "01000"  # low level
OK_FLAGS = "00000"
DEVICE_RANGE_C = (-40.0, 200.0)
SETPOINT_RE = re.compile(r"^OUT_SP_00 (?P<value>\S+)$")


class LaudaEmulator(LineBathDevice):
    """A Lauda thermostat answering every command (value, OK or ERR_n)."""

    baudrate = 9600
    bytesize = 8
    parity = "N"

    def __init__(self, *, type_name: str = DEFAULT_TYPE, level: int = 5, **options: Any) -> None:
        self.type_name = type_name
        self.level = level
        super().__init__(**options)

    def on_fault_changed(self, fault: str | None) -> None:
        """Stop the thermostat when the low-level alarm is raised."""
        if fault == "alarm":
            self.bath.set_running(False)

    def on_overflow(self) -> None:
        """Answer an over-long line with ERR_2 (wrong input, buffer overflow)."""
        self.send(b"ERR_2" + self.reply_terminator)

    def handle(self, text: str) -> str:
        """Answer one command line."""
        command = text.upper()
        alarm = self.fault == "alarm"
        if command == "TYPE":
            return self.type_name
        if command == "STAT":
            return ALARM_FLAGS if alarm else OK_FLAGS
        if command == "IN_PV_00":
            return f"{self.bath.temperature():.2f}"
        if command == "IN_PV_05":
            return str(0 if alarm else self.level)
        if command == "IN_SP_00":
            return f"{self.bath.setpoint_c:.2f}"
        if command == "START":
            if not alarm:
                self.bath.set_running(True)
            return "OK"
        if command == "STOP":
            self.bath.set_running(False)
            return "OK"
        match = SETPOINT_RE.match(command)
        if match:
            return self._set_setpoint(match["value"])
        self.ignored.append(text)
        return "ERR_3"

    def _set_setpoint(self, value: str) -> str:
        try:
            setpoint_c = float(value)
        except ValueError:
            return "ERR_5"
        low_c, high_c = DEVICE_RANGE_C
        if not low_c <= setpoint_c <= high_c:
            return "ERR_6"
        self.bath.set_setpoint(setpoint_c)
        return "OK"


def start(time_scale: float = 1.0, fault: str | None = None, **options: Any) -> LaudaEmulator:
    """Start a Lauda emulator on a new pty (options: first_query_timeout, start_c, ...)."""
    return LaudaEmulator(time_scale=time_scale, fault=fault, **options)


EMULATOR = EmulatorSpec(
    name="lauda",
    kind="cold_pressor",
    model="Lauda thermostat (TYPE/STAT space-syntax family)",
    start=start,
    faults=BATH_FAULTS,
    description=(
        "Lauda thermostat (TYPE/STAT space-syntax family, 9600 8N1) on a real pty with bath "
        "physics; options: first_query_timeout, start_c, setpoint_c, tau_s, running, level."
    ),
)
