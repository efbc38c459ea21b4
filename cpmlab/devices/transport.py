"""Open the transport a driver is handed: a pyserial port/URL or a TCP connector."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import serial

from cpmlab.core.errors import DeviceError
from cpmlab.devices.plugins import DriverSpec


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


def open_serial(port: str, settings: dict[str, Any], timeout_s: float = 0.05) -> serial.SerialBase:
    """Open a serial port or pyserial URL (socket://, loop://) with the driver's settings."""
    try:
        return serial.serial_for_url(port, timeout=timeout_s, **settings)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceError(f"cannot open serial port {port}: {exc}") from exc


def open_transport(spec: DriverSpec, port: str) -> Any:
    """Open what spec's driver expects for port: a serial object or a TcpConnector."""
    if spec.transport == "tcp":
        return TcpConnector.parse(port, int(spec.default_port.rsplit(":", 1)[-1]) if spec.default_port else 0)
    return open_serial(port, spec.serial_settings)
