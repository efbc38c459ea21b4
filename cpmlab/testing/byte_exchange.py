"""Fake transports scripted with the exact byte exchanges a device manual prescribes.

For driver byte-exchange tests (see docs/drivers.md). ``FakeSerial`` behaves like the serial
transport cpmlab hands a driver (write/read/read_until/in_waiting/reset_input_buffer/flush/
close and a ``timeout`` attribute; a vanished port raises PortVanishedError). It is given
``(request bytes, reply bytes)`` pairs in order: when the written bytes complete the next
expected request, its reply becomes readable.
Requests may arrive split over several writes or several back to back in one write. An
unexpected byte fails the write (AssertionError) and is remembered; ``check()`` reports
that and every expected exchange left unused (PyMeasure's ``expected_protocol`` idea).

``FakeConnector`` does the same for request/response TCP devices: each ``open()`` is one
connection, each connection's request must equal the next expected request.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Iterator

from cpmlab.core.errors import DeviceError
from cpmlab.devices.transport import PortVanishedError

#: Lists that all_exchanges_used() is filling with every fake made meanwhile.
_TRACKERS: list[list[FakeSerial | FakeConnector]] = []

#: (request bytes, reply bytes); a reply of None or b"" means the device does not answer.
Exchange = tuple[bytes, bytes | None]


class FakeSerial:
    """A scripted serial transport: expected requests in order, each with the reply it gets."""

    def __init__(self, exchanges: list[Exchange], *, timeout: float = 0.02, unsolicited: bytes = b"") -> None:
        self.timeout = timeout
        self.is_open = True
        self.closed = 0  # how many times close() was called
        self.written = bytearray()  # everything ever written
        self.writes: list[tuple[float, bytes]] = []  # (time.monotonic(), bytes) of every write call
        self.errors: list[str] = []
        self._expected: deque[tuple[bytes, bytes]] = deque((request, reply or b"") for request, reply in exchanges)
        self._pending = bytearray()  # written bytes not yet matched to a request
        self._rx = bytearray(unsolicited)
        self._cond = threading.Condition()
        self._vanished = False
        for tracker in _TRACKERS:
            tracker.append(self)

    # -- script control -------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Make data readable now, as bytes the device sends unasked (e.g. streaming)."""
        with self._cond:
            self._rx.extend(data)
            self._cond.notify_all()

    def vanish(self) -> None:
        """Make the port disappear: reads, writes and in_waiting raise PortVanishedError from now on."""
        with self._cond:
            self._vanished = True
            self._cond.notify_all()

    def expect(self, *exchanges: Exchange) -> None:
        """Append more expected exchanges to the script."""
        with self._cond:
            self._expected.extend((request, reply or b"") for request, reply in exchanges)

    def unused(self) -> list[tuple[bytes, bytes]]:
        """Return the expected exchanges that never happened."""
        with self._cond:
            return list(self._expected)

    def check(self) -> None:
        """Fail if an unexpected byte was written or an expected exchange is left unused."""
        problems = list(self.errors)
        left = self.unused()
        if left:
            problems.append(f"{len(left)} expected exchange(s) left unused, first {left[0]!r}")
        if self._pending:
            problems.append(f"incomplete request written: {bytes(self._pending)!r}")
        if problems:
            raise AssertionError("; ".join(problems))

    # -- pyserial API ---------------------------------------------------------------------
    def write(self, data: bytes) -> int:
        """Match data against the expected requests and queue their replies."""
        with self._cond:
            if self._vanished:
                raise PortVanishedError("write failed: [Errno 5] Input/output error")
            if not self.is_open:
                raise PortVanishedError("Attempting to use a port that is not open")
            self.written.extend(data)
            self.writes.append((time.monotonic(), bytes(data)))
            self._pending.extend(data)
            while self._pending:
                if not self._expected:
                    return self._fail(f"unexpected write {bytes(self._pending)!r}: no more expected")
                request, reply = self._expected[0]
                if self._pending.startswith(request):
                    del self._pending[: len(request)]
                    self._expected.popleft()
                    self._rx.extend(reply)
                    self._cond.notify_all()
                elif request.startswith(self._pending):
                    break  # the rest of the request comes with a later write
                else:
                    return self._fail(f"unexpected write {bytes(self._pending)!r}, expected {request!r}")
            return len(data)

    def _fail(self, message: str) -> int:
        self.errors.append(message)
        self._pending.clear()
        raise AssertionError(message)

    def read(self, size: int = 1) -> bytes:
        """Return up to size bytes, waiting at most timeout for the first one."""
        with self._cond:
            if not self._rx and not self._vanished:
                self._cond.wait(self.timeout)
            if self._vanished:
                raise PortVanishedError("device reports readiness to read but returned no data")
            out = bytes(self._rx[:size])
            del self._rx[:size]
            return out

    def read_until(self, expected: bytes = b"\n", size: int | None = None) -> bytes:
        """Read until expected, size bytes or a timeout, like pyserial."""
        out = bytearray()
        while True:
            chunk = self.read(1)
            if not chunk:
                return bytes(out)
            out.extend(chunk)
            if out.endswith(expected) or (size is not None and len(out) >= size):
                return bytes(out)

    @property
    def in_waiting(self) -> int:
        """Number of bytes readable without waiting."""
        with self._cond:
            if self._vanished:
                raise PortVanishedError("[Errno 5] Input/output error")
            return len(self._rx)

    def reset_input_buffer(self) -> None:
        """Discard unread bytes."""
        with self._cond:
            if self._vanished:
                raise PortVanishedError("[Errno 5] Input/output error")
            self._rx.clear()

    def flush(self) -> None:
        """Nothing to flush: written bytes are matched at once."""

    def cancel_read(self) -> None:
        """Wake a blocked read."""
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """Close the port (idempotent) and count the call."""
        self.is_open = False
        self.closed += 1


