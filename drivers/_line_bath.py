"""Shared behaviour of the line-based ASCII bath drivers (Julabo, Lauda) above the wire.

Setpoint limits, readings checked against the session minimum, alarm status, the optional
polling thread and closing. The wire itself (``_line_link``) does one exchange at a time;
each device module supplies its command table and its reply parsing.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any, ClassVar

from cpmlab.core import clock
from cpmlab.core.errors import DeviceError, LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathListener, BathReading, BathStatus
from cpmlab.devices.transport import PortVanishedError
from cpmlab.drivers._line_link import (
    BATH_REPLY_TIMEOUT_S,
    EventSink,
    LineLink,
    ReplyTimeoutError,
    ceil_2dp,
    format_c,
    parse_number,
)

log = logging.getLogger(__name__)

__all__ = [
    "BATH_REPLY_TIMEOUT_S",
    "EventSink",
    "LineBathDriver",
    "PortVanishedError",
    "ReplyTimeoutError",
    "ceil_2dp",
    "format_c",
    "parse_number",
]

#: A polled bath this far below the session minimum is reported as a fault.
BELOW_MIN_TOLERANCE_C = 0.5
#: Between polls the port is checked this often, so a vanished port is reported within 1 s.
LIVENESS_CHECK_S = 0.25
#: A temperature reading also asks the status when the last status is this old, in s, so
#: an alarm raised during the session is a fault within 1 s of the next reading.
STATUS_EVERY_S = 0.4


class LineBathDriver(LineLink):
    """Base of a cold-pressor driver speaking one ASCII line per command over serial."""

    kind = "cold_pressor"
    model: str = ""
    #: Device range a conditioning-bath setpoint must fall in, in C (besides SafetyLimits): cold
    #: pressor down to -20 C, hot-water conditioning up to 50 C (SafetyLimits caps it at 49 C).
    setpoint_range_c: ClassVar[tuple[float, float]] = (-20.0, 50.0)
    #: The query that reads the bath temperature.
    temperature_command: ClassVar[str] = "IN_PV_00"
    #: Every temperature the device can report (bath, setpoints, limits), in C; a reply
    #: outside it is garbage (a DeviceError), never a reading. Each device module sets it.
    reported_range_c: ClassVar[tuple[float, float]] = (-50.0, 200.0)

    def __init__(
        self,
        transport: Any,
        *,
        event_sink: EventSink | None = None,
        reply_timeout_s: float = BATH_REPLY_TIMEOUT_S,
    ) -> None:
        super().__init__(transport, event_sink=event_sink, reply_timeout_s=reply_timeout_s)
        self._limits: SafetyLimits | None = None
        self._reading_listeners: list[BathListener] = []
        self._poller: threading.Thread | None = None
        self._stop_polling = threading.Event()
        self._status_at = -math.inf

    # -- listeners ------------------------------------------------------------------------
    def add_reading_listener(self, listener: BathListener) -> None:
        """Call listener with bath readings while polling is on."""
        self._reading_listeners.append(listener)

    @property
    def limits(self) -> SafetyLimits | None:
        """The session limits given to connect(), or None before connect."""
        return self._limits

    # -- limits ---------------------------------------------------------------------------
    def _require_limits(self) -> SafetyLimits:
        if self._limits is None:
            raise DeviceError(f"{self.name}: not connected; call connect(limits) first")
        return self._limits

    def check_setpoint(self, setpoint_c: float) -> str:
        """Raise LimitError unless setpoint_c is allowed; return it as sent (two decimals)."""
        limits = self._require_limits()
        if not math.isfinite(setpoint_c):
            raise LimitError(f"bath setpoint {setpoint_c!r} is not a finite temperature")
        text = format_c(setpoint_c)
        low_c, high_c = self.setpoint_range_c
        for value_c in (setpoint_c, float(text)):
            if not low_c <= value_c <= high_c:
                raise LimitError(
                    f"bath setpoint {value_c:g} C is outside the {self.name} bath range {low_c:g}-{high_c:g} C"
                )
            limits.check_bath_c(value_c)
        return text

    def query_temperature(self, command: str) -> float:
        """Send a temperature query; return the value, or raise DeviceError if the device cannot report it."""
        return self.query_number(command, self.reported_range_c)

    def _verify(self, command: str, expected: float, what: str, bounds: tuple[float, float] | None = None) -> None:
        actual = self.query_number(command, self.reported_range_c if bounds is None else bounds)
        if abs(actual - expected) > 0.005:
            message = f"{self.name}: {what} reads back {actual:g}, not the {expected:g} sent"
            self._report_fault("link", message)
            raise DeviceError(message)

    # -- readings -------------------------------------------------------------------------
    def _reading(self, bath_c: float) -> BathReading:
        reading = BathReading(t=clock.now(), bath_c=bath_c)
        limits = self._limits
        if limits is not None and bath_c < limits.min_bath_c - BELOW_MIN_TOLERANCE_C:
            self._report_fault(
                "cold",
                f"{self.name}: bath {bath_c:.2f} C is below the minimum {limits.min_bath_c:g} C",
            )
        elif limits is not None and bath_c >= limits.min_bath_c:
            self._clear_fault("cold")
        return reading

    def _status_seen(self, status: BathStatus) -> BathStatus:
        self._status_at = time.monotonic()
        if status.ok:
            self._clear_fault("alarm")
        else:
            self._report_fault("alarm", f"{self.name} alarm: {status.text}", per_message=True)
        return status

    def read_temperature(self) -> BathReading:
        """Query and return the bath temperature; also check the status if it is due."""
        reading = self._reading(self.query_temperature(self.temperature_command))
        if time.monotonic() - self._status_at >= STATUS_EVERY_S:
            status = self.status()  # an alarm reaches the fault listeners (the session ends)
            if not status.ok:
                raise DeviceError(f"{self.name} alarm: {status.text}")
        return reading

    def status(self) -> BathStatus:
        """Query and return the circulator status."""
        raise NotImplementedError

    # -- polling --------------------------------------------------------------------------
    def start_polling(self, interval_s: float = 1.0) -> None:
        """Poll temperature and status every interval_s on a thread; feed listeners."""
        if not interval_s > 0:
            raise ValueError("interval_s must be positive")
        self.stop_polling()
        self._stop_polling.clear()
        self._poller = threading.Thread(
            target=self._poll_loop, args=(interval_s,), name=f"{self.name}-poll", daemon=True
        )
        self._poller.start()

    def stop_polling(self) -> None:
        """Stop the polling thread, if any."""
        self._stop_polling.set()
        poller, self._poller = self._poller, None
        if poller is not None and poller is not threading.current_thread():
            poller.join(timeout=self.reply_timeout_s * 3 + 1)

    @property
    def polling(self) -> bool:
        """True while the polling thread runs."""
        return self._poller is not None and self._poller.is_alive()

    def _poll_once(self) -> None:
        reading = self.read_temperature()
        for listener in list(self._reading_listeners):
            try:
                listener(reading)
            except Exception:
                log.exception("%s: reading listener failed", self.name)
        self.status()

    def _poll_loop(self, interval_s: float) -> None:
        due = time.monotonic()
        while not self._stop_polling.is_set():
            try:
                self._poll_once()
            except PortVanishedError:
                return  # already reported; a vanished port does not come back
            except DeviceError:
                pass  # already reported to the fault listeners
            except Exception as exc:  # a bug must not end polling silently
                log.exception("%s: polling failed", self.name)
                self._report_fault("poll", f"{self.name}: polling failed: {exc}")
            due = max(due + interval_s, time.monotonic())
            while (remaining := due - time.monotonic()) > 0:
                if self._stop_polling.wait(min(remaining, LIVENESS_CHECK_S)):
                    return
                if self._port_vanished():
                    return

    def _port_vanished(self) -> bool:
        """Check the port between polls (without waiting for the lock); report if gone."""
        if self._vanished:
            return True
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._io(lambda: self._transport.in_waiting)
        except PortVanishedError as exc:
            self._report_fault("link", str(exc))
            return True
        except (AttributeError, DeviceError):
            return False
        finally:
            self._lock.release()
        return False

    # -- lifecycle ------------------------------------------------------------------------
    def abort(self) -> None:
        """Do nothing on the wire: a bath has no stimulus to end and keeps its setpoint."""
        log.info("%s: abort (bath left at its setpoint)", self.name)

    def close(self) -> None:
        """Stop polling and release the transport; safe to call twice, never raises."""
        try:
            self.stop_polling()
        except Exception:
            log.exception("%s: stopping the poller failed", self.name)
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._transport.close()
            except Exception:
                log.debug("%s: closing the transport failed", self.name, exc_info=True)
