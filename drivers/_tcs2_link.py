"""The TCS II byte link: one write per command batch, a reader thread, replies and readings.

The reader thread splits the incoming stream (see ``_tcs2_protocol.StreamParser``):
temperature records go to reading listeners, any other line goes to the reply queue of the
query waiting for it. A failing port is reported once to fault listeners and ends the link.
The command set and byte formats are described in docs/hardware.md.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from cpmlab.core.clock import now
from cpmlab.core.errors import DeviceError
from cpmlab.devices.interfaces import FaultListener, ReadingListener, ThermodeReading
from cpmlab.devices.transport import PortVanishedError, WriteTimeoutError
from cpmlab.drivers._reply_sync import IdentityLedger
from cpmlab.drivers._tcs2_protocol import COMMANDS, DEVICE, HELP_FIELDS, HELP_LINE, IDENTITY, StreamParser

log = logging.getLogger("cpmlab.drivers.tcs2")

EventSink = Callable[..., None]

#: What a failing transport raises (cpmlab.app.transport maps pyserial's errors to these).
PORT_ERRORS: tuple[type[BaseException], ...] = (PortVanishedError, WriteTimeoutError, OSError)


class Tcs2Link:
    """The TCS II's serial byte link: command writes, the reader thread, replies and readings."""

    #: How quiet the line must be before the ``H`` text is taken as complete, in s.
    help_quiet_s = 0.2
    #: A partial item with no further byte for this long is flushed as a line, in s.
    stall_s = 0.2

    def __init__(
        self,
        serial_obj: Any,
        event_sink: EventSink | None = None,
        *,
        reply_timeout_s: float = 1.0,
    ) -> None:
        self._serial = serial_obj
        self._sink = event_sink
        self.reply_timeout_s = reply_timeout_s
        self._parser = StreamParser()
        self._replies: queue.Queue[str] = queue.Queue()
        self._reading_listeners: list[ReadingListener] = []
        self._fault_listeners: list[FaultListener] = []
        self._write_lock = threading.Lock()
        self._query_lock = threading.RLock()
        self._readings = threading.Condition()
        self._latest: ThermodeReading | None = None
        self._reading_count = 0
        self._vanished: str | None = None
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None
        self._closed = False
        self._desynced = False  # a reply was lost or late: resynchronise with ``?`` first
        self.late_replies_discarded = 0
        self._identity_queries = IdentityLedger(reply_timeout_s)
        with contextlib.suppress(Exception):
            if serial_obj.timeout is None or serial_obj.timeout > 0.1:
                serial_obj.timeout = 0.05  # the reader must notice close() and a vanished port

    # -- listeners ------------------------------------------------------------------------
    @property
    def malformed_count(self) -> int:
        """Number of garbage bytes the reader skipped so far."""
        return self._parser.malformed_count

    def add_reading_listener(self, listener: ReadingListener) -> None:
        """Call listener (from the reader thread) with every streamed reading."""
        self._reading_listeners.append(listener)

    def add_fault_listener(self, listener: FaultListener) -> None:
        """Call listener with a message when the device faults or vanishes."""
        self._fault_listeners.append(listener)

    # -- wire -----------------------------------------------------------------------------
    def _check_alive(self) -> None:
        if self._vanished is not None:
            raise DeviceError(f"TCS II is gone: {self._vanished}")
        if self._closed:
            raise DeviceError("TCS II driver is closed")

    def _send(self, commands: list[tuple[str, dict[str, Any]]], *, journal: bool = True) -> None:
        """Journal (unless journal is False) then write commands back to back in one write."""
        self._check_alive()
        encoded = [(name, COMMANDS[name].encode(**fields)) for name, fields in commands]
        for _, raw in encoded if journal else ():
            self._emit("command", device=DEVICE, command=raw.decode("ascii"), raw=raw.hex())
        data = b"".join(raw for _, raw in encoded)
        with self._write_lock:
            try:
                self._serial.write(data)
            except PORT_ERRORS as exc:
                message = f"write to the TCS II failed (port vanished?): {exc}"
                self._vanish(message)
                raise DeviceError(message) from exc
        log.debug("TCS II <- %r (%s)", data, ", ".join(name for name, _ in encoded))

    def _query(
        self,
        name: str,
        pattern: re.Pattern[str],
        expected: str,
        timeout_s: float | None = None,
        *,
        journal: bool = True,
    ) -> re.Match[str]:
        """Ask one query; journal it (a slow reply always, as a warning), or raise DeviceError."""
        timeout_s = self.reply_timeout_s if timeout_s is None else timeout_s
        with self._query_lock:
            self._require_reader_started()
            if not self._desynced or self._identity_queries.owed() == 0:  # else it may answer an owed ``?``
                _drain(self._replies)
            if self._desynced and name != "identify":
                self._resync()
            self._send([(name, {})], journal=journal)
            if name == "identify":
                self._identity_queries.sent()
            command = COMMANDS[name].fmt
            started = time.monotonic()
            deadline = started + timeout_s
            unexpected: list[str] = []
            while True:
                line = self._next_line(deadline)
                if line is None:
                    break
                match = pattern.match(line)
                if match and name == "identify" and not self._identity_queries.answered():
                    unexpected.append(line)  # the answer to an earlier ``?``, not to this one
                    continue
                if match:
                    took_s = time.monotonic() - started
                    if took_s > timeout_s / 2:  # the rule: slow is a warning, past the timeout a fault
                        warning = f"slow reply to {command!r}: {took_s:.2f} s (a fault at {timeout_s:g} s)"
                        self._emit("reply", device=DEVICE, raw=line.encode().hex(), reply=line, warning=warning)
                    elif journal:
                        self._emit("reply", device=DEVICE, raw=line.encode().hex(), reply=line)
                    self._desynced = False
                    return match
                unexpected.append(line)
            # The reply may still come: until the device answers ``?`` nothing is an answer.
            self._desynced = True
            if unexpected:
                message = f"TCS II answered {unexpected[-1]!r} to {command!r}, expected {expected}"
            else:
                message = self._timeout_message(command, timeout_s)
            self._report_fault(message)
            raise DeviceError(message)

    def _resync(self) -> None:
        """Ask ``?`` and discard every line before its ``TCS`` reply (the device answers in order).

        ``TCS`` matches no other reply pattern, so a late identity line is never an answer either.
        """
        self._send([("identify", {})])
        self._identity_queries.sent()
        deadline = time.monotonic() + 2 * self.reply_timeout_s
        while (line := self._next_line(deadline)) is not None:
            if IDENTITY.match(line) and self._identity_queries.answered():
                self._desynced = False
                return
            self.late_replies_discarded += 1
            self._emit("reply", device=DEVICE, raw=line.encode().hex(), discarded="late reply before TCS")
        message = f"TCS II did not answer '?' within {2 * self.reply_timeout_s:g} s after a lost reply"
        self._report_fault(message)
        raise DeviceError(message)

    def _timeout_message(self, command: str, timeout_s: float | None = None) -> str:
        timeout_s = self.reply_timeout_s if timeout_s is None else timeout_s
        return (
            f"no valid reply from the TCS II to {command!r} within {timeout_s:g} s "
            f"({self.malformed_count} garbage bytes skipped so far)"
        )

    def _next_line(self, deadline: float) -> str | None:
        while True:
            self._check_alive()
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                return self._replies.get(timeout=min(left, 0.05))
            except queue.Empty:
                continue

    def _read_help(self) -> dict[str, str]:
        with self._query_lock:
            _drain(self._replies)
            self._send([("help", {})])
            details: dict[str, str] = {}
            deadline = time.monotonic() + self.reply_timeout_s
            lines: list[str] = []
            while True:
                line = self._next_line(deadline)
                if line is None:
                    break
                lines.append(line)
                match = HELP_LINE.match(line)
                if match:
                    details[HELP_FIELDS[match.group(1)]] = match.group(2)
                deadline = time.monotonic() + self.help_quiet_s
            if lines:
                raw = "\r\n".join(lines).encode("ascii").hex()
                self._emit("reply", device=DEVICE, raw=raw, help_lines=len(lines), **details)
            else:
                log.warning("TCS II sent no help text; firmware and probe are unknown")
            return details

    # -- reader thread --------------------------------------------------------------------
    def _start_reader(self) -> None:
        self._check_alive()
        if self._reader is None:
            self._reader = threading.Thread(target=self._read_loop, name="tcs2-reader", daemon=True)
            self._reader.start()

    def _require_reader_started(self) -> None:
        if self._reader is None:
            raise DeviceError("TCS II is not connected: call connect(limits) first")

    def _read_loop(self) -> None:
        last_rx = time.monotonic()
        while not self._stop.is_set():
            try:
                waiting = self._serial.in_waiting
                data = self._serial.read(waiting or 1)
            except PORT_ERRORS as exc:
                if not self._stop.is_set():
                    self._vanish(f"serial port vanished: {exc}")
                return
            except Exception as exc:  # a closed pyserial object raises TypeError etc.
                if not self._stop.is_set():
                    self._vanish(f"serial port failed: {type(exc).__name__}: {exc}")
                return
            t = now()
            if data:
                last_rx = time.monotonic()
                items = self._parser.feed(data)
            elif time.monotonic() - last_rx > self.stall_s:
                items = self._parser.flush()
            else:
                items = []
            for kind, value in items:
                if kind == "record":
                    neutral_c, zones_c = value  # type: ignore[misc]
                    self._deliver(ThermodeReading(t=t, neutral_c=neutral_c, zones_c=zones_c))
                else:
                    self._replies.put(str(value))

    def _deliver(self, reading: ThermodeReading) -> None:
        with self._readings:
            self._latest = reading
            self._reading_count += 1
            self._readings.notify_all()
        for listener in list(self._reading_listeners):
            try:
                listener(reading)
            except Exception:
                log.exception("TCS II reading listener %r failed", listener)

    def _vanish(self, message: str) -> None:
        if self._vanished is None:
            self._vanished = message
            self._report_fault(message)

    def _report_fault(self, message: str) -> None:
        log.error("TCS II fault: %s", message)
        try:
            self._emit("fault", device=DEVICE, message=message)
        except Exception:
            log.exception("event sink failed on a TCS II fault")
        for listener in list(self._fault_listeners):
            try:
                listener(message)
            except Exception:
                log.exception("TCS II fault listener %r failed", listener)

    def _emit(self, kind: str, **data: Any) -> None:
        if self._sink is not None:
            self._sink(kind, **data)


def _drain(q: queue.Queue[str]) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return