@contextlib.contextmanager
def all_exchanges_used() -> Iterator[list[FakeSerial | FakeConnector]]:
    """Yield the list of every fake made in the block; on a clean exit, check() each of them.

    Used as an autouse fixture, it makes "every expected exchange happened, and nothing
    else was written" hold for every byte-exchange test without each test saying so.
    """
    made: list[FakeSerial | FakeConnector] = []
    _TRACKERS.append(made)
    try:
        yield made
    finally:
        _TRACKERS.remove(made)
    for fake in made:
        fake.check()


@contextlib.contextmanager
def expected_protocol(exchanges: list[Exchange], **kwargs: object) -> Iterator[FakeSerial]:
    """Yield a FakeSerial and check on exit that exactly the exchanges happened."""
    fake = FakeSerial(exchanges, **kwargs)  # type: ignore[arg-type]
    yield fake
    fake.check()


class FakeSocket:
    """One scripted TCP connection: collects the request, then serves the reply."""

    def __init__(self, owner: FakeConnector) -> None:
        self._owner = owner
        self._request = bytearray()
        self._reply: bytearray | None = None
        self.closed = False

    def sendall(self, data: bytes) -> None:
        """Collect request bytes; once they equal the expected request, stage its reply."""
        self._request.extend(data)
        self._reply = self._owner._match(bytes(self._request))

    def recv(self, size: int) -> bytes:
        """Return up to size reply bytes; b'' once the reply is used up (server closed)."""
        if self._reply is None:
            raise TimeoutError("timed out")  # incomplete, or a request the script never answers
        out = bytes(self._reply[:size])
        del self._reply[:size]
        return out

    def settimeout(self, _: float | None) -> None:
        """Accept a timeout (ignored)."""

    def close(self) -> None:
        """Close the connection."""
        self.closed = True


class FakeConnector:
    """A TcpConnector stand-in whose connections follow a script of (request, reply) pairs.

    A reply of b"" closes the connection without a byte; None never answers (recv times out).
    """

    host = "fake"
    port = 20121

    def __init__(self, exchanges: list[Exchange], *, refuse: bool = False) -> None:
        self._expected: deque[Exchange] = deque(exchanges)
        self.refuse = refuse
        self.requests: list[bytes] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        for tracker in _TRACKERS:
            tracker.append(self)

    def open(self) -> FakeSocket:
        """Open a scripted connection (or raise DeviceError when refusing)."""
        if self.refuse:
            raise DeviceError("cannot connect to fake:20121: [Errno 111] Connection refused")
        return FakeSocket(self)

    def _match(self, request: bytes) -> bytearray | None:
        with self._lock:
            if not self._expected:
                message = f"unexpected request {request.hex()}: no more expected"
                self.errors.append(message)
                raise AssertionError(message)
            expected, reply = self._expected[0]
            if request == expected:
                self._expected.popleft()
                self.requests.append(request)
                return None if reply is None else bytearray(reply)  # None: taken, never answered
            if expected.startswith(request):
                return None
            message = f"unexpected request {request.hex()}, expected {expected.hex()}"
            self.errors.append(message)
            raise AssertionError(message)

    def unused(self) -> list[Exchange]:
        """Return the expected exchanges that never happened."""
        return list(self._expected)

    def check(self) -> None:
        """Fail on an unexpected request or an expected exchange left unused."""
        problems = list(self.errors)
        if self._expected:
            first = self._expected[0][0].hex()
            problems.append(f"{len(self._expected)} expected exchange(s) left unused, first {first}")
        if problems:
            raise AssertionError("; ".join(problems))
