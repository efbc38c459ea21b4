"""Medoc Pathway / TSA-2 driver over the Medoc software's "external control" TCP interface.

The Medoc software runs *test programs* defined on the Medoc PC; external control only
selects a program, starts it and triggers it. A stimulus is therefore mapped to a program
code by ``program_for``: either a mapping ``{target_c: program_code}`` (matched within
0.05 C) or a callable ``program_for(stimulus) -> program_code``. The program on the Medoc PC
must deliver the stimulus it stands for; the driver still checks the stimulus against the
session limits and the probe's limits before any frame is sent.

``stimulate`` selects the program, gets its test running (START, or the software's
"Automatic Start": ``start_mode``), waits out the pre-test phase and a settling delay, then
TRIGGERs (``_medoc_start``); a command the software refuses is a StimulusRefusedError.
Readings come from GET_STATUS polled on a background thread (~10 Hz); ``neutral_c`` of a
reading is the configured baseline (Medoc reports one probe temperature).
The wire protocol and its sources: docs/hardware.md.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from cpmlab.core.clock import now
from cpmlab.core.errors import DeviceError, LimitError, StimulusRefusedError
from cpmlab.core.limits import SafetyLimits
from cpmlab.devices.interfaces import (
    DeviceInfo,
    FaultListener,
    ReadingListener,
    ThermalStimulus,
    ThermodeReading,
)
from cpmlab.devices.plugins import DriverSpec
from cpmlab.drivers._medoc_protocol import (
    COMMANDS,
    DEVICE,
    PROBES,
    SYSTEM_STATES,
    TEST_STATES,
    MedocResponse,
    ResultCode,
    ResultKind,
    decode_response,
    encode_request,
    probe,
    read_response,
)
from cpmlab.drivers._medoc_start import AUTOSTART_GRACE_S, START_MODES, TRIGGER_SETTLE_S, run_program

log = logging.getLogger(__name__)

EventSink = Callable[..., None]
#: Overall deadline of an ABORT request, in s.
ABORT_DEADLINE_S = 1.0
ProgramFor = Mapping[float, int] | Callable[[ThermalStimulus], int]


class MedocThermode:
    """A Medoc Pathway / TSA-2 thermode driven through external control."""

    kind = "thermode"
    model = "Medoc Pathway/TSA-2 (external control)"

    def __init__(
        self,
        connector: Any,
        event_sink: EventSink | None = None,
        program_for: ProgramFor | None = None,
        poll_interval_s: float | None = 0.1,
        *,
        probe_type: str = "ATS",
        start_mode: str = "command",
        pretest_timeout_s: float = 30.0,
        pretest_poll_s: float = 0.05,
        trigger_settle_s: float = TRIGGER_SETTLE_S,
        autostart_grace_s: float = AUTOSTART_GRACE_S,
        unix_time: Callable[[], float] = time.time,
        request_deadline_s: float = 2.0,
        poll_deadline_s: float = 0.5,
    ) -> None:
        if probe_type not in PROBES:
            raise ValueError(f"unknown Medoc probe {probe_type!r}; choose from {sorted(PROBES)}")
        if start_mode not in START_MODES:
            raise ValueError(f"unknown Medoc start_mode {start_mode!r}; choose from {', '.join(START_MODES)}")
        self._connector = connector
        self.start_mode = start_mode  # which 'Automatic Start' setting is expected: see _medoc_start
        self.trigger_settle_s = trigger_settle_s
        self.autostart_grace_s = autostart_grace_s
        self.stimulus_onset_t: float | None = None  # shared-clock time of the last TRIGGER
        self._sink = event_sink
        self._program_for = program_for
        self.poll_interval_s = poll_interval_s
        self.probe_type = probe_type
        self.probe_limits = PROBES[probe_type]
        self.pretest_timeout_s = pretest_timeout_s
        self.pretest_poll_s = pretest_poll_s
        self._unix_time = unix_time
        #: Overall deadline of a request (connect, send, whole response), in s; status polls
        #: get a shorter one so a silent Medoc is a fault within 1 s.
        self.request_deadline_s = request_deadline_s
        self.poll_deadline_s = poll_deadline_s
        self._lock = threading.Lock()  # one request at a time
        self._reading_listeners: list[ReadingListener] = []
        self._fault_listeners: list[FaultListener] = []
        self._limits: SafetyLimits | None = None
        self._baseline_c = 32.0
        self._latest: ThermodeReading | None = None
        self._last_status: MedocResponse | None = None
        self._link_fault = False
        self._safety_fault = False
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._closed = False

    # -- listeners ------------------------------------------------------------------------
    def add_reading_listener(self, listener: ReadingListener) -> None:
        """Call listener (from the polling thread) with every polled reading."""
        self._reading_listeners.append(listener)

    def add_fault_listener(self, listener: FaultListener) -> None:
        """Call listener with a message when the Medoc faults or cannot be reached."""
        self._fault_listeners.append(listener)

    # -- Thermode protocol ----------------------------------------------------------------
    def connect(self, limits: SafetyLimits) -> DeviceInfo:
        """Query GET_STATUS, keep the limits and start status polling; return the identity."""
        self._check_open()
        status = self.request("GET_STATUS")
        self._limits = limits
        where = f"{getattr(self._connector, 'host', '?')}:{getattr(self._connector, 'port', '?')}"
        details = {
            "address": where,
            "probe": self.probe_type,
            "system_state": SYSTEM_STATES[status.system_state],
            "test_state": TEST_STATES[status.test_state],
        }
        if self.poll_interval_s and self._poller is None:
            self._poller = threading.Thread(target=self._poll_loop, name="medoc-poll", daemon=True)
            self._poller.start()
        return DeviceInfo(
            kind=self.kind,
            model=self.model,
            identity=f"Medoc external control at {where}",
            details=details,
        )

    def set_baseline(self, baseline_c: float) -> None:
        """Check and record the baseline (the program on the Medoc PC sets the real one)."""
        limits = self._require_limits()
        limits.check_thermode_c(baseline_c, "baseline temperature")
        self._check_probe_range(baseline_c, "baseline temperature")
        self._baseline_c = baseline_c

    def stimulate(self, stimulus: ThermalStimulus) -> None:
        """Check limits, select the stimulus's program, get it running (see _medoc_start), TRIGGER."""
        run_program(self, self._check_stimulus(stimulus))

    def abort(self) -> None:
        """Send ABORT (a Medoc with nothing to abort answering 'illegal state' is fine)."""
        # Never behind a slow request, and never long on a Medoc that stopped answering.
        response = self.request("ABORT", wait_turn=False, deadline_s=ABORT_DEADLINE_S)
        if response.result_kind is not ResultKind.REFUSED:  # refused: nothing to abort
            self.expect_accepted(response, "ABORT")

    def read_temperatures(self) -> ThermodeReading:
        """Return the latest polled reading, or poll GET_STATUS now if it is stale."""
        self._require_limits()
        latest = self._latest
        fresh_s = max(3 * (self.poll_interval_s or 0), 0.5)
        if self._poller is not None and latest is not None and now() - latest.t < fresh_s:
            return latest
        self.request("GET_STATUS")
        assert self._latest is not None
        return self._latest

    def response_button_pressed(self) -> bool:
        """Poll GET_STATUS and return True while the YES button is reported pressed."""
        self._require_limits()
        return bool(self.request("GET_STATUS").yes)

    def close(self) -> None:
        """Stop polling and abort (best effort); safe to call twice, never raises."""
        if self._closed:
            return
        self._stop.set()
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join(timeout=3.0)
        if self._limits is not None:
            try:
                self.abort()
            except Exception as exc:  # best effort
                log.warning("Medoc abort on close failed: %s", exc)
        self._closed = True

    # -- requests -------------------------------------------------------------------------
    def request(
        self,
        command: str,
        parameter: int | None = None,
        *,
        journal: bool = True,
        deadline_s: float | None = None,
        wait_turn: bool = True,
    ) -> MedocResponse:
        """Send one command on a fresh connection and return the decoded response.

        The whole request must finish within deadline_s (default request_deadline_s);
        wait_turn=False (abort) does not wait for a request in progress to finish.
        """
        self._check_open()
        frame = encode_request(command, parameter, int(self._unix_time()))
        text = command if parameter is None else f"{command} {parameter}"
        if journal:
            self._emit("command", device=DEVICE, command=text, raw=frame.hex())
        deadline = time.monotonic() + (self.request_deadline_s if deadline_s is None else deadline_s)
        started = time.monotonic()
        try:
            if wait_turn:
                with self._lock:
                    raw = self._exchange(frame, deadline)
            else:
                raw = self._exchange(frame, deadline)
            response = decode_response(raw)
            if response.command != COMMANDS[command]:
                raise DeviceError(
                    f"Medoc answered {response.command_name} to {command}: garbage or a crossed connection"
                )
        except DeviceError as exc:
            self._link_failed(f"Medoc {command} failed: {exc}")
            raise
        self._link_fault = False
        took_s = time.monotonic() - started
        slow = {}
        if took_s > (deadline - started) / 2:  # the rule: slow is a warning, past the deadline a fault
            slow = {"warning": f"slow response: {took_s:.2f} s (a fault at {deadline - started:g} s)"}
        if journal or slow:
            self._emit("reply", device=DEVICE, raw=raw.hex(), **response.fields(), **slow)
        self._note_status(response)
        return response

    def _exchange(self, frame: bytes, deadline: float) -> bytes:
        sock = self._connector.open()
        try:
            try:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                sock.sendall(frame)
            except OSError as exc:
                raise DeviceError(f"cannot send to the Medoc: {exc}") from exc
            return read_response(sock, deadline)
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def _note_status(self, response: MedocResponse) -> None:
        """Turn every response into a reading and watch its result code."""
        self._last_status = response
        reading = ThermodeReading(t=now(), neutral_c=self._baseline_c, zones_c=(response.temperature_c,))
        self._latest = reading
        for listener in list(self._reading_listeners):
            try:
                listener(reading)
            except Exception:
                log.exception("Medoc reading listener %r failed", listener)
        if response.result == ResultCode.SAFETY_ERROR:
            if not self._safety_fault:
                self._safety_fault = True
                self._report_fault(response.describe("Medoc safety error, test stopped"))
        else:
            self._safety_fault = False
        if response.result == ResultCode.SAFETY_WARNING:
            log.warning("%s", response.describe("Medoc safety warning (test continues)"))

    def expect_accepted(self, response: MedocResponse, what: str) -> None:
        """Raise unless the software carried out the command (a refusal: StimulusRefusedError)."""
        self._raise_on_safety(response)
        kind = response.result_kind
        if kind is ResultKind.DEVICE_ERROR:
            message = response.describe(f"Medoc could not reach the thermode on {what}")
            self._report_fault(message)
            raise DeviceError(message)
        if kind is ResultKind.REFUSED:
            raise StimulusRefusedError(response.describe(f"Medoc refused {what}"), command=what.split()[0])

    def warn(self, response: MedocResponse, message: str) -> None:
        """Journal a warning about response (a reply event whose fields carry it) and log it."""
        log.warning("%s", message)
        self._emit("reply", device=DEVICE, **response.fields(), warning=message)

    def _raise_on_safety(self, response: MedocResponse) -> None:
        if response.result == ResultCode.SAFETY_ERROR:
            raise DeviceError(response.describe("Medoc safety error, test stopped"))

    # -- checks ---------------------------------------------------------------------------
    def _check_stimulus(self, stimulus: ThermalStimulus) -> int:
        limits = self._require_limits()
        stimulus.check(limits)
        self._check_probe_range(stimulus.baseline_c, "baseline temperature")
        self._check_probe_range(stimulus.target_c, "target temperature")
        heating = stimulus.target_c >= stimulus.baseline_c
        probe = self.probe_limits
        ramp_max = probe.max_heating_c_per_s if heating else probe.max_cooling_c_per_s
        return_max = probe.max_cooling_c_per_s if heating else probe.max_heating_c_per_s
        if stimulus.ramp_c_per_s > ramp_max:
            raise LimitError(
                f"ramp rate {stimulus.ramp_c_per_s:g} C/s is above the {self.probe_type} probe's {ramp_max:g} C/s"
            )
        if stimulus.return_c_per_s > return_max:
            raise LimitError(
                f"return rate {stimulus.return_c_per_s:g} C/s is above the {self.probe_type} probe's {return_max:g} C/s"
            )
        code = self._program_code(stimulus)
        if not 0 <= code <= 0xFF:
            raise LimitError(f"Medoc program code {code} is not an 8-bit pattern")
        return code

    def _check_probe_range(self, value_c: float, what: str) -> None:
        probe = self.probe_limits
        if not probe.min_c <= value_c <= probe.max_c:
            raise LimitError(
                f"{what} {value_c:g} C is outside the {self.probe_type} probe's range {probe.min_c:g}-{probe.max_c:g} C"
            )

    def _program_code(self, stimulus: ThermalStimulus) -> int:
        program_for = self._program_for
        if program_for is None:
            raise DeviceError("no Medoc program mapping: pass program_for to MedocThermode")
        if callable(program_for):
            return int(program_for(stimulus))
        for target_c, code in program_for.items():
            if abs(target_c - stimulus.target_c) <= 0.05:
                return int(code)
        known = ", ".join(f"{t:g}" for t in sorted(program_for)) or "none"
        raise DeviceError(f"no Medoc program for a {stimulus.target_c:g} C stimulus (programs exist for {known} C)")

    def _require_limits(self) -> SafetyLimits:
        self._check_open()
        if self._limits is None:
            raise DeviceError("Medoc is not connected: call connect(limits) first")
        return self._limits

    def _check_open(self) -> None:
        if self._closed:
            raise DeviceError("Medoc driver is closed")

    # -- polling and faults ---------------------------------------------------------------
    def _poll_loop(self) -> None:
        interval = self.poll_interval_s or 0.1
        while not self._stop.wait(interval):
            try:
                self.request("GET_STATUS", journal=False, deadline_s=self.poll_deadline_s)
            except DeviceError:
                pass  # reported once by request(); keep polling so a recovery is seen
            except Exception:
                log.exception("Medoc status poll failed")

    def _link_failed(self, message: str) -> None:
        if not self._link_fault:
            self._link_fault = True
            self._report_fault(message)

    def _report_fault(self, message: str) -> None:
        log.error("%s", message)
        try:
            self._emit("fault", device=DEVICE, message=message)
        except Exception:
            log.exception("event sink failed on a Medoc fault")
        for listener in list(self._fault_listeners):
            try:
                listener(message)
            except Exception:
                log.exception("Medoc fault listener %r failed", listener)

    def _emit(self, kind: str, **data: Any) -> None:
        if self._sink is not None:
            self._sink(kind, **data)


DRIVER = DriverSpec(
    name="medoc",
    kind="thermode",
    model="Medoc Pathway/TSA-2 (external control)",
    transport="tcp",
    factory=MedocThermode,
    default_port="127.0.0.1:20121",
    emulator="medoc",
    probe=probe,
    description="Medoc Pathway/TSA-2 through the Medoc software's external control (TCP 20121)",
)
