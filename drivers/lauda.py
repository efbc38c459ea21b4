"""Lauda thermostat driver speaking the *TYPE/STAT space-syntax* command family.

Lauda families differ in syntax. This driver speaks the family that uses ``TYPE`` (model
id), ``IN_SP_00`` (setpoint), ``OUT_SP_00 12.00`` (a space before the value; answered
``OK``), ``IN_PV_00`` (bath temperature), ``IN_PV_05`` (bath level), ``START``, ``STOP``
and ``STAT`` (five 0/1 flags: overheat, low level, pump error, controller error 1,
controller error 2). It does **not** speak the underscore family (``OUT_SP_00_012.00``,
seven-flag ``STAT``).

Serial 9600 8N1; commands end with ``\\r``; reply lines end with ``\\r\\n``. Every command
is answered: ``OK`` for commands, the value for queries, or ``ERR_n`` (table below). The
setpoint is read back after setting, and ``START`` is refused (LimitError, nothing sent)
while the device's setpoint is below the session minimum. The family has no running-state
query, so ``BathStatus.running`` reflects the last START/STOP this driver sent.
Facts and sources: docs/hardware.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from cpmlab.core.errors import DeviceError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathStatus, DeviceInfo
from cpmlab.devices.plugins import DriverSpec
from cpmlab.drivers._line_bath import BATH_REPLY_TIMEOUT_S, EventSink, LineBathDriver, parse_number
from cpmlab.drivers._line_link import NUMBER_RE

FAMILY = "TYPE/STAT space-syntax family"
SERIAL_SETTINGS: dict[str, Any] = {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}

COMMANDS: dict[str, str] = {
    "identify": "TYPE",
    "status": "STAT",
    "read_temperature": "IN_PV_00",
    "read_level": "IN_PV_05",
    "read_setpoint": "IN_SP_00",
    "set_setpoint": "OUT_SP_00 {value}",
    "start": "START",
    "stop": "STOP",
}
#: STAT flags, in reply order.
STAT_FLAGS: tuple[str, ...] = (
    "overheat",
    "low level",
    "pump error",
    "controller error 1",
    "controller error 2",
)
#: Error replies of Lauda thermostats.
ERRORS: dict[int, str] = {
    2: "wrong input (e.g. buffer overflow)",
    3: "wrong command",
    5: "syntax error in value",
    6: "illegal value",
    8: "module (external temperature) not available",
    31: "setpoint not possible, analogue setpoint input on",
    33: "no external sensor",
    36: "no setpoint input possible, programmer running or paused",
}
#: What this family can report, in C (its widest working range): a bath or setpoint reply
#: outside it is garbage, not a reading.
REPORTED_RANGE_C = (-40.0, 200.0)
#: The bath level IN_PV_05 reports (level steps or percent; never negative, never above 100).
LEVEL_RANGE = (0.0, 100.0)
ERROR_RE = re.compile(r"^ERR_(\d+)$")
STAT_RE = re.compile(r"^[01]{5}$")
OK_REPLY = "OK"


def check_error(text: str, command: str) -> None:
    """Raise DeviceError if text is an ERR_n reply."""
    match = ERROR_RE.match(text.strip().upper())
    if match:
        code = int(match.group(1))
        meaning = ERRORS.get(code, "unknown error")
        raise DeviceError(f"lauda refused {command!r}: ERR_{code} ({meaning})")


def parse_ok(text: str, command: str) -> None:
    """Accept an OK reply; raise DeviceError for ERR_n or anything else."""
    check_error(text, command)
    if text.strip().upper() != OK_REPLY:
        raise DeviceError(f"garbled reply to {command!r}: expected OK, got {text!r}")


def parse_identity(text: str) -> str:
    """Return the TYPE reply (a model id), or raise DeviceError."""
    check_error(text, "TYPE")
    if not text.strip():
        raise DeviceError("not a Lauda thermostat: TYPE answered an empty line")
    return text.strip()


def parse_stat(text: str, running: bool) -> BathStatus:
    """Parse STAT's five 0/1 flags; any flag set is an alarm (code = flag bits, LSB first)."""
    check_error(text, "STAT")
    flags = re.sub(r"[\s,;]", "", text)
    if not STAT_RE.match(flags):
        raise DeviceError(f"garbled reply to 'STAT': expected five 0/1 flags, got {text!r}")
    code = sum(1 << i for i, flag in enumerate(flags) if flag == "1")
    names = [name for name, flag in zip(STAT_FLAGS, flags, strict=True) if flag == "1"]
    return BathStatus(
        ok=code == 0,
        code=code,
        text=", ".join(names) if names else "ok",
        running=running and code == 0,
    )


