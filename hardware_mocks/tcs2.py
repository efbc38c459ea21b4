"""QST.Lab TCS II emulator on a real pseudo-terminal (115200 8N1), with 5-zone physics.

The byte stream is split by each command's fixed length (``N300Om500F`` back to back and
commands split across writes both work); bytes that start no command are skipped. The
periodic temperature output runs at 1 Hz between and 100 Hz during stimulations (real time,
whatever the time scale) unless muted. Temperature profiles (``U``) are stored and reported
but not played; the trigger-in is simulated with :meth:`Tcs2Emulator.trigger_in`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from cpmlab.devices.plugins import EmulatorSpec
from cpmlab.hardware_mocks._tcs2_commands import DROP, WAIT, help_text, take_command
from cpmlab.hardware_mocks.physics import DeviceClock, ThermodeModel
from cpmlab.hardware_mocks.serial_port import SERIAL_FAULTS, PtySerialDevice

EOL = "\r\n"
ZONE_COUNT = 5
DEFAULT_NEUTRAL_C = 32.0
DEFAULT_MAX_TENTHS = 600
TCS2_FAULTS = (*SERIAL_FAULTS, "overshoot")  # overshoot: probe passes its command by overshoot_c (8 C)


class Tcs2Emulator(PtySerialDevice):
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
    ) -> None:
        self.time_scale = time_scale
        self.clock = DeviceClock(time_scale)
        self.default_neutral_c = neutral_c
        self.neutral_max_tenths = neutral_max_tenths
        self.firmware, self.probe_id, self.probe_type = firmware, probe_id, probe_type
        self.battery = battery
        self.alarm_zone = alarm_zone
        self.calibration_s = calibration_s
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
        super().__init__(fault=fault, seed=seed)
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

    def _reply(self, *lines: str) -> None:
        self.send("".join(line + EOL for line in lines).encode("latin-1"))

    def _zones(self, selector: str) -> list[int]:
        return list(range(1, ZONE_COUNT + 1)) if selector == "0" else [int(selector)]

    def _execute(self, prefix: str, param: str) -> None:
        handler = getattr(self, "_cmd_" + _HANDLER_NAMES.get(prefix, prefix.lower()), None)
        if handler is not None:
            handler(param)

    # -- commands -------------------------------------------------------------------------
    def _cmd_h(self, _: str) -> None:
        self._reply(*help_text(self.firmware, self.probe_id, self.probe_type))

    def _cmd_identify(self, _: str) -> None:
        self._reply("TCS")

    def _cmd_n(self, param: str) -> None:
        tenths = int(param)
        if 200 <= tenths <= self.neutral_max_tenths:
            self.model.set_neutral(tenths / 10)

    def _cmd_g(self, _: str) -> None:
        timer = threading.Timer(self.calibration_s / self.time_scale, self._calibrated)
        timer.daemon = True
        timer.start()

    def _calibrated(self) -> None:
        self._reply(f"N{round(self.model.neutral_c * 10):03d}")

    def _cmd_s(self, param: str) -> None:
        self.enabled = [c == "1" for c in param]

    def _set_target(self, zones: list[int], target_c: float) -> None:
        for zone in zones:
            self.model.program(zone).target_c = min(target_c, self.max_tenths / 10)
            if self.follow_mode and self.enabled[zone - 1]:
                self.model.follow(zone, self.model.program(zone).target_c)

    def _cmd_c(self, param: str) -> None:
        tenths = int(param[1:])
        if 100 <= tenths <= 600:
            self._set_target(self._zones(param[0]), tenths / 10)

    def _cmd_ot(self, param: str) -> None:
        hundredths = int(param[1:])
        if 1 <= hundredths <= 6000:
            self._set_target(self._zones(param[0]), hundredths / 100)

    def _set_speed(self, param: str, scale: float, attr: str) -> None:
        value = int(param[1:])
        if value >= 1:
            for zone in self._zones(param[0]):
                setattr(self.model.program(zone), attr, value / scale)

    def _cmd_v(self, param: str) -> None:
        self._set_speed(param, 10, "ramp_c_per_s")

    def _cmd_r(self, param: str) -> None:
        self._set_speed(param, 10, "return_c_per_s")

    def _cmd_ov(self, param: str) -> None:
        self._set_speed(param, 100, "ramp_c_per_s")

    def _cmd_or(self, param: str) -> None:
        self._set_speed(param, 100, "return_c_per_s")

    def _cmd_d(self, param: str) -> None:
        ms = int(param[1:])
        if ms >= 1:
            for zone in self._zones(param[0]):
                self.model.program(zone).duration_s = ms / 1000

    def _cmd_t(self, param: str) -> None:
        code, ms = int(param[:3]), int(param[3:])
        if 1 <= code <= 255 and 10 <= ms <= 999:
            self.trigger = (code, ms)

    def _cmd_p(self, _: str) -> None:
        lines = [
            f"Neutral: {round(self.model.neutral_c * 10):03d}",
            f"Max: {self.max_tenths:03d}",
            f"Areas: {''.join('1' if e else '0' for e in self.enabled)}",
            f"Trigger: {self.trigger[0]:03d} {self.trigger[1]:03d}",
        ]
        for zone in range(1, ZONE_COUNT + 1):
            p = self.model.program(zone)
            lines.append(
                f"Area {zone}: C={round(p.target_c * 10):03d} V={round(p.ramp_c_per_s * 10):04d} "
                f"R={round(p.return_c_per_s * 10):04d} D={round(p.duration_s * 1000):05d}"
            )
        self._reply(*lines)

    def _start_stimulation(self, stoppable: bool) -> None:
        zones = [z for z in range(1, ZONE_COUNT + 1) if self.enabled[z - 1]]
        if self.alarm or not zones:
            return
        self.follow_mode = False
        self.stoppable = stoppable
        self.model.start(zones)
        self.stim_started_at = self.clock.now()
        self._kick.set()

    def _cmd_l(self, _: str) -> None:
        self._start_stimulation(stoppable=False)

    def _cmd_ol(self, _: str) -> None:
        self._start_stimulation(stoppable=True)

    def _cmd_a(self, _: str) -> None:
        self.follow_mode = self.stoppable = False
        self.model.abort()

    def _cmd_f(self, _: str) -> None:
        self.output_between = self.output_during = False

    def _cmd_y(self, param: str) -> None:
        self.display_ten_ms = int(param)

    def _cmd_oa(self, _: str) -> None:
        self.output_between = True
        self._kick.set()

    def _cmd_ob(self, _: str) -> None:
        self.output_during = True

    def _cmd_oc(self, _: str) -> None:
        self._reset_state()

    def _cmd_od(self, _: str) -> None:
        if self.alarm:
            return
        self.follow_mode = True
        for zone in range(1, ZONE_COUNT + 1):
            if self.enabled[zone - 1]:
                self.model.follow(zone, self.model.program(zone).target_c)

    def _cmd_om(self, param: str) -> None:
        tenths = int(param)
        if 100 <= tenths <= 600:
            self.max_tenths = tenths
            self.model.max_c = tenths / 10
            for zone in range(1, ZONE_COUNT + 1):
                program = self.model.program(zone)
                program.target_c = min(program.target_c, tenths / 10)

    def _cmd_oe(self, _: str) -> None:
        neutral = _clamp(round(self.model.neutral_c * 100), 9999)
        fields = "".join(_signed(t * 100, 4) for t in self.model.temperatures())
        self._reply(f"\r{neutral:04d}{fields}")

    def _cmd_ose(self, _: str) -> None:
        self.trigger_in_enabled = True

    def _cmd_osd(self, _: str) -> None:
        self.trigger_in_enabled = False

    def _cmd_oo(self, _: str) -> None:
        self.trigger_out_count += 1

    def _cmd_of(self, param: str) -> None:
        if param in "123":
            self.mri_filter = int(param)

    def _cmd_og(self, _: str) -> None:
        self.send(self.record() + self._buttons_reply().encode("latin-1"))

    def _cmd_b(self, _: str) -> None:
        self._reply(f"{self.battery[0]:.2f}v {self.battery[1]}%")

    def _cmd_i(self, param: str) -> None:
        self.integral = param == "1"

    def _cmd_e(self, _: str) -> None:
        self.send(self.record())

    def _buttons_reply(self) -> str:
        stim, response = self.buttons
        return f"\r{int(stim)}{int(response)}{EOL}"

    def _cmd_k(self, _: str) -> None:
        self.send(self._buttons_reply().encode("latin-1"))

    def _cmd_q(self, _: str) -> None:
        self._reply(self.error_codes())

    def _cmd_ur(self, _: str) -> None:
        lines = []
        for zone in range(1, ZONE_COUNT + 1):
            points = self.profiles.get(zone, [])
            listed = " ".join(f"{d:03d}{t:03d}" for d, t in points)
            enabled = int(self.profiles_enabled[zone - 1])
            lines.append(f"{zone} {enabled} {len(points):03d} {listed}".rstrip())
        self._reply(*lines)

    def _cmd_uw(self, param: str) -> None:
        mask, count, body = param[:5], int(param[5:8]), param[8:]
        points = [(int(body[i : i + 3]), int(body[i + 3 : i + 6])) for i in range(0, 6 * count, 6)]
        for zone in range(1, ZONE_COUNT + 1):
            if mask[zone - 1] == "1":
                self.profiles[zone] = points

    def _cmd_ue(self, param: str) -> None:
        self.profiles_enabled = [c == "1" for c in param]

    def _cmd_xr(self, _: str) -> None:
        stamp = time.localtime(time.time() + self.clock_offset_s)
        self._reply(time.strftime("%H%M%S%d%m%y", stamp))

    def _cmd_xw(self, param: str) -> None:
        try:
            wanted = time.mktime(time.strptime(param, "%H%M%S%d%m%y"))
        except ValueError:
            return
        self.clock_offset_s = wanted - time.time()

    def _cmd_z(self, param: str) -> None:
        self.buzzes.append((int(param[:3]), int(param[3:])))

    # -- periodic output ------------------------------------------------------------------
    def record(self) -> bytes:
        """Return one temperature record: CR, neutral, 5 signed zones (1/10 C), line end."""
        neutral = _clamp(round(self.model.neutral_c * 10), 999)
        fields = "".join(_signed(t * 10, 3) for t in self.model.temperatures())
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


_HANDLER_NAMES = {"?": "identify"}


def _clamp(value: int, high: int) -> int:
    return max(0, min(high, value))


def _signed(value: float, digits: int) -> str:
    number = round(value)
    return ("+" if number >= 0 else "-") + f"{_clamp(abs(number), 10**digits - 1):0{digits}d}"


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
