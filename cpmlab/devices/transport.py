"""What a driver is handed: the byte-stream contract, its errors, and the TCP connector.

Opening a serial port needs pyserial, which lives above the engine (``cpmlab.app.transport``);
a driver only sees an object with this interface, whose failures arrive as the errors below.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Protocol

from cpmlab.core.errors import DeviceError


class PortVanishedError(DeviceError):
    """The port went away (cable pulled, adapter unplugged, port closed)."""


class WriteTimeoutError(DeviceError):
    """A write did not finish in time; the port itself is still there."""


class ByteTransport(Protocol):
    """The serial-like byte stream a serial driver is handed (a subset of pyserial's API).

    ``read``, ``write``, ``in_waiting`` and the buffer calls raise PortVanishedError or
    WriteTimeoutError (or OSError) when the link fails. ``timeout`` is the read timeout in s.
    """

    timeout: float | None

    def write(self, data: bytes) -> int | None:
        """Write data."""
        ...

    def read(self, size: int = 1) -> bytes:
        """Return up to size bytes, waiting at most timeout for the first one."""
        ...

    @property
    def in_waiting(self) -> int:
        """Number of bytes readable without waiting."""
        ...

    def reset_input_buffer(self) -> None:
        """Discard unread bytes."""
        ...

    def close(self) -> None:
        """Release the port."""
        ...


@dataclass(frozen=True)
class TcpConnector:
    """Opens a fresh TCP connection per request (as Medoc external control expects)."""

    host: str
    port: int
    timeout_s: float = 2.0

    def open(self) -> socket.socket:
        """Open and return a connected socket, or raise DeviceError."""
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        except OSError as exc:
            raise DeviceError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc

    def close(self) -> None:
        """Release nothing: each request opens and closes its own connection."""

    @classmethod
    def parse(cls, address: str, default_port: int) -> TcpConnector:
        """Parse 'host[:port]' or 'tcp://host[:port]'."""
        address = address.removeprefix("tcp://")
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "")
        if not host:
            host, port = address, ""
        return cls(host, int(port) if port else default_port)
