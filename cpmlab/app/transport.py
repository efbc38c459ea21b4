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

try:  # a pty or a Unix serial port that vanished fails inside termios, which is not an OSError
    import termios

    _TERMIOS_ERROR: type[BaseException] = termios.error
except ImportError:  # Windows has no termios
    _TERMIOS_ERROR = OSError


#: Everything a failing pyserial port raises; each becomes one of cpmlab's device errors.
PORT_FAILURES: tuple[type[BaseException], ...] = (serial.SerialException, OSError, _TERMIOS_ERROR)
#: A write that cannot finish within this fails (WriteTimeoutError) instead of hanging, in s.
WRITE_TIMEOUT_S = 1.0


def even_parity(byte: int) -> int:
    """Return the 7-bit byte with its even-parity bit in bit 7 (a 7E1 frame as 8 data bits)."""
    return byte | 0x80 if bin(byte & 0x7F).count("1") % 2 else byte & 0x7F


def _strip_even_parity(data: bytes) -> bytes:
    # A character whose parity is wrong is a framing error: it reaches the driver as NUL (garbage).
    return bytes(b & 0x7F if even_parity(b & 0x7F) == b else 0 for b in data)


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
        try:
            setattr(self.serial, name, value)
        except PORT_FAILURES as exc:
            raise _mapped(exc) from exc

    def _software_7e1(self) -> bool:
        """True for 7E1 over a TCP URL: no UART adds or checks the parity bit, so this does."""
        serial_obj = self.serial
        url = str(getattr(serial_obj, "port", "") or "")
        return url.startswith("socket://") and serial_obj.bytesize == 7 and serial_obj.parity == "E"

    def write(self, data: bytes) -> int | None:
        """Write data to the port."""
        if self._software_7e1():
            data = bytes(even_parity(b) for b in data)
        try:
            return self.serial.write(data)
        except PORT_FAILURES as exc:
            raise _mapped(exc) from exc

    def read(self, size: int = 1) -> bytes:
        """Return up to size bytes, waiting at most the port's timeout for the first one."""
        try:
            data = self.serial.read(size)
        except PORT_FAILURES as exc:
            raise _mapped(exc) from exc
        return _strip_even_parity(data) if self._software_7e1() else data

    @property
    def in_waiting(self) -> int:
        """Number of bytes readable without waiting."""
        try:
            return self.serial.in_waiting
        except PORT_FAILURES as exc:
            raise _mapped(exc) from exc

    def reset_input_buffer(self) -> None:
        """Discard unread bytes."""
        try:
            self.serial.reset_input_buffer()
        except PORT_FAILURES as exc:
            raise _mapped(exc) from exc

    def flush(self) -> None:
        """Wait until everything written has been sent."""
        try:
            self.serial.flush()
        except PORT_FAILURES as exc:
            raise _mapped(exc) from exc

    def cancel_read(self) -> None:
        """Wake a blocked read."""
        try:
            self.serial.cancel_read()
        except PORT_FAILURES as exc:
            raise _mapped(exc) from exc

    def close(self) -> None:
        """Close the port."""
        try:
            self.serial.close()
        except PORT_FAILURES as exc:
            raise _mapped(exc) from exc


def open_serial(port: str, settings: dict[str, Any], timeout_s: float = 0.05) -> SerialTransport:
    """Open a serial port or pyserial URL (socket://, loop://) with the driver's settings."""
    try:
        opened = serial.serial_for_url(port, timeout=timeout_s, write_timeout=WRITE_TIMEOUT_S, **settings)
        return SerialTransport(opened)
    except (*PORT_FAILURES, ValueError) as exc:
        raise DeviceError(f"cannot open serial port {port}: {exc}") from exc


def open_transport(spec: DriverSpec, port: str) -> Any:
    """Open what spec's driver expects for port: a serial transport or a TcpConnector."""
    if spec.transport == "tcp":
        return TcpConnector.parse(port, int(spec.default_port.rsplit(":", 1)[-1]) if spec.default_port else 0)
    return open_serial(port, spec.serial_settings)
