"""Open the transport a driver is handed: a pyserial port/URL or a TCP connector.

pyserial stays in this layer: the port is wrapped so that its failures reach the driver as
cpmlab's own PortVanishedError and WriteTimeoutError (see cpmlab.devices.transport).
"""

from __future__ import annotations

from typing import Any

import serial

from cpmlab.core.errors import DeviceError
from cpmlab.devices.plugins import DriverSpec
from cpmlab.devices.transport import PortVanishedError, TcpConnector, WriteTimeoutError


def _mapped(exc: BaseException) -> DeviceError:
    if isinstance(exc, serial.SerialTimeoutException):
        return WriteTimeoutError(str(exc))
    return PortVanishedError(str(exc))


class SerialTransport:
    """A pyserial port whose failures surface as cpmlab's own device errors.

    ``serial`` is the pyserial object; its settings (port, timeout, baudrate, bytesize,
    parity, ...) read and write through.
    """

    def __init__(self, port: serial.SerialBase) -> None:
        object.__setattr__(self, "serial", port)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.serial, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.serial, name, value)

    def write(self, data: bytes) -> int | None:
        """Write data to the port."""
        try:
            return self.serial.write(data)
        except (serial.SerialException, OSError) as exc:
            raise _mapped(exc) from exc

    def read(self, size: int = 1) -> bytes:
        """Return up to size bytes, waiting at most the port's timeout for the first one."""
        try:
            return self.serial.read(size)
        except (serial.SerialException, OSError) as exc:
            raise _mapped(exc) from exc

    @property
    def in_waiting(self) -> int:
        """Number of bytes readable without waiting."""
        try:
            return self.serial.in_waiting
        except (serial.SerialException, OSError) as exc:
            raise _mapped(exc) from exc

    def reset_input_buffer(self) -> None:
        """Discard unread bytes."""
        try:
            self.serial.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise _mapped(exc) from exc

    def flush(self) -> None:
        """Wait until everything written has been sent."""
        try:
            self.serial.flush()
        except (serial.SerialException, OSError) as exc:
            raise _mapped(exc) from exc

    def cancel_read(self) -> None:
        """Wake a blocked read."""
        self.serial.cancel_read()

    def close(self) -> None:
        """Close the port."""
        self.serial.close()


def open_serial(port: str, settings: dict[str, Any], timeout_s: float = 0.05) -> SerialTransport:
    """Open a serial port or pyserial URL (socket://, loop://) with the driver's settings."""
    try:
        return SerialTransport(serial.serial_for_url(port, timeout=timeout_s, **settings))
    except (serial.SerialException, OSError, ValueError) as exc:
        raise DeviceError(f"cannot open serial port {port}: {exc}") from exc


def open_transport(spec: DriverSpec, port: str) -> Any:
    """Open what spec's driver expects for port: a serial transport or a TcpConnector."""
    if spec.transport == "tcp":
        return TcpConnector.parse(port, int(spec.default_port.rsplit(":", 1)[-1]) if spec.default_port else 0)
    return open_serial(port, spec.serial_settings)
