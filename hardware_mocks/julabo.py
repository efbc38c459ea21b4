"""Julabo circulator emulator on a real pty (written from the manual, not from our driver).

Framing: newer units' 9600 8N1 by default (as the driver's default), ``framing="7E1"``
for legacy FP units at 4800 7E1 (Linux pseudo-terminals cannot carry 7-bit/parity
framing, so 7E1 needs a real port, a pty-capable OS or ``tcp=True``, where each frame
travels with its even-parity bit); a client at another baud rate
or framing reads noise and is not understood. Commands end
with ``\\r``; queries are answered with one ``\\r\\n``-terminated line (numbers as plain
decimals such as ``12.34``); ``OUT_`` commands and unknown commands get no reply. Commands
arriving faster than the manual's spacing (250 ms between ``OUT_``, 10 ms between ``IN_``)
are still handled but counted in ``spacing_violations``.

The ``alarm`` fault makes STATUS answer ``-01 LOW LIQUID LEVEL ALARM`` and stops the
circulator, as the real unit does; ``first_query_timeout=True`` ignores the very first
query, as some units do after connect. Facts and sources: docs/hardware.md.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from cpmlab.devices.plugins import EmulatorSpec
from cpmlab.hardware_mocks._line_bath import BATH_FAULTS, LineBathDevice

#: framing -> (baudrate, bytesize, parity)
FRAMINGS: dict[str, tuple[int, int, str]] = {"7E1": (4800, 7, "E"), "8N1": (9600, 8, "N")}
DEFAULT_VERSION = "JULABO HIGHTECH FL HL/SL VERSION 4.0"
ALARM_STATUS = "-01 LOW LIQUID LEVEL ALARM"
#: Working range of the emulated unit, in C; values outside it are ignored.
DEVICE_RANGE_C = (-50.0, 200.0)
COMMAND_RE = re.compile(r"^(?P<name>[A-Z_0-9]+)(?:\s+(?P<arg>\S+))?$")


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


class JulaboEmulator(LineBathDevice):
    """A Julabo circulator in remote mode, with three setpoints and warning limits."""

    spacing_s: ClassVar[dict[str, float]] = {"OUT_": 0.25, "IN_": 0.01}

    def __init__(self, *, framing: str = "8N1", version: str = DEFAULT_VERSION, **options: Any) -> None:
        if framing not in FRAMINGS:
            raise ValueError(f"unknown framing {framing!r}; choose from {', '.join(FRAMINGS)}")
        self.framing = framing
        self.baudrate, self.bytesize, self.parity = FRAMINGS[framing]
        self.version = version
        self.unit = 0  # 0 = C, 1 = F
        self.active_setpoint = 0
        self.over_limit_c = 40.0
        self.sub_limit_c = -20.0
        self.excess_protection_c = 50.0
        self.setpoints_c = [float(options.get("setpoint_c", 20.0)), 20.0, 20.0]
        super().__init__(**options)

    def on_fault_changed(self, fault: str | None) -> None:
        """Stop the circulator when an alarm is raised (it stays stopped until restarted)."""
        if fault == "alarm":
            self.bath.set_running(False)

    def status_line(self) -> str:
        """Return what STATUS answers now."""
        if self.fault == "alarm":
            return ALARM_STATUS
        return "03 REMOTE START" if self.bath.running else "02 REMOTE STOP"

    def handle(self, text: str) -> str | None:
        """Answer a query, apply an OUT_ command (no reply), ignore anything else."""
        match = COMMAND_RE.match(text.upper())
        if not match:
            self.ignored.append(text)
            return None
        name, arg = match["name"], match["arg"]
        if name.startswith("OUT_"):
            if not self._apply(name, _number(arg)):
                self.ignored.append(text)
            return None
        reply = self._query(name) if arg is None else None
        if reply is None:
            self.ignored.append(text)
        return reply

    def _query(self, name: str) -> str | None:
        bath_c = self.bath.temperature()
        values: dict[str, str] = {
            "VERSION": self.version,
            "STATUS": self.status_line(),
            "IN_PV_00": f"{bath_c:.2f}",
            "IN_PV_02": f"{bath_c + 0.05:.2f}",
            "IN_PV_03": f"{bath_c + 0.1:.2f}",
            "IN_PV_04": f"{self.excess_protection_c:.2f}",
            "IN_SP_00": f"{self.setpoints_c[0]:.2f}",
            "IN_SP_01": f"{self.setpoints_c[1]:.2f}",
            "IN_SP_02": f"{self.setpoints_c[2]:.2f}",
            "IN_SP_03": f"{self.over_limit_c:.2f}",
            "IN_SP_04": f"{self.sub_limit_c:.2f}",
            "IN_SP_06": str(self.unit),
            "IN_MODE_01": str(self.active_setpoint),
            "IN_MODE_05": "1" if self.bath.running else "0",
        }
        return values.get(name)

    def _apply(self, name: str, value: float | None) -> bool:
        if value is None:
            return False
        low_c, high_c = DEVICE_RANGE_C
        if name in ("OUT_SP_00", "OUT_SP_01", "OUT_SP_02", "OUT_SP_03", "OUT_SP_04"):
            if not low_c <= value <= high_c:
                return False
            index = int(name[-1])
            if index <= 2:
                self.setpoints_c[index] = value
                if index == self.active_setpoint:
                    self.bath.set_setpoint(value)
            elif index == 3:
                self.over_limit_c = value
            else:
                self.sub_limit_c = value
            return True
        if name == "OUT_MODE_01" and value in (0, 1, 2):
            self.active_setpoint = int(value)
            self.bath.set_setpoint(self.setpoints_c[self.active_setpoint])
            return True
        if name == "OUT_MODE_05" and value in (0, 1):
            if value == 1 and self.fault == "alarm":
                return False  # an alarm must be cleared before the unit restarts
            self.bath.set_running(value == 1)
            return True
        return False


def start(time_scale: float = 1.0, fault: str | None = None, **options: Any) -> JulaboEmulator:
    """Start a Julabo emulator on a new pty (options: framing, first_query_timeout, ...)."""
    return JulaboEmulator(time_scale=time_scale, fault=fault, **options)


EMULATOR = EmulatorSpec(
    name="julabo",
    kind="cold_pressor",
    model="Julabo circulator (9600 8N1 by default; framing='7E1' for legacy FP units at 4800 7E1)",
    start=start,
    faults=BATH_FAULTS,
    description=(
        "Julabo circulator on a real pty with bath physics; options: framing ('7E1' or "
        "'8N1'), first_query_timeout, start_c, setpoint_c, tau_s, running."
    ),
)