class LaudaBath(LineBathDriver):
    """A Lauda thermostat of the TYPE/STAT space-syntax family."""

    name = "lauda"
    model = f"Lauda thermostat ({FAMILY})"
    #: Every command is answered before the next is sent, so no extra spacing.
    spacing_s: ClassVar[Mapping[str, float]] = {}
    reported_range_c: ClassVar[tuple[float, float]] = REPORTED_RANGE_C
    temperature_command: ClassVar[str] = COMMANDS["read_temperature"]
    sync_command: ClassVar[str] = COMMANDS["identify"]

    def __init__(
        self,
        transport: Any,
        *,
        event_sink: EventSink | None = None,
        reply_timeout_s: float = BATH_REPLY_TIMEOUT_S,
    ) -> None:
        super().__init__(transport, event_sink=event_sink, reply_timeout_s=reply_timeout_s)
        self._running = False
        self._identity: str | None = None

    def is_sync_reply(self, text: str) -> bool:
        """Return True for a TYPE reply: the identity seen at connect, or no other reply's shape."""
        if self._identity is not None:
            return text.strip() == self._identity
        shaped_like_another = (
            NUMBER_RE.match(text) or ERROR_RE.match(text.upper()) or STAT_RE.match(text) or text.upper() == OK_REPLY
        )
        return bool(text.strip()) and not shaped_like_another

    def _command(self, command: str) -> None:
        self._exchange(command, lambda text: parse_ok(text, command))

    def query_number(self, command: str, bounds: tuple[float, float] | None = None) -> float:
        """Send a query and return its numeric reply (ERR_n, or a value outside bounds, raises DeviceError)."""

        def parse(text: str) -> float:
            check_error(text, command)
            return parse_number(text, command, bounds)

        return self._exchange(command, parse)

    def identify(self) -> str:
        """Query TYPE and return the model id (kept: it is the resynchronisation reply)."""
        identity = self._exchange(COMMANDS["identify"], parse_identity)
        self._identity = identity
        return identity

    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        """Identify the thermostat and read its status; return its identity."""
        with self._lock:
            self._limits = limits
            try:
                identity = self.identify()
                status = self.status()
            except BaseException:
                self._limits = None
                raise
        return DeviceInfo(
            kind=self.kind,
            model=self.model,
            identity=identity,
            details={"status": status.text, "family": FAMILY},
        )

    def set_setpoint(self, setpoint_c: float) -> None:
        """Check limits, send OUT_SP_00 (answered OK) and read the setpoint back."""
        value = self.check_setpoint(setpoint_c)
        with self._lock:
            self._command(COMMANDS["set_setpoint"].format(value=value))
            self._verify(COMMANDS["read_setpoint"], float(value), "setpoint")

    def start_circulation(self) -> None:
        """Check the device setpoint against the limits, then START."""
        with self._lock:
            self.check_setpoint(self.query_temperature(COMMANDS["read_setpoint"]))
            self._command(COMMANDS["start"])
            self._running = True

    def stop_circulation(self) -> None:
        """STOP the thermostat (standby)."""
        with self._lock:
            self._command(COMMANDS["stop"])
            self._running = False

    def read_level(self) -> float:
        """Query and return the bath level (IN_PV_05), in the device's units."""
        return self.query_number(COMMANDS["read_level"], LEVEL_RANGE)

    def status(self) -> BathStatus:
        """Query STAT; any flag set is an alarm (ok False, fault listeners told)."""
        return self._status_seen(self._exchange(COMMANDS["status"], lambda text: parse_stat(text, self._running)))


#: A probe is not time-critical: it waits longer for a reply than a session does, in s.
PROBE_TIMEOUT_S = 1.0


def probe(transport: Any) -> str | None:
    """Return the TYPE reply if a Lauda of this family answers on transport, else None."""
    try:
        return LaudaBath(transport, reply_timeout_s=PROBE_TIMEOUT_S).identify()
    except Exception:
        return None


DRIVER = DriverSpec(
    name="lauda",
    kind="cold_pressor",
    model=f"Lauda thermostat ({FAMILY})",
    transport="serial",
    factory=LaudaBath,
    serial_settings=dict(SERIAL_SETTINGS),
    emulator="lauda",
    probe=probe,
    description=(
        f"Lauda thermostat as cold-pressor bath, {FAMILY}: TYPE, IN_SP_00, "
        "'OUT_SP_00 12.00' (answers OK), IN_PV_00, IN_PV_05, START, STOP, five-flag STAT; "
        "9600 8N1. Not the underscore family ('OUT_SP_00_012.00')."
    ),
)
