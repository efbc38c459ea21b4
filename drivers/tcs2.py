"""QST.Lab TCS II thermode driver (serial 115200 8N1), byte for byte per docs/hardware.md.

The driver receives an open serial transport. ``connect(limits)`` mutes the periodic output,
identifies the device (``?`` -> ``TCS``), reads the firmware/probe lines of ``H``, sends the
session's ceiling with ``Om`` and re-enables the periodic output (``Oa``, ``Ob``). The byte
link and its reader thread are in ``_tcs2_link``. Stimuli are device-timed: ``D`` is
ramp + plateau, so the device returns to neutral by itself even if cpmlab dies.

The TCS II answers no command, so ``stimulate`` checks that the device took the stimulus by
its output: the periodic records come at 1 Hz between stimulations and at 100 Hz during one,
so ``START_EVIDENCE_RECORDS`` records within ``start_check_s`` of ``L`` mean it started. A
device that did not (an alarm, a refused parameter) is a StimulusRefusedError.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from cpmlab.core.clock import now
from cpmlab.core.errors import DeviceError, LimitError, StimulusRefusedError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import (
    DeviceInfo,
    ThermalStimulus,
    ThermodeReading,
)
from cpmlab.devices.plugins import DriverSpec
from cpmlab.drivers._tcs2_link import PORT_ERRORS, EventSink, Tcs2Link
from cpmlab.drivers._tcs2_monitor import MONITOR_EVERY_S, Tcs2Monitor
from cpmlab.drivers._tcs2_protocol import (
    BATTERY,
    BUTTONS,
    COMMANDS,
    DURATION_MS,
    ERROR_STATE,
    IDENTITY,
    MAX_TARGET_TENTHS,
    NEUTRAL_TENTHS,
    SPEED_TENTHS_PER_S,
    TARGET_TENTHS,
    ZONES,
    StreamParser,
    check_range,
    zone_mask,
)

log = logging.getLogger(__name__)

SERIAL_SETTINGS = {"baudrate": 115200, "bytesize": 8, "parity": "N", "stopbits": 1}
#: Records after ``L`` that show a running stimulation (100 Hz); at 1 Hz they take 2 s or more.
START_EVIDENCE_RECORDS = 3
#: How long after ``L`` the driver waits for that evidence, in s.
START_CHECK_S = 0.6


@dataclass(frozen=True, slots=True)
class Tcs2ErrorState:
    """The ``Q`` reply: one code per zone (1-5) and the neutral sensor; 0 means OK."""

    zones: tuple[int, ...]
    neutral: int

    @property
    def ok(self) -> bool:
        """True when no zone and not the neutral sensor reports an error."""
        return self.neutral == 0 and not any(self.zones)


class Tcs2Thermode(Tcs2Link):
    """A QST.Lab TCS II on an already-open serial transport."""

    kind = "thermode"
    model = "QST.Lab TCS II"

    #: A streamed reading older than this is not "latest"; ``E`` is queried instead, in s.
    stale_reading_s = 2.5
    settle_s = 0.05  # quiet time after muting at connect, before the input buffer is discarded

    def __init__(
        self,
        serial_obj: Any,
        event_sink: EventSink | None = None,
        *,
        reply_timeout_s: float = 1.0,
        monitor_every_s: float | None = MONITOR_EVERY_S,
        start_check_s: float | None = START_CHECK_S,
    ) -> None:
        super().__init__(serial_obj, event_sink, reply_timeout_s=reply_timeout_s)
        self.start_check_s = start_check_s  # None: no start check (byte-exchange tests)
        self.monitor_every_s = monitor_every_s  # None: no monitoring (byte-exchange tests)
        self._limits: SafetyLimits | None = None
        self._max_target_tenths: int | None = None
        self._neutral_tenths: int | None = None
        self._streaming = True  # the device streams by default until muted
        self.streaming_since = time.monotonic()
        self._monitor: Tcs2Monitor | None = None

    # -- Thermode protocol ----------------------------------------------------------------
    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        """Mute, identify, read firmware/probe lines, send the Om ceiling, re-enable output."""
        max_tenths = math.floor(limits.max_thermode_c * 10 + 1e-6)  # never round a ceiling up
        check_range(max_tenths, MAX_TARGET_TENTHS, "maximum stimulation temperature", "x0.1 C")
        self._send([("mute", {})])
        self._streaming = False
        # A port just opened may hold line noise or half a record sent before it was
        # configured: let the muted line go quiet, discard it, then start reading.
        time.sleep(self.settle_s)
        with contextlib.suppress(*PORT_ERRORS):
            self._serial.reset_input_buffer()
        self._start_reader()
        identity = self._query("identify", IDENTITY, "TCS").string
        details = self._read_help()
        self._send([("max_target", {"tenths": max_tenths})])
        self._limits, self._max_target_tenths = limits, max_tenths
        self._send([("output_between", {}), ("output_during", {})])
        self._streaming, self.streaming_since = True, time.monotonic()
        details["max_target_c"] = f"{max_tenths / 10:.1f}"
        self.start_monitoring()
        return DeviceInfo(kind=self.kind, model=self.model, identity=identity, details=details)

    def set_baseline(self, baseline_c: float) -> None:
        """Check limits and set the neutral temperature (``Nxxx``, 20.0-40.0 C)."""
        limits = self._require_limits()
        tenths = round(baseline_c * 10)
        check_range(tenths, NEUTRAL_TENTHS, "neutral temperature", "x0.1 C")
        limits.check_thermode_c(baseline_c, "baseline temperature")
        limits.check_thermode_c(tenths / 10, "baseline temperature")
        self._send([("neutral", {"tenths": tenths})])
        self._neutral_tenths = tenths

    def stimulate(self, stimulus: ThermalStimulus) -> None:
        """Validate everything, load C/V/R/D (all zones or per zone), S, start (L), see it start."""
        commands = self._stimulus_commands(stimulus)
        with self._readings:
            seen = self._reading_count
        self._send(commands)
        if self.start_check_s and self._streaming:  # muted, there is no output to tell by
            self._check_started(seen, time.monotonic() + self.start_check_s)

    def _check_started(self, seen: int, deadline: float) -> None:
        """Wait for the 100 Hz output of a running stimulation; raise StimulusRefusedError without it."""
        with self._readings:
            while self._reading_count - seen < START_EVIDENCE_RECORDS:
                self._check_alive()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StimulusRefusedError(
                        f"TCS II did not start the stimulation: {self._reading_count - seen} temperature "
                        f"record(s) within {self.start_check_s:g} s of L, where a running stimulation "
                        f"streams 100 per second (alarm, or a parameter the device refused?)",
                        command="L",
                    )
                self._readings.wait(min(left, 0.05))

    def abort(self) -> None:
        """Abort any stimulation; the device returns to neutral at its return speed."""
        self._send([("abort", {})])

    def read_temperatures(self) -> ThermodeReading:
        """Return the latest streamed reading, or query ``E`` when muted or stale."""
        self._require_reader()
        latest = self._latest
        if self._streaming and latest is not None and now() - latest.t < self.stale_reading_s:
            return latest
        with self._query_lock:
            with self._readings:
                seen = self._reading_count
            self._send([("temperatures", {})])
            deadline = time.monotonic() + self.reply_timeout_s
            with self._readings:
                while self._reading_count == seen:
                    self._check_alive()
                    left = deadline - time.monotonic()
                    if left <= 0:
                        message = self._timeout_message("E")
                        self._report_fault(message)
                        raise DeviceError(message)
                    self._readings.wait(min(left, 0.05))
                assert self._latest is not None
                return self._latest

    def start_monitoring(self) -> None:
        """Watch the error state, the answers and the stream on a thread (connect starts it)."""
        if self._monitor is None and self.monitor_every_s:
            self._monitor = Tcs2Monitor(self, self.monitor_every_s)
            self._monitor.start()

    @property
    def streaming(self) -> bool:
        """True while the periodic temperature output is on."""
        return self._streaming

    @property
    def latest_reading(self) -> ThermodeReading | None:
        """The last streamed or queried reading, if any."""
        return self._latest

    def report_fault(self, message: str) -> None:
        """Journal a fault and tell the fault listeners (used by the monitor)."""
        self._report_fault(message)

    def response_button_pressed(self) -> bool:
        """Query ``K`` and return True while the response button is pressed."""
        return self.buttons()[1]

    def close(self) -> None:
        """Abort (best effort), stop the reader and release the port; safe twice, never raises."""
        if self._closed:
            return
        if self._vanished is None and self._reader is not None:
            try:
                self.abort()
            except Exception as exc:  # best effort: the port may be gone
                log.warning("TCS II abort on close failed: %s", exc)
        if self._monitor is not None:
            self._monitor.stop()
        self._closed = True
        self._stop.set()
        with contextlib.suppress(Exception):
            self._serial.cancel_read()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=1.0)
        with contextlib.suppress(Exception):
            self._serial.close()

    # -- further device functions ---------------------------------------------------------
    def identify(self) -> str:
        """Query ``?`` and return the identity reply (``TCS``)."""
        return self._query("identify", IDENTITY, "TCS").string

    def buttons(self) -> tuple[bool, bool]:
        """Query ``K``; return (stim button pressed, response button pressed)."""
        match = self._query("buttons", BUTTONS, "two digits 0/1")
        return match.group(1) == "1", match.group(2) == "1"

    def error_state(self, timeout_s: float | None = None, *, journal: bool = True) -> Tcs2ErrorState:
        """Query ``Q``; return the per-zone and neutral error codes (zones 1-5, then neutral)."""
        match = self._query("error_state", ERROR_STATE, "six digits", timeout_s, journal=journal)
        codes = tuple(int(g) for g in match.groups())
        return Tcs2ErrorState(zones=codes[:5], neutral=codes[5])

    def battery(self) -> tuple[float, int]:
        """Query ``B``; return (voltage in V, charge in %)."""
        match = self._query("battery", BATTERY, "e.g. '4.02v 85%'")
        return float(match.group(1)), int(match.group(2))

    def set_streaming(self, enabled: bool) -> None:
        """Switch the periodic temperature output on (``Oa`` + ``Ob``) or off (``F``)."""
        if enabled:
            self._send([("output_between", {}), ("output_during", {})])
        else:
            self._send([("mute", {})])
        self._streaming, self.streaming_since = enabled, time.monotonic()

    # -- validation -----------------------------------------------------------------------
    def _stimulus_commands(self, stimulus: ThermalStimulus) -> list[tuple[str, dict[str, Any]]]:
        limits = self._require_limits()
        stimulus.check(limits)
        zones = tuple(stimulus.zones)
        if not zones or len(set(zones)) != len(zones) or not set(zones) <= set(ZONES):
            raise LimitError(f"zones {zones!r} must be distinct zone numbers from 1 to 5")
        target = check_range(round(stimulus.target_c * 10), TARGET_TENTHS, "target temperature", "x0.1 C")
        ramp = check_range(round(stimulus.ramp_c_per_s * 10), SPEED_TENTHS_PER_S, "ramp speed", "x0.1 C/s")
        ret = check_range(round(stimulus.return_c_per_s * 10), SPEED_TENTHS_PER_S, "return speed", "x0.1 C/s")
        duration_ms = check_range(round(stimulus.device_duration_s * 1000), DURATION_MS, "ramp + plateau", "ms")
        # Rounding to the wire's units must never cross a limit.
        limits.check_thermode_c(target / 10, "target temperature (as sent)")
        limits.check_ramp(ramp / 10, "ramp rate (as sent)")
        limits.check_ramp(ret / 10, "return rate (as sent)")
        if self._max_target_tenths is not None and target > self._max_target_tenths:
            raise LimitError(
                f"target {target / 10:.1f} C is above the ceiling {self._max_target_tenths / 10:.1f} C sent with Om"
            )
        baseline = round(stimulus.baseline_c * 10)
        if self._neutral_tenths is not None and baseline != self._neutral_tenths:
            raise LimitError(
                f"stimulus baseline {stimulus.baseline_c:g} C differs from the device neutral "
                f"{self._neutral_tenths / 10:g} C; call set_baseline first"
            )
        selectors = ["0"] if set(zones) == set(ZONES) else [str(z) for z in sorted(zones)]
        commands: list[tuple[str, dict[str, Any]]] = []
        for zone in selectors:
            commands += [
                ("target", {"zone": zone, "tenths": target}),
                ("ramp", {"zone": zone, "tenths_per_s": ramp}),
                ("return", {"zone": zone, "tenths_per_s": ret}),
                ("duration", {"zone": zone, "ms": duration_ms}),
            ]
        commands += [("zones", {"mask": zone_mask(zones)}), ("start", {})]
        return commands

    def _require_limits(self) -> SafetyLimits:
        self._check_alive()
        if self._limits is None:
            raise DeviceError("TCS II is not connected: call connect(limits) first")
        return self._limits

    def _require_reader(self) -> None:
        self._require_limits()


def probe(serial_obj: Any, timeout_s: float = 0.5) -> str | None:
    """Send ``?`` and return the identity string if a TCS II answers, else None."""
    parser = StreamParser()
    try:
        serial_obj.write(COMMANDS["identify"].encode())
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            data = serial_obj.read(max(1, serial_obj.in_waiting))
            for kind, value in parser.feed(data) if data else parser.flush():
                if kind == "line" and IDENTITY.match(str(value)):
                    return str(value)
    except Exception:  # a probe never raises: any failure means "not this device"
        return None
    return None


DRIVER = DriverSpec(
    name="tcs2",
    kind="thermode",
    model="QST.Lab TCS II",
    transport="serial",
    factory=Tcs2Thermode,
    serial_settings=SERIAL_SETTINGS,
    emulator="tcs2",
    probe=probe,
    description="QST.Lab TCS II 5-zone contact thermode over USB serial (device-timed stimuli)",
)
