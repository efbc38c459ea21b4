"""Driver for the IceBath 100, a (fictional) cold-pressor bath on a serial line, 9600 8N1.

The wire protocol, one ASCII line each way (commands end with LF, replies with CR LF):

    ID?          -> ICEBATH-100 <firmware>
    T?           -> T <bath temperature, C, two decimals>
    SP <x.xx>    -> OK          (setpoint, -10.00 to 40.00 C)
    SP?          -> SP <x.xx>
    RUN / STOP   -> OK          (circulation)
    ST?          -> ST <code> <text>   (code 0 = OK)
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from cpmlab.core.clock import now
from cpmlab.core.errors import DeviceError, LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathListener, BathReading, BathStatus, DeviceInfo, FaultListener
from cpmlab.devices.plugins import DriverSpec
from cpmlab.devices.transport import PortVanishedError, WriteTimeoutError

log = logging.getLogger(__name__)

SERIAL_SETTINGS = {"baudrate": 9600, "bytesize": 8, "parity": "N", "stopbits": 1}
SETPOINT_RANGE_C = (-10.0, 40.0)
IDENTITY = re.compile(r"^ICEBATH-100 \S+$")
TEMPERATURE = re.compile(r"^T (-?\d+\.\d\d)$")
STATUS = re.compile(r"^ST (\d+) ?(.*)$")


class IceBath:
    """An IceBath 100 on an already-open serial transport."""

    kind = "cold_pressor"
    model = "IceBath 100"

    def __init__(
        self, transport: Any, *, event_sink: Callable[..., None] | None = None, reply_timeout_s: float = 1.0
    ) -> None:
        self._transport = transport
        self._sink = event_sink
        self.reply_timeout_s = reply_timeout_s
        self._lock = threading.Lock()
        self._limits: SafetyLimits | None = None
        self._fault_listeners: list[FaultListener] = []
        self._vanished = False
        self._closed = False

    # -- the ColdPressor interface ------------------------------------------------------
    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        """Identify the bath and take the session limits."""
        identity = self._ask("ID?", IDENTITY).group(0)
        self._limits = limits
        return DeviceInfo(self.kind, self.model, identity)

    def set_setpoint(self, setpoint_c: float) -> None:
        """Check the setpoint against the device range and the limits, then send it."""
        if self._limits is None:
            raise DeviceError("IceBath: not connected; call connect(limits) first")
        text = f"{setpoint_c:.2f}"
        low_c, high_c = SETPOINT_RANGE_C
        if not math.isfinite(setpoint_c) or not low_c <= float(text) <= high_c:
            raise LimitError(f"IceBath setpoint {setpoint_c!r} C is outside {low_c:g}-{high_c:g} C")
        self._limits.check_bath_c(setpoint_c)
        self._limits.check_bath_c(float(text))  # as sent
        self._ask(f"SP {text}", re.compile(r"^OK$"))

    def start_circulation(self) -> None:
        """Start the circulator."""
        self._ask("RUN", re.compile(r"^OK$"))

    def stop_circulation(self) -> None:
        """Stop the circulator."""
        self._ask("STOP", re.compile(r"^OK$"))

    def read_temperature(self) -> BathReading:
        """Query and return the bath temperature."""
        return BathReading(now(), float(self._ask("T?", TEMPERATURE).group(1)))

    def status(self) -> BathStatus:
        """Query and return the status; a nonzero code is an alarm, told to fault listeners."""
        match = self._ask("ST?", STATUS)
        code, text = int(match.group(1)), match.group(2) or "OK"
        if code:
            self._report_fault(f"IceBath alarm {code}: {text}")
        return BathStatus(ok=code == 0, code=code, text=text)

    def add_reading_listener(self, listener: BathListener) -> None:
        """Accept a listener; this driver does not poll (the engine asks read_temperature)."""

    def add_fault_listener(self, listener: FaultListener) -> None:
        """Call listener with a message when the bath faults or its port vanishes."""
        self._fault_listeners.append(listener)

    def abort(self) -> None:
        """Send nothing: a bath has no stimulus to end and keeps its setpoint."""

    def close(self) -> None:
        """Release the port; safe to call twice, never raises."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with contextlib.suppress(Exception):
            self._transport.close()

    # -- the wire -----------------------------------------------------------------------
    def _ask(self, command: str, reply: re.Pattern[str]) -> re.Match[str]:
        """Send one command line and return its reply matched against reply."""
        with self._lock:
            if self._closed or self._vanished:
                raise DeviceError(f"IceBath: {'closed' if self._closed else 'port has vanished'}")
            raw = command.encode("ascii") + b"\n"
            self._emit("command", command=command, raw=raw.hex())
            try:
                self._transport.reset_input_buffer()
                self._transport.write(raw)
                line = self._read_line()
            except (PortVanishedError, WriteTimeoutError, OSError) as exc:
                self._vanished = not isinstance(exc, WriteTimeoutError)
                message = f"IceBath: serial port failed: {exc}"
                self._report_fault(message)
                raise DeviceError(message) from exc
            text = line.decode("ascii", "replace").strip()
            match = reply.match(text)
            self._emit("reply", raw=line.hex(), text=text)
            if line and match:
                return match
            message = f"IceBath: {'no reply' if not line else f'unexpected reply {text!r}'} to {command!r}"
            self._report_fault(message)
            raise DeviceError(message)

    def _read_line(self) -> bytes:
        deadline = time.monotonic() + self.reply_timeout_s
        line = bytearray()
        while not line.endswith(b"\n") and time.monotonic() < deadline and len(line) < 80:
            line += self._transport.read(max(1, self._transport.in_waiting))
        return bytes(line) if line.endswith(b"\n") else b""

    def _report_fault(self, message: str) -> None:
        log.warning("%s", message)
        self._emit("fault", message=message)
        for listener in list(self._fault_listeners):
            listener(message)

    def _emit(self, kind: str, **data: Any) -> None:
        if self._sink is not None:
            self._sink(kind, device="icebath", **data)


def probe(transport: Any) -> str | None:
    """Return the identity if an IceBath 100 answers on transport, else None."""
    try:
        return IceBath(transport)._ask("ID?", IDENTITY).group(0)
    except DeviceError:
        return None


DRIVER = DriverSpec(
    name="icebath",
    kind="cold_pressor",
    model="IceBath 100",
    transport="serial",
    factory=IceBath,
    serial_settings=SERIAL_SETTINGS,
    emulator="icebath",
    probe=probe,
    description="IceBath 100 cold-pressor bath (worked example of a lab's own driver)",
)
