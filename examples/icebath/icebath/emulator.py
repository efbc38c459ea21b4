"""Emulator of the IceBath 100 on a real pseudo-terminal, with bath physics and cpmlab's serial faults."""

from __future__ import annotations

from typing import Any

from cpmlab.devices.plugins import EmulatorSpec
from cpmlab.hardware_mocks.physics import BathModel, DeviceClock
from cpmlab.hardware_mocks.serial_port import SERIAL_FAULTS, PtySerialDevice


class IceBathEmulator(PtySerialDevice):
    """An IceBath 100 as seen from its serial port; the alarm fault is a low water level."""

    baudrate = 9600

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        fault: str | None = None,
        seed: int | None = None,
        start_c: float = 20.0,
        setpoint_c: float = 20.0,
    ) -> None:
        self.bath = BathModel(start_c=start_c, setpoint_c=setpoint_c, clock=DeviceClock(time_scale))
        self._line = bytearray()
        super().__init__(fault=fault, seed=seed)

    def on_bytes(self, data: bytes) -> None:
        """Answer every complete command line."""
        self._line += data
        while b"\n" in self._line:
            line, _, rest = bytes(self._line).partition(b"\n")
            self._line = bytearray(rest)
            reply = self.answer(line.decode("ascii", "replace").strip())
            if reply is not None:
                self.send(reply.encode("ascii") + b"\r\n")

    def answer(self, command: str) -> str | None:
        """Return the reply line to command (None: the device ignores it)."""
        if command == "ID?":
            return "ICEBATH-100 1.0"
        if command == "T?":
            return f"T {self.bath.temperature():.2f}"
        if command == "SP?":
            return f"SP {self.bath.setpoint_c:.2f}"
        if command.startswith("SP "):
            try:
                value_c = float(command[3:])
            except ValueError:
                return None
            if not -10.0 <= value_c <= 40.0:
                return None
            self.bath.set_setpoint(value_c)
            return "OK"
        if command in ("RUN", "STOP"):
            self.bath.set_running(command == "RUN" and self.fault != "alarm")
            return "OK"
        if command == "ST?":
            return "ST 4 LOW LEVEL" if self.fault == "alarm" else "ST 0 OK"
        return None


def start(time_scale: float = 1.0, fault: str | None = None, **options: Any) -> IceBathEmulator:
    """Start an IceBath 100 emulator and return it (its .port is the pty path)."""
    return IceBathEmulator(time_scale=time_scale, fault=fault, **options)


EMULATOR = EmulatorSpec(
    name="icebath",
    kind="cold_pressor",
    model="IceBath 100",
    start=start,
    faults=SERIAL_FAULTS,
    description="IceBath 100 on a pseudo-terminal (worked example)",
)
