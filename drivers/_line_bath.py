"""Shared machinery of the line-based ASCII bath drivers (Julabo, Lauda).

One exchange at a time under a lock: command spacing, a single retry of the very first
query, reading one reply line within a timeout, clear DeviceErrors for garbage, timeouts
and a vanished port, fault reporting (once per episode) and the optional polling thread.
Each device module supplies its command table and its reply parsing.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from cpmlab.core import clock
from cpmlab.core.errors import DeviceError, LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import BathListener, BathReading, BathStatus, FaultListener
from cpmlab.devices.transport import PortVanishedError, WriteTimeoutError

log = logging.getLogger(__name__)

T = TypeVar("T")
EventSink = Callable[..., None]

NUMBER_RE = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*$")
MAX_REPLY_BYTES = 128
#: A polled bath this far below the session minimum is reported as a fault.
BELOW_MIN_TOLERANCE_C = 0.5
#: Between polls the port is checked this often, so a vanished port is reported within 1 s.
LIVENESS_CHECK_S = 0.25


class ReplyTimeoutError(DeviceError):
    """No complete reply line arrived in time."""


def parse_number(text: str, what: str) -> float:
    """Return the plain decimal in text, or raise DeviceError naming what was expected."""
    match = NUMBER_RE.match(text)
    if not match:
        raise DeviceError(f"garbled reply to {what}: expected a number, got {text!r}")
    return float(match.group(1))


def format_c(value_c: float) -> str:
    """Format a temperature with two decimals, as the baths expect (12.00)."""
    return f"{value_c:.2f}"


def ceil_2dp(value: float) -> float:
    """Round value up to two decimals (a lower bound must never be rounded down)."""
    return math.ceil(round(value * 100, 6)) / 100


class LineBathDriver:
    """Base of a cold-pressor driver speaking one ASCII line per command over serial."""

    kind = "cold_pressor"
    #: Plugin name, used as ``device`` in events.
    name: ClassVar[str] = ""
    model: str = ""
    #: Device range a cold-pressor setpoint must fall in, in C (besides SafetyLimits).
    setpoint_range_c: ClassVar[tuple[float, float]] = (-20.0, 40.0)
    write_terminator: ClassVar[bytes] = b"\r"
    #: Minimum pause after a command whose text starts with the key (longest key wins), in s.
    spacing_s: ClassVar[Mapping[str, float]] = {}

    def __init__(
        self,
        transport: Any,
        *,
        event_sink: EventSink | None = None,
        reply_timeout_s: float = 1.0,
    ) -> None:
        self._transport = transport
        self._event_sink = event_sink
        self.reply_timeout_s = reply_timeout_s
        self._lock = threading.RLock()
        self._limits: SafetyLimits | None = None
        self._answered_once = False
        self._last_end = -math.inf
        self._last_gap_s = 0.0
        self._vanished = False
        self._closed = False
        self._reading_listeners: list[BathListener] = []
        self._fault_listeners: list[FaultListener] = []
        self._active_faults: dict[str, str] = {}
        self._poller: threading.Thread | None = None
        self._stop_polling = threading.Event()
        if getattr(transport, "timeout", 0.05) is None:
            transport.timeout = 0.05  # a blocking read would hang on a silent device

    # -- listeners ------------------------------------------------------------------------
    def add_reading_listener(self, listener: BathListener) -> None:
        """Call listener with bath readings while polling is on."""
        self._reading_listeners.append(listener)

    def add_fault_listener(self, listener: FaultListener) -> None:
        """Call listener with a message when the device faults or vanishes."""
        self._fault_listeners.append(listener)

    @property
    def limits(self) -> SafetyLimits | None:
        """The session limits given to connect(), or None before connect."""
        return self._limits

    # -- events and faults ----------------------------------------------------------------
    def _emit(self, kind: str, **data: Any) -> None:
        if self._event_sink is not None:
            self._event_sink(kind, device=self.name, **data)

    def _report_fault(self, key: str, message: str, *, per_message: bool = False) -> None:
        """Tell fault listeners once per episode of key (or per new message if per_message)."""
        active = self._active_faults.get(key)
        if active is not None and (not per_message or active == message):
            return
        self._active_faults[key] = message
        log.warning("%s", message)
        try:
            self._emit("fault", message=message)
        except Exception:
            log.exception("%s: event sink failed on a fault", self.name)
        for listener in list(self._fault_listeners):
            try:
                listener(message)
            except Exception:
                log.exception("%s: fault listener failed", self.name)

    def _clear_fault(self, key: str) -> None:
        self._active_faults.pop(key, None)

    # -- wire -----------------------------------------------------------------------------
    def _io(self, func: Callable[..., T], *args: Any) -> T:
        try:
            return func(*args)
        except WriteTimeoutError as exc:
            raise DeviceError(f"{self.name}: write timed out: {exc}") from exc
        except (PortVanishedError, OSError) as exc:
            self._vanished = True
            raise PortVanishedError(f"{self.name}: serial port vanished: {exc}") from exc

    def _gap_after(self, command: str) -> float:
        best, gap = -1, 0.0
        for prefix, seconds in self.spacing_s.items():
            if command.startswith(prefix) and len(prefix) > best:
                best, gap = len(prefix), seconds
        return gap

    def _check_usable(self) -> None:
        if self._closed:
            raise DeviceError(f"{self.name}: driver is closed")
        if self._vanished:
            raise PortVanishedError(f"{self.name}: serial port has vanished; reconnect the device")

    def _write(self, command: str) -> None:
        wait_s = self._last_end + self._last_gap_s - time.monotonic()
        if wait_s > 0:
            time.sleep(wait_s)
        raw = command.encode("ascii") + self.write_terminator
        self._emit("command", command=command, raw=raw.hex())
        reset = getattr(self._transport, "reset_input_buffer", None)
        if reset is not None:
            self._io(reset)  # a late reply to an earlier query must not answer this one
        self._io(self._transport.write, raw)
        flush = getattr(self._transport, "flush", None)
        if flush is not None:
            self._io(flush)
        self._last_end = time.monotonic()
        self._last_gap_s = self._gap_after(command)

    def _read_line(self, command: str) -> tuple[bytes, str]:
        deadline = time.monotonic() + self.reply_timeout_s
        buf = bytearray()
        while b"\n" not in buf:
            if time.monotonic() > deadline:
                if buf:
                    raise DeviceError(
                        f"{self.name}: garbled or incomplete reply to {command!r} within "
                        f"{self.reply_timeout_s:g} s: {bytes(buf)!r}"
                    )
                raise ReplyTimeoutError(f"{self.name}: no reply to {command!r} within {self.reply_timeout_s:g} s")
            try:
                waiting = self._io(lambda: self._transport.in_waiting)
            except AttributeError:
                waiting = 0
            buf += self._io(self._transport.read, max(1, waiting))
            if len(buf) > MAX_REPLY_BYTES:
                raise DeviceError(f"{self.name}: garbled reply to {command!r}: {len(buf)} bytes without a line end")
        raw = bytes(buf[: buf.index(b"\n") + 1])
        self._last_end = time.monotonic()
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            text = None
        if text is None or not text.isprintable():
            raise DeviceError(f"{self.name}: garbled reply to {command!r}: {raw!r}")
        return raw, text

    def _guarded(self, action: Callable[[], T]) -> T:
        """Run one exchange under the lock; report a DeviceError once, then re-raise it."""
        with self._lock:
            self._check_usable()
            try:
                result = action()
            except DeviceError as exc:
                self._report_fault("link", str(exc))
                raise
            self._clear_fault("link")
            return result

    def _send(self, command: str) -> None:
        """Send a command the device does not answer."""
        self._guarded(lambda: self._write(command))

    def _exchange(self, command: str, parse: Callable[[str], T]) -> T:
        """Send command, read and parse its reply line; raise DeviceError on failure."""
        return self._guarded(lambda: self._transact(command, parse))

    def _transact(self, command: str, parse: Callable[[str], T]) -> T:
        self._write(command)
        try:
            raw, text = self._read_line(command)
        except ReplyTimeoutError:
            if self._answered_once:
                raise
            # Some units let the very first query after connect time out: ask once more.
            log.info("%s: first query %r timed out; retrying once", self.name, command)
            self._answered_once = True
            self._write(command)
            raw, text = self._read_line(command)
        self._answered_once = True
        try:
            value = parse(text)
        except DeviceError as exc:
            self._emit_garbage(raw, exc)
            raise
        try:
            self._emit("reply", raw=raw.hex(), text=text, value=value)
        except Exception:
            log.exception("%s: event sink failed on a reply", self.name)
        return value

    def _emit_garbage(self, raw: bytes, exc: DeviceError) -> None:
        try:
            self._emit("reply", raw=raw.hex(), error=str(exc))
        except Exception:
            log.exception("%s: event sink failed on a reply", self.name)

    def query_number(self, command: str) -> float:
        """Send a query and return its numeric reply."""
        return self._exchange(command, lambda text: parse_number(text, command))

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
                    f"bath setpoint {value_c:g} C is outside the {self.name} cold-pressor range {low_c:g}-{high_c:g} C"
                )
            limits.check_bath_c(value_c)
        return text

    def _verify(self, command: str, expected: float, what: str) -> None:
        actual = self.query_number(command)
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
        if status.ok:
            self._clear_fault("alarm")
        else:
            self._report_fault("alarm", f"{self.name} alarm: {status.text}", per_message=True)
        return status

    def read_temperature(self) -> BathReading:
        """Query and return the bath temperature."""
        raise NotImplementedError

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
