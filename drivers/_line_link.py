"""The wire of the line-based ASCII bath drivers (Julabo, Lauda): one exchange at a time.

Under a lock: command spacing, a single retry of the very first query, reading one reply
line within a timeout, clear DeviceErrors for garbage, timeouts and a vanished port, and
fault reporting (once per episode). The command sets are described in docs/hardware.md.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from cpmlab.core.errors import DeviceError
from cpmlab.devices.interfaces import FaultListener
from cpmlab.devices.transport import PortVanishedError, WriteTimeoutError
from cpmlab.drivers._reply_sync import IdentityLedger

log = logging.getLogger("cpmlab.drivers._line_bath")

T = TypeVar("T")
EventSink = Callable[..., None]

#: A plain decimal as the baths send it: at most 4 integer and 3 decimal digits (no
#: exponent, no control characters, no overlong fields).
NUMBER_RE = re.compile(r"^\s*([+-]?\d{1,4}(?:\.\d{1,3})?)\s*$")
MAX_REPLY_BYTES = 128
#: Default reply timeout of the baths, in s: a reply takes under 0.1 s even at 4800 baud, and
#: a bath polled every 0.5 s that falls silent must be a fault within 1 s.
BATH_REPLY_TIMEOUT_S = 0.4
#: A reply slower than this fraction of the reply timeout is journaled as a warning (the
#: rule: slow is a warning, no complete reply within the timeout is a fault).
SLOW_REPLY_FRACTION = 0.5


class ReplyTimeoutError(DeviceError):
    """No complete reply line arrived in time."""


class GarbledLineError(DeviceError):
    """A complete reply line that is not printable ASCII."""

    def __init__(self, message: str, raw: bytes) -> None:
        super().__init__(message)
        self.raw = raw


def parse_number(text: str, what: str, bounds: tuple[float, float] | None = None) -> float:
    """Return the plain decimal in text (within bounds, if given), or raise DeviceError."""
    match = NUMBER_RE.match(text)
    if not match:
        raise DeviceError(f"garbled reply to {what}: expected a number, got {text!r}")
    value = float(match.group(1))
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise DeviceError(
            f"garbled reply to {what}: {value:g} is outside what the device can report ({bounds[0]:g} to {bounds[1]:g})"
        )
    return value


def format_c(value_c: float) -> str:
    """Format a temperature with two decimals, as the baths expect (12.00)."""
    return f"{value_c:.2f}"


def ceil_2dp(value: float) -> float:
    """Round value up to two decimals (a lower bound must never be rounded down)."""
    return math.ceil(round(value * 100, 6)) / 100


class LineLink:
    """One ASCII command line out, at most one reply line back, over a serial transport."""

    #: Plugin name, used as ``device`` in events.
    name: ClassVar[str] = ""
    write_terminator: ClassVar[bytes] = b"\r"
    #: Minimum pause after a command whose text starts with the key (longest key wins), in s.
    spacing_s: ClassVar[Mapping[str, float]] = {}
    #: The identity query used to resynchronise after a lost or late reply (see _resync).
    sync_command: ClassVar[str] = ""

    def __init__(
        self,
        transport: Any,
        *,
        event_sink: EventSink | None = None,
        reply_timeout_s: float = BATH_REPLY_TIMEOUT_S,
    ) -> None:
        self._transport = transport
        self._event_sink = event_sink
        self.reply_timeout_s = reply_timeout_s
        self._lock = threading.RLock()
        self._answered_once = False
        self._last_end = -math.inf
        self._last_gap_s = 0.0
        self._vanished = False
        self._closed = False
        self._fault_listeners: list[FaultListener] = []
        self._active_faults: dict[str, str] = {}
        self._rx = bytearray()  # bytes read past the end of the last reply line
        self._desynced = False  # a reply was lost or late: resynchronise before the next query
        self._identity_queries = IdentityLedger(reply_timeout_s)
        self.late_replies_discarded = 0
        if getattr(transport, "timeout", 0.05) is None:
            transport.timeout = 0.05  # a blocking read would hang on a silent device

    def add_fault_listener(self, listener: FaultListener) -> None:
        """Call listener with a message when the device faults or vanishes."""
        self._fault_listeners.append(listener)

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
        # A late reply to an earlier query must not answer this one. While an identity query
        # is owed, every line is read instead (it may be that answer, see _resync).
        if not self._desynced or self._identity_queries.owed() == 0:
            if reset is not None:
                self._io(reset)
            if self._rx:
                self.late_replies_discarded += self._rx.count(b"\n")
                self._rx.clear()
        if command == self.sync_command:
            self._identity_queries.sent()
        self._io(self._transport.write, raw)
        flush = getattr(self._transport, "flush", None)
        if flush is not None:
            self._io(flush)
        self._last_end = time.monotonic()
        self._last_gap_s = self._gap_after(command)

    def _read_line(self, command: str, deadline: float | None = None) -> tuple[bytes, str]:
        if deadline is None:
            deadline = time.monotonic() + self.reply_timeout_s
        buf = self._rx
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
            if b"\n" not in buf and len(buf) > MAX_REPLY_BYTES:
                size = len(buf)
                buf.clear()
                raise DeviceError(f"{self.name}: garbled reply to {command!r}: {size} bytes without a line end")
        raw = bytes(buf[: buf.index(b"\n") + 1])
        del buf[: len(raw)]
        if len(raw) > MAX_REPLY_BYTES:
            raise DeviceError(f"{self.name}: garbled reply to {command!r}: {len(raw)} bytes in one line")
        self._last_end = time.monotonic()
        try:
            # Only the line end is cut off: a control character anywhere else is garbage.
            text = raw.decode("ascii").removesuffix("\n").removesuffix("\r")
        except UnicodeDecodeError:
            text = None
        if text is None or not text.isprintable():
            raise GarbledLineError(f"{self.name}: garbled reply to {command!r}: {raw!r}", raw)
        return raw, text.strip(" ")

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
        try:
            return self._transact_in_sync(command, parse)
        except DeviceError:
            # The reply may still come (late) or may have been half read: whatever arrives
            # from now on until the device answers the identity query is not an answer.
            self._desynced = True
            raise

    def _transact_in_sync(self, command: str, parse: Callable[[str], T]) -> T:
        if self._desynced and command != self.sync_command:
            self._resync()
        self._write(command)
        sent_at = time.monotonic()
        try:
            raw, text = self._read_line(command)
            if self._desynced:  # this is the identity query: skip lines until its own reply
                raw, text = self._skip_to_sync_reply((raw, text))
            elif command == self.sync_command and self.is_sync_reply(text):
                self._identity_queries.answered()
        except ReplyTimeoutError:
            if self._answered_once:
                raise
            # Some units ignore the very first query after connect: ask once more. Any late
            # identity reply that still follows is refused by every other parser.
            log.info("%s: first query %r timed out; retrying once", self.name, command)
            self._answered_once = True
            if command == self.sync_command:
                self._identity_queries.forget_oldest()
            self._write(command)
            raw, text = self._read_line(command)
        self._answered_once = True
        self._desynced = False
        try:
            value = parse(text)
        except DeviceError as exc:
            self._emit_garbage(raw, exc)
            raise
        took_s = time.monotonic() - sent_at
        slow = {}
        if took_s > SLOW_REPLY_FRACTION * self.reply_timeout_s:
            slow = {"warning": f"slow reply: {took_s:.2f} s (a fault at {self.reply_timeout_s:g} s)"}
            log.warning("%s: %s to %r", self.name, slow["warning"], command)
        try:
            self._emit("reply", raw=raw.hex(), text=text, value=value, **slow)
        except Exception:
            log.exception("%s: event sink failed on a reply", self.name)
        return value

    def is_sync_reply(self, text: str) -> bool:
        """Return True if text is the device's answer to sync_command (its identity)."""
        return bool(text)

    def _resync(self) -> None:
        """Send the identity query and discard every line before its answer.

        The device answers in order, so once the reply to the last identity query owed is
        read no earlier reply is still on its way: the next query's answer is its own. The
        identity reply is refused by every other reply parser, so a late one can never pass
        as an answer either.
        """
        if not self.sync_command:
            self._desynced = False
            return
        self._write(self.sync_command)
        self._skip_to_sync_reply()
        self._desynced = False

    def _skip_to_sync_reply(self, first: tuple[bytes, str] | None = None) -> tuple[bytes, str]:
        """Discard lines (garbled ones too) until the reply to the last identity query owed."""
        deadline = time.monotonic() + 2 * self.reply_timeout_s
        line = first
        while True:
            if line is not None:
                raw, text = line
                if self.is_sync_reply(text) and self._identity_queries.answered():
                    return raw, text
                self.late_replies_discarded += 1
                self._emit("reply", raw=raw.hex(), text=text, discarded="late reply before the identity reply")
            try:
                line = self._read_line(self.sync_command, deadline)
            except ReplyTimeoutError:
                raise
            except GarbledLineError as exc:
                line = (exc.raw, "")

    def _emit_garbage(self, raw: bytes, exc: DeviceError) -> None:
        try:
            self._emit("reply", raw=raw.hex(), error=str(exc))
        except Exception:
            log.exception("%s: event sink failed on a reply", self.name)

    def query_number(self, command: str, bounds: tuple[float, float] | None = None) -> float:
        """Send a query and return its numeric reply (a value outside bounds is garbage)."""
        return self._exchange(command, lambda text: parse_number(text, command, bounds))
