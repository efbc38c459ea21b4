"""What each TCS II command does in the emulator: the command half of ``Tcs2Emulator``.

``Tcs2CommandHandlers`` is mixed into the emulator; ``_execute`` dispatches a parsed command
(prefix + parameter) to ``_cmd_<prefix>``. Device state (the physics model, output flags,
triggers, profiles) lives on the emulator. The command set is described in docs/hardware.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cpmlab.hardware_mocks._tcs2_commands import help_text
from cpmlab.hardware_mocks.physics import DeviceClock, ThermodeModel

EOL = "\r\n"
ZONE_COUNT = 5
DEFAULT_MAX_TENTHS = 600


class Tcs2CommandHandlers:
    """The TCS II command handlers; state comes from the emulator class that mixes this in."""

    # Provided by the emulator (annotations only, so nothing here shadows its methods).
    model: ThermodeModel
    clock: DeviceClock
    time_scale: float
    _kick: threading.Event
    enabled: list[bool]
    send: Callable[[bytes], None]
    record: Callable[[], bytes]
    error_codes: Callable[[], str]
    _reset_state: Callable[[], None]
    button_line_end: bool
    fault: str | None

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
        if self.alarm or not zones or self.fault == "refuse":
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
        neutral = clamp(round(self.model.neutral_c * 100), 9999)
        fields = "".join(signed(t * 100, 4) for t in self.model.temperatures())
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
        return f"\r{int(stim)}{int(response)}{EOL if self.button_line_end else ''}"

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


_HANDLER_NAMES = {"?": "identify"}


def clamp(value: int, high: int) -> int:
    return max(0, min(high, value))


def signed(value: float, digits: int) -> str:
    number = round(value)
    return ("+" if number >= 0 else "-") + f"{clamp(abs(number), 10**digits - 1):0{digits}d}"
