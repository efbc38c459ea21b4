"""Julabo circulator driver (FP/F legacy series, CORIO, MAGIO) for the cold pressor.

Framing is a per-model setting:

- legacy units (``model="julabo-fp"``, ``framing="7E1"``): 4800 baud, 7 data bits, even
  parity, 1 stop bit;
- newer units (``model="julabo-corio"`` / ``"julabo-magio"``, ``framing="8N1"``): 9600 baud
  8N1. This is ``DRIVER.serial_settings``; ``LEGACY_SERIAL_SETTINGS`` holds the 7E1 ones.

Given ``framing`` or ``model``, the driver applies that framing to the open pyserial port
(``serial_settings_for()`` returns it, so a CLI can also open the port right). Commands end
with ``\\r``, replies with ``\\r\\n``. ``OUT_`` commands get no reply, so every value this
driver sets is read back and compared. The manual asks for more than 250 ms between
``OUT_`` commands and more than 10 ms between ``IN_`` queries: this driver waits 260 ms
after an ``OUT_`` command before the next command of any kind (so a readback sees the new
value) and 12 ms after any other command. Facts and sources: docs/hardware.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from cpmlab.core.errors import DeviceError, LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathStatus, DeviceInfo
from cpmlab.devices.plugins import DriverSpec
from cpmlab.drivers._line_bath import (
    BATH_REPLY_TIMEOUT_S,
    EventSink,
    LineBathDriver,
    ceil_2dp,
    format_c,
)

FRAMINGS: dict[str, dict[str, Any]] = {
    "8N1": {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1},
    "7E1": {"baudrate": 4800, "bytesize": 7, "parity": "E", "stopbits": 1},
}
#: Model key -> framing.
MODELS: dict[str, str] = {
    "julabo-fp": "7E1",
    "julabo-corio": "8N1",
    "julabo-magio": "8N1",
}
DEFAULT_FRAMING = "8N1"
SERIAL_SETTINGS: dict[str, Any] = FRAMINGS[DEFAULT_FRAMING]
LEGACY_SERIAL_SETTINGS: dict[str, Any] = FRAMINGS["7E1"]

COMMANDS: dict[str, str] = {
    "identify": "VERSION",
    "status": "STATUS",
    "read_temperature": "IN_PV_00",
    "read_setpoint": "IN_SP_0{index}",
    "read_over_limit": "IN_SP_03",
    "read_sub_limit": "IN_SP_04",
    "read_unit": "IN_SP_06",
    "read_active_setpoint": "IN_MODE_01",
    "read_running": "IN_MODE_05",
    "set_setpoint": "OUT_SP_00 {value}",
    "set_over_limit": "OUT_SP_03 {value}",
    "set_sub_limit": "OUT_SP_04 {value}",
    "select_setpoint": "OUT_MODE_01 {index}",
    "run": "OUT_MODE_05 {on}",
}
IDENTITY_PREFIX = "JULABO"
STATUS_RE = re.compile(r"^\s*([+-]?\d{1,3})(?:\s+([A-Za-z][ -~]*))?\s*$")
#: STATUS codes meaning the circulator runs: 01 MANUAL START, 03 REMOTE START.
RUNNING_CODES = frozenset({1, 3})
UNIT_CELSIUS = 0
#: Highest over-temperature warning limit this driver sets, in C.
MAX_OVER_LIMIT_C = 100.0
#: What a supported Julabo can report, in C (the widest working range of the FP, CORIO and
#: MAGIO units): a bath, setpoint or limit reply outside it is garbage, not a reading.
REPORTED_RANGE_C = (-50.0, 200.0)
#: Codes the integer queries can answer: unit (0 C, 1 F), active setpoint (0-2), running (0/1).
UNIT_CODES = (0.0, 1.0)
SETPOINT_INDEXES = (0.0, 2.0)
RUNNING_FLAGS = (0.0, 1.0)


def resolve_framing(framing: str | None = None, model: str | None = None) -> str | None:
    """Return the framing named by framing or model (they must agree), or None for neither."""
    if model is not None and model not in MODELS:
        raise ValueError(f"unknown Julabo model {model!r}; choose from {', '.join(MODELS)}")
    if framing is not None and framing not in FRAMINGS:
        raise ValueError(f"unknown framing {framing!r}; choose from {', '.join(FRAMINGS)}")
    from_model = MODELS[model] if model is not None else None
    if framing and from_model and framing != from_model:
        raise ValueError(f"model {model} uses {from_model} framing, not {framing}")
    return framing or from_model


def serial_settings_for(framing: str | None = None, model: str | None = None) -> dict[str, Any]:
    """Return the pyserial settings for a framing or model (default: newer 9600 8N1)."""
    return dict(FRAMINGS[resolve_framing(framing, model) or DEFAULT_FRAMING])


def parse_identity(text: str) -> str:
    """Return the VERSION reply if it names a Julabo, else raise DeviceError."""
    if not text.upper().startswith(IDENTITY_PREFIX):
        raise DeviceError(f"not a Julabo circulator: VERSION answered {text!r}")
    return text


def parse_status(text: str) -> BathStatus:
    """Parse a STATUS line ('03 REMOTE START'); a negative number is an alarm."""
    match = STATUS_RE.match(text)
    if not match:
        raise DeviceError(f"garbled reply to STATUS: expected a signed number, got {text!r}")
    code = int(match.group(1))
    return BathStatus(ok=code >= 0, code=code, text=text, running=code in RUNNING_CODES)


class JulaboBath(LineBathDriver):
    """A Julabo circulator driven over its serial remote-control interface."""

    name = "julabo"
    model = "Julabo circulator (FP/CORIO/MAGIO)"
    spacing_s: ClassVar[Mapping[str, float]] = {"OUT_": 0.26, "": 0.012}
    reported_range_c: ClassVar[tuple[float, float]] = REPORTED_RANGE_C
    temperature_command: ClassVar[str] = COMMANDS["read_temperature"]
    sync_command: ClassVar[str] = COMMANDS["identify"]

    def is_sync_reply(self, text: str) -> bool:
        """Return True for a VERSION reply (it names a Julabo; no other reply does)."""
        return text.upper().startswith(IDENTITY_PREFIX)

    def __init__(
        self,
        transport: Any,
        *,
        event_sink: EventSink | None = None,
        framing: str | None = None,
        model: str | None = None,
        reply_timeout_s: float = BATH_REPLY_TIMEOUT_S,
    ) -> None:
        super().__init__(transport, event_sink=event_sink, reply_timeout_s=reply_timeout_s)
        self.framing = resolve_framing(framing, model)
        if self.framing is not None:
            self._apply_framing(FRAMINGS[self.framing])

    def _apply_framing(self, settings: dict[str, Any]) -> None:
        for key, value in settings.items():
            if hasattr(self._transport, key) and getattr(self._transport, key) != value:
                try:
                    setattr(self._transport, key, value)
                except Exception as exc:  # ValueError, OSError, termios.error (pty: EINVAL)
                    raise DeviceError(f"julabo: cannot set {key}={value}: {exc}") from exc

    def identify(self) -> str:
        """Query VERSION and return it (it must start with JULABO)."""
        return self._exchange(COMMANDS["identify"], parse_identity)

    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        """Identify, check status and unit (C), set the sub-temperature limit; return identity."""
        with self._lock:
            self._limits = limits
            try:
                identity = self.identify()
                status = self.status()
                unit = self.query_number(COMMANDS["read_unit"], UNIT_CODES)
                if unit != UNIT_CELSIUS:
                    raise DeviceError(
                        f"julabo: temperature unit is {unit:g} (1 = F), not 0 (C); "
                        "switch the circulator to C before use"
                    )
                sub_limit_c = self.set_sub_temperature_limit(limits.min_bath_c)
            except BaseException:
                self._limits = None
                raise
        return DeviceInfo(
            kind=self.kind,
            model=self.model,
            identity=identity,
            details={
                "status": status.text,
                "framing": self.framing or "as opened",
                "sub_limit_c": format_c(sub_limit_c),
            },
        )

    def set_sub_temperature_limit(self, limit_c: float) -> float:
        """Set the sub-temperature warning limit (never below the session minimum); return it."""
        limits = self._require_limits()
        limit_c = ceil_2dp(limit_c)
        if limit_c < limits.min_bath_c:
            raise LimitError(f"sub-temperature limit {limit_c:g} C is below the minimum {limits.min_bath_c:g} C")
        low_c, high_c = self.setpoint_range_c
        if not low_c <= limit_c <= high_c:
            raise LimitError(f"sub-temperature limit {limit_c:g} C is outside {low_c:g}-{high_c:g} C")
        with self._lock:
            self._send(COMMANDS["set_sub_limit"].format(value=format_c(limit_c)))
            self._verify(COMMANDS["read_sub_limit"], limit_c, "sub-temperature limit")
        return limit_c

    def set_over_temperature_limit(self, limit_c: float) -> None:
        """Set the over-temperature warning limit, in C."""
        limits = self._require_limits()
        if not limits.min_bath_c < limit_c <= MAX_OVER_LIMIT_C:
            raise LimitError(
                f"over-temperature limit {limit_c!r} C is outside {limits.min_bath_c:g}-{MAX_OVER_LIMIT_C:g} C"
            )
        with self._lock:
            self._send(COMMANDS["set_over_limit"].format(value=format_c(limit_c)))
            self._verify(COMMANDS["read_over_limit"], float(format_c(limit_c)), "over limit")

    def set_setpoint(self, setpoint_c: float) -> None:
        """Check limits, set setpoint 1 (read back) and make it the active setpoint."""
        value = self.check_setpoint(setpoint_c)
        with self._lock:
            self._send(COMMANDS["set_setpoint"].format(value=value))
            self._verify(COMMANDS["read_setpoint"].format(index=0), float(value), "setpoint 1")
            if self.query_number(COMMANDS["read_active_setpoint"], SETPOINT_INDEXES) != 0:
                self._send(COMMANDS["select_setpoint"].format(index=0))
                self._verify(COMMANDS["read_active_setpoint"], 0, "active setpoint", SETPOINT_INDEXES)

    def active_setpoint_c(self) -> float:
        """Query and return the setpoint the circulator is controlling to, in C."""
        with self._lock:
            index = self.query_number(COMMANDS["read_active_setpoint"], SETPOINT_INDEXES)
            if index not in (0, 1, 2):
                raise DeviceError(f"julabo: active setpoint index {index:g} is not 0, 1 or 2")
            return self.query_temperature(COMMANDS["read_setpoint"].format(index=int(index)))

    def start_circulation(self) -> None:
        """Check the active setpoint against the limits, then start the circulator."""
        with self._lock:
            self.check_setpoint(self.active_setpoint_c())
            self._send(COMMANDS["run"].format(on=1))
            self._verify(COMMANDS["read_running"], 1, "circulator running flag", RUNNING_FLAGS)

    def stop_circulation(self) -> None:
        """Stop the circulator."""
        with self._lock:
            self._send(COMMANDS["run"].format(on=0))
            self._verify(COMMANDS["read_running"], 0, "circulator running flag", RUNNING_FLAGS)

    def status(self) -> BathStatus:
        """Query STATUS; a negative code is an alarm (ok False, fault listeners told)."""
        return self._status_seen(self._exchange(COMMANDS["status"], parse_status))


#: A probe is not time-critical: it waits longer for a reply than a session does, in s.
PROBE_TIMEOUT_S = 1.0


def probe(transport: Any) -> str | None:
    """Return the VERSION string if a Julabo answers on transport, else None."""
    try:
        return JulaboBath(transport, reply_timeout_s=PROBE_TIMEOUT_S).identify()
    except Exception:
        return None


DRIVER = DriverSpec(
    name="julabo",
    kind="cold_pressor",
    model="Julabo circulator (FP/CORIO/MAGIO)",
    transport="serial",
    factory=JulaboBath,
    serial_settings=dict(SERIAL_SETTINGS),
    emulator="julabo",
    emulator_options={"framing": "8N1"},
    probe=probe,
    description=(
        "Julabo circulator as cold-pressor bath. Newer units (CORIO, MAGIO): 9600 8N1 "
        "(default); legacy FP/F units: 4800 7E1, pass framing='7E1' or model='julabo-fp'."
    ),
)
