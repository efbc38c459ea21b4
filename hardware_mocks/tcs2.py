"""QST.Lab TCS II emulator on a real pseudo-terminal (115200 8N1), with 5-zone physics.

The byte stream is split by each command's fixed length (``N300Om500F`` back to back and
commands split across writes both work); bytes that start no command are skipped. The
periodic temperature output runs at 1 Hz between and 100 Hz during stimulations (real time,
whatever the time scale) unless muted. Temperature profiles (``U``) are stored and reported
but not played; the trigger-in is simulated with :meth:`Tcs2Emulator.trigger_in`. What each
command does is in ``_tcs2_handlers``; the command set is described in docs/hardware.md.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from cpmlab.devices.plugins import EmulatorSpec
from cpmlab.hardware_mocks._tcs2_commands import DROP, WAIT, take_command
from cpmlab.hardware_mocks._tcs2_handlers import (
    DEFAULT_MAX_TENTHS,
    EOL,
    ZONE_COUNT,
    Tcs2CommandHandlers,
    clamp,
    signed,
)
from cpmlab.hardware_mocks.physics import DeviceClock, ThermodeModel
from cpmlab.hardware_mocks.serial_port import SERIAL_FAULTS, PtySerialDevice

DEFAULT_NEUTRAL_C = 32.0
# overshoot: the probe passes its command by overshoot_c (8 C); refuse: L / Ol start nothing
# (as when the device rejects a stimulus), the rest of the link works.
TCS2_FAULTS = (*SERIAL_FAULTS, "overshoot", "refuse")


class Tcs2Emulator(PtySerialDevice, Tcs2CommandHandlers):
    """A TCS II as seen from its USB serial port."""

    baudrate = 115200
    bytesize = 8
    parity = "N"
    faults = TCS2_FAULTS

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        fault: str | None = None,
        seed: int | None = None,
        neutral_c: float = DEFAULT_NEUTRAL_C,
        neutral_max_tenths: int = 400,
        firmware: str = "012 Jun 20 2022 11:07:51",
        probe_id: str = "2D DD 40 C1 3A 00 00 B2",
        probe_type: str = "003",
        battery: tuple[float, int] = (4.02, 85),
        alarm_zone: int = 1,
        calibration_s: float = 2.0,
        button_line_end: bool = True,
        tcp: bool = False,
    ) -> None:
        self.time_scale = time_scale
        self.clock = DeviceClock(time_scale)
        self.default_neutral_c = neutral_c
        self.neutral_max_tenths = neutral_max_tenths
        self.firmware, self.probe_id, self.probe_type = firmware, probe_id, probe_type
        self.battery = battery
        self.alarm_zone = alarm_zone
        self.calibration_s = calibration_s
        self.button_line_end = button_line_end  # False: K replies CR + two digits and nothing more
        self.model = ThermodeModel(ZONE_COUNT, neutral_c, DEFAULT_MAX_TENTHS / 10, clock=self.clock)
        self._state = threading.RLock()
        self._buf = ""
        self._reset_state()
        self.buttons = (False, False)  # (stim, response)
        self.alarm = False
        self.commands_seen: list[str] = []  # every parsed command, for tests
        self.trigger_out_count = 0
        self.records_sent = 0  # periodic temperature records written (for stream-loss benchmarks)
        self.buzzes: list[tuple[int, int]] = []
        self._kick = threading.Event()
        super().__init__(fault=fault, seed=seed, tcp=tcp)
        self._streamer = threading.Thread(target=self._stream_loop, name="tcs2-emu-out", daemon=True)
        self._streamer.start()

    def _reset_state(self) -> None:
        """Power-on defaults (also what ``Oc`` restores)."""
        with self._state:
            self.model.abort()
            self.model.set_neutral(self.default_neutral_c)
            self.max_tenths = DEFAULT_MAX_TENTHS
            self.model.max_c = DEFAULT_MAX_TENTHS / 10
            for zone in range(1, ZONE_COUNT + 1):
                program = self.model.program(zone)
                program.target_c, program.ramp_c_per_s = self.default_neutral_c, 1.0
                program.return_c_per_s, program.duration_s = 1.0, 1.0
            self.enabled = [True] * ZONE_COUNT
            self.output_between = self.output_during = True
            self.display_ten_ms = 0
            self.follow_mode = False
            self.stoppable = False
            self.trigger_in_enabled = False
            self.trigger = (255, 10)
            self.integral = True
            self.mri_filter = 1
            self.profiles: dict[int, list[tuple[int, int]]] = {}
            self.profiles_enabled = [False] * ZONE_COUNT
            self.clock_offset_s = 0.0
            self.stim_started_at: float | None = None

    # -- control surface for tests and the simulator ----------------------------------------
    def press_button(self, stim: bool = False, response: bool = False) -> None:
        """Hold the stim and/or response buttons (False releases); response stops ``Ol``."""
        with self._state:
            self.buttons = (stim, response)
            if response and self.stoppable and self.model.stimulating:
                self.model.abort()
                self.stoppable = False

    def trigger_in(self) -> None:
        """Pulse the trigger input: starts the stimulation if ``Ose`` enabled it."""
        with self._state:
            if self.trigger_in_enabled:
                self._start_stimulation(stoppable=False)

    def on_fault_changed(self, fault: str | None) -> None:
        """Raise (alarm) or clear the device alarm (it aborts any stimulation); switch overshoot."""
        self.model.set_overshoot(float(self.fault_params.get("overshoot_c", 8.0)) if fault == "overshoot" else 0.0)
        with self._state:
            self.alarm = fault == "alarm"
            if self.alarm:
                self.model.abort()
                self.follow_mode = False

    def error_codes(self) -> str:
        """Return the ``Q`` reply: zones 1-5 then the neutral sensor, 0 = OK."""
        codes = ["0"] * (ZONE_COUNT + 1)
        if self.alarm:
            codes[self.alarm_zone - 1] = "2"
        return "".join(codes)

    # -- byte stream ----------------------------------------------------------------------
    def on_bytes(self, data: bytes) -> None:
        """Split the stream by command length and execute each complete command."""
        with self._state:
            self._buf += data.decode("latin-1")
            while self._buf:
                taken = take_command(self._buf)
                if taken == WAIT:
                    return
                if taken == DROP:
                    self._buf = self._buf[1:]
                    continue
                prefix, param = taken
                self._buf = self._buf[len(prefix) + len(param) :]
                self.commands_seen.append(prefix + param)
                self._execute(prefix, param)

    # -- periodic output ------------------------------------------------------------------
    def record(self) -> bytes:
        """Return one temperature record: CR, neutral, 5 signed zones (1/10 C), line end."""
        neutral = clamp(round(self.model.neutral_c * 10), 999)
        fields = "".join(signed(t * 10, 3) for t in self.model.temperatures())
        return f"\r{neutral:03d}{fields}{EOL}".encode("ascii")

    def _output_due(self) -> tuple[bool, float]:
        """Return (output enabled now, period in real seconds)."""
        with self._state:
            if self.model.stimulating:
                started = self.stim_started_at or 0.0
                shown = self.display_ten_ms == 0 or (self.clock.now() - started < self.display_ten_ms / 100)
                return self.output_during and shown, 0.01
            return self.output_between, 1.0

    def _stream_loop(self) -> None:
        next_due = time.monotonic()
        while not self._stop.is_set():
            if self._kick.is_set():
                self._kick.clear()
                next_due = time.monotonic()
            enabled, period = self._output_due()
            now = time.monotonic()
            if now >= next_due:
                if enabled and not self.unplugged:
                    self.send(self.record())
                    self.records_sent += 1
                next_due = max(next_due + period, now)
            self._stop.wait(max(0.001, min(0.01, next_due - time.monotonic())))

    def close(self) -> None:
        """Stop the periodic output and the port."""
        self._stop.set()
        if self._streamer is not threading.current_thread():
            self._streamer.join(timeout=1)
        super().close()


def start(time_scale: float = 1.0, fault: str | None = None, **options: Any) -> Tcs2Emulator:
    """Start a TCS II emulator on a new pty; connect to its ``.port``."""
    return Tcs2Emulator(time_scale=time_scale, fault=fault, **options)


EMULATOR = EmulatorSpec(
    name="tcs2",
    kind="thermode",
    model="QST.Lab TCS II",
    start=start,
    faults=TCS2_FAULTS,
    description="TCS II on a pseudo-terminal: fixed-length commands, 5-zone physics, streaming",
)
