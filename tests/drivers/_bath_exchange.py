"""A scripted fake pyserial port for the bath drivers' byte-exchange tests.

Each expected exchange is (bytes the driver must write, bytes the device answers or None
for no answer). An unexpected write fails at once; ``assert_all_used()`` fails if an
expected exchange was never made. Write times are recorded for spacing checks.
"""

from __future__ import annotations

import time

import serial


class ScriptedSerial:
    """Replays expected request/reply byte exchanges like a pyserial port."""

    def __init__(self, exchanges: list[tuple[bytes, bytes | None]]) -> None:
        self._script = list(exchanges)
        self._next = 0
        self._rx = bytearray()
        self.timeout: float | None = 0.05
        self.writes: list[tuple[float, bytes]] = []
        self.closed = 0
        self.vanished = False

    def expect(self, *exchanges: tuple[bytes, bytes | None]) -> None:
        """Append more expected exchanges."""
        self._script.extend(exchanges)

    def vanish(self) -> None:
        """Make every later call fail as if the cable were pulled."""
        self.vanished = True

    def _check(self) -> None:
        if self.vanished:
            raise serial.SerialException("device reports readiness to read but returned no data")

    def write(self, data: bytes) -> int:
        """Check data against the next expected exchange and queue its reply."""
        self._check()
        self.writes.append((time.monotonic(), bytes(data)))
        if self._next >= len(self._script):
            raise AssertionError(f"unexpected write {bytes(data)!r}: no exchange left")
        expected, reply = self._script[self._next]
        if bytes(data) != expected:
            raise AssertionError(f"expected write {expected!r}, got {bytes(data)!r}")
        self._next += 1
        if reply:
            self._rx += reply
        return len(data)

    def read(self, size: int = 1) -> bytes:
        """Return up to size queued reply bytes, or b'' after a short wait."""
        self._check()
        if not self._rx:
            time.sleep(min(self.timeout or 0.01, 0.01))
            return b""
        data = bytes(self._rx[:size])
        del self._rx[:size]
        return data

    @property
    def in_waiting(self) -> int:
        """Number of reply bytes waiting."""
        self._check()
        return len(self._rx)

    def reset_input_buffer(self) -> None:
        """Drop unread reply bytes."""
        self._check()
        self._rx.clear()

    def flush(self) -> None:
        """Nothing to flush."""
        self._check()

    def close(self) -> None:
        """Count closes."""
        self.closed += 1

    def written(self) -> list[bytes]:
        """Return every write so far."""
        return [data for _, data in self.writes]

    def assert_all_used(self) -> None:
        """Fail if an expected exchange was never made."""
        left = self._script[self._next :]
        assert not left, f"expected exchanges never made: {left!r}"


def line(text: str) -> bytes:
    """Return a device reply line (text + CR LF)."""
    return text.encode("ascii") + b"\r\n"


def cmd(text: str) -> bytes:
    """Return a driver command (text + CR)."""
    return text.encode("ascii") + b"\r"
