"""The app layer opens serial ports and hands drivers cpmlab's own errors, never pyserial's."""

from __future__ import annotations

import contextlib

import pytest

from cpmlab.app.transport import SerialTransport, open_serial, open_transport
from cpmlab.core.errors import DeviceError
from cpmlab.devices.plugins import load_drivers
from cpmlab.devices.transport import PortVanishedError, TcpConnector


def test_loopback_port_carries_bytes_and_settings_pass_through() -> None:
    """A loop:// port echoes what is written; timeout and baud rate read and write through."""
    port = open_serial("loop://", {"baudrate": 9600})
    assert isinstance(port, SerialTransport)
    port.write(b"ping")
    assert port.in_waiting == 4 and port.read(4) == b"ping"
    port.timeout = 0.2
    port.baudrate = 4800
    assert (port.serial.timeout, port.baudrate, port.port) == (0.2, 4800, "loop://")
    port.close()


def test_a_closed_port_raises_port_vanished() -> None:
    """Reading or writing a port that went away raises PortVanishedError (a DeviceError)."""
    port = open_serial("loop://", {})
    port.close()
    for call in (lambda: port.write(b"x"), lambda: port.read(1), lambda: port.reset_input_buffer()):
        with pytest.raises(PortVanishedError):
            call()


def test_a_port_that_cannot_be_opened_is_a_clear_device_error() -> None:
    """A missing device path gives DeviceError naming the port."""
    with pytest.raises(DeviceError, match="/dev/does-not-exist"):
        open_serial("/dev/does-not-exist", {})


def test_open_transport_gives_tcp_drivers_a_connector() -> None:
    """The medoc driver (TCP) gets a TcpConnector with its default port when none is given."""
    connector = open_transport(load_drivers().get("medoc"), "127.0.0.1")
    assert connector == TcpConnector("127.0.0.1", 20121)


@pytest.mark.parametrize("emulator_name", ["julabo", "lauda", "tcs2"])
def test_an_unplugged_pty_raises_only_device_errors(emulator_name: str) -> None:
    """After unplug every port call (settings included) raises a DeviceError, never termios.error or OSError."""
    from cpmlab.devices.plugins import load_emulators

    spec = load_drivers().get(emulator_name)
    emu = load_emulators().get(emulator_name).start(**spec.emulator_options)
    port = open_transport(spec, emu.port)
    try:
        emu.set_fault("unplug")
        calls = [
            lambda: port.write(b"x\r"),
            lambda: port.read(1) and port.read(1),
            lambda: port.in_waiting,
            port.reset_input_buffer,
            port.flush,
            lambda: setattr(port, "baudrate", 4800),
        ]
        for call in calls:
            # A vanished pty may also let some calls succeed; none may raise anything else.
            with contextlib.suppress(DeviceError):
                call()
    finally:
        port.close()
        emu.close()
