"""Medoc Pathway / TSA-2 external-control emulator on a loopback TCP port.

One request per connection, little-endian frames (see docs/hardware.md). Test
programs are a dict ``program code -> (target_c, ramp_c_per_s, plateau_s, return_c_per_s)``
driving a one-zone ThermodeModel. After START the software runs a pre-test phase of
variable length (test state READY) during which a TRIGGER is answered OK but silently lost;
then the test is RUNNING and a TRIGGER delivers the program's stimulus. When the probe is
back at baseline the test ends (system READY, test IDLE). A TRIGGER within
``trigger_settle_s`` (device time) of the change to RUNNING is lost too. ``automatic_start``
is the Medoc software's "Automatic Start" option: on, SELECT_TP starts the test itself (START
is then refused); off, the selected program waits for START. While a test waits for an
operator action (START, or its trigger) GET_STATUS answers 0x3000 "waiting for manual
operation". Temperatures are signed 1/100 C; a response echoes its request's timestamp.

Faults: ``unplug`` (listener closed, connections refused), ``silence`` (accept, never
answer), ``garbage`` (random bytes instead of a response), ``slow`` (``latency_s``),
``split`` (response in ``chunk``-byte pieces ``gap_s`` apart), ``alarm`` (safety error 16384:
the stimulus stops and the system goes to IDLE), ``overshoot`` (the probe passes its
command by ``overshoot_c``, default 8 C, while stimulating), ``refuse`` (the commands in
``commands``, default SELECT_TP, are answered 0x0002 illegal state and not carried out).
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import struct
import threading
import time
from typing import Any

from cpmlab.devices.plugins import EmulatorSpec
from cpmlab.hardware_mocks.physics import DeviceClock, ThermodeModel

log = logging.getLogger(__name__)

FAULTS = ("unplug", "silence", "garbage", "slow", "split", "alarm", "overshoot", "refuse")

# Protocol constants, written from the manual (independent of the driver's tables).
GET_STATUS, SELECT_TP, START, PAUSE, TRIGGER, STOP, ABORT = 0, 1, 2, 3, 4, 5, 6
YES, NO, COVAS, VAS, SPECIFY_NEXT, T_UP, T_DOWN, KEYUP = 7, 8, 9, 10, 11, 12, 13, 14
WITH_PARAMETER = {SELECT_TP, T_UP, T_DOWN}
SYS_IDLE, SYS_READY, SYS_TEST = 0, 1, 2
TEST_IDLE, TEST_RUNNING, TEST_PAUSED, TEST_READY = 0, 1, 2, 3
OK, ILLEGAL_PARAMETER, ILLEGAL_STATE, WRONG_TEST_STATE = 0, 1, 2, 3
WAITING_MANUAL_OPERATION, SAFETY_ERROR = 0x3000, 0x4000
_RESPONSE = struct.Struct("<IIBBBHIhBBBB")  # the temperature is a signed short

Program = tuple[float, float, float, float]  # target_c, ramp_c_per_s, plateau_s, return_c_per_s
DEFAULT_PROGRAMS: dict[int, Program] = {
    0b00000001: (44.0, 4.0, 5.0, 4.0),
    0b00000010: (46.0, 4.0, 5.0, 4.0),
    0b00011100: (48.0, 4.0, 5.0, 4.0),
}


class MedocEmulator:
    """The Medoc software's external-control server, with a one-zone probe model."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        fault: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        programs: dict[int, Program] | None = None,
        neutral_c: float = 32.0,
        max_c: float = 55.0,
        pretest_s: tuple[float, float] = (1.0, 4.0),
        trigger_settle_s: float = 0.5,
        automatic_start: bool = False,
        seed: int | None = None,
    ) -> None:
        self.clock = DeviceClock(time_scale)
        self.model = ThermodeModel(1, neutral_c, max_c, clock=self.clock)
        self.programs = dict(DEFAULT_PROGRAMS if programs is None else programs)
        self.pretest_s = pretest_s
        self.trigger_settle_s = trigger_settle_s
        self.automatic_start = automatic_start
        self._running_since = 0.0
        self._timestamp = 0  # of the request being answered (echoed in its response)
        self.fault: str | None = None
        self.fault_params: dict[str, Any] = {}
        self.requests: list[tuple[int, int | None]] = []  # (command, parameter) seen, for tests
        self.lost_triggers = 0
        self.buttons = (False, False)  # (yes, no) held
        self._rng = random.Random(seed)
        self._state = threading.RLock()
        self.system_state, self.test_state = SYS_IDLE, TEST_IDLE
        self.selected: int | None = None
        self._test_start = 0.0
        self._pretest_end = 0.0
        self._stimulus_active = False
        self._stop = threading.Event()
        self._host = host
        self._listener: socket.socket | None = None
        self._bind(port)
        if fault:
            self.set_fault(fault)

    # -- sockets --------------------------------------------------------------------------
    def _bind(self, port: int) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self._host, port))
        listener.listen(16)
        listener.settimeout(0.1)
        self._listener = listener
        self.port = f"{self._host}:{listener.getsockname()[1]}"
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stop.is_set() and self._listener is listener:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.2)
            request = self._read_request(conn)
            if request is None:
                return
            if self.fault == "silence":
                self._hold(conn)
                return
            frame = self.handle(*request[:2], timestamp=request[2])
            if self.fault == "garbage":
                frame = bytes(self._rng.randrange(256) for _ in frame)
            if self.fault == "slow":
                time.sleep(float(self.fault_params.get("latency_s", 0.3)))
            chunks = [frame]
            if self.fault == "split":
                size = int(self.fault_params.get("chunk", 3))
                chunks = [frame[i : i + size] for i in range(0, len(frame), size)]
            with contextlib.suppress(OSError):
                for i, chunk in enumerate(chunks):
                    if i:
                        time.sleep(float(self.fault_params.get("gap_s", 0.005)))
                    conn.sendall(chunk)

    def _read_request(self, conn: socket.socket) -> tuple[int, int | None, int] | None:
        """Return (command, parameter, timestamp) or None for a broken / foreign request."""
        head = self._recv(conn, 4)
        if head is None:
            return None
        (length,) = struct.unpack("<I", head)
        if not 5 <= length <= 64:  # e.g. a big-endian length: the software drops it
            log.warning("medoc emulator: dropping request with length field %d", length)
            return None
        body = self._recv(conn, length)
        if body is None:
            return None
        timestamp, command = struct.unpack_from("<IB", body)
        parameter = struct.unpack_from("<I", body, 5)[0] if length >= 9 else None
        self.requests.append((command, parameter))
        return command, parameter, timestamp

    def _recv(self, conn: socket.socket, count: int) -> bytes | None:
        data = b""
        deadline = time.monotonic() + 2.0
        while len(data) < count and time.monotonic() < deadline and not self._stop.is_set():
            try:
                chunk = conn.recv(count - len(data))
            except TimeoutError:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data if len(data) == count else None

    def _hold(self, conn: socket.socket) -> None:
        """Keep a connection open without answering until the client gives up."""
        while not self._stop.is_set() and self.fault == "silence":
            try:
                if not conn.recv(64):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    # -- faults ---------------------------------------------------------------------------
    def set_fault(self, fault: str | None, **params: Any) -> None:
        """Switch a fault on (one of FAULTS) or off (None)."""
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {', '.join(FAULTS)}")
        was = self.fault
        self.fault, self.fault_params = fault, params
        if fault == "unplug" and self._listener is not None:
            listener, self._listener = self._listener, None
            _close_listener(listener)
        elif was == "unplug" and fault != "unplug" and not self._stop.is_set():
            self._bind(int(self.port.rsplit(":", 1)[1]))
        self.model.set_overshoot(float(params.get("overshoot_c", 8.0)) if fault == "overshoot" else 0.0)
        if fault == "alarm":
            with self._state:
                self._end_test()
                self.system_state = SYS_IDLE

    @property
    def unplugged(self) -> bool:
        """True while the listener is closed."""
        return self._listener is None

    def press_button(self, yes: bool = False, no: bool = False) -> None:
        """Hold the YES and/or NO buttons (False releases)."""
        self.buttons = (yes, no)

    # -- protocol -------------------------------------------------------------------------
    def handle(self, command: int, parameter: int | None, timestamp: int | None = None) -> bytes:
        """Apply one request and return the response frame (echoing timestamp, default now)."""
        with self._state:
            self._update()
            self._timestamp = int(time.time()) if timestamp is None else timestamp
            if self.fault == "alarm":
                result, text = SAFETY_ERROR, "Safety error: thermode temperature out of range"
            elif self.fault == "refuse" and command in self.fault_params.get("commands", (SELECT_TP,)):
                result, text = ILLEGAL_STATE, "command refused"
            elif command in WITH_PARAMETER and parameter is None:
                result, text = ILLEGAL_PARAMETER, "missing parameter"
            else:
                result, text = self._apply(command, parameter)
            return self._frame(command, result, text)

    def _apply(self, command: int, parameter: int | None) -> tuple[int, str]:
        if command == GET_STATUS:
            return (WAITING_MANUAL_OPERATION, "") if self._waits_for_operator() else (OK, "")
        if command == SELECT_TP:
            if self.system_state == SYS_TEST:
                return ILLEGAL_STATE, "test in progress"
            if parameter not in self.programs:
                return ILLEGAL_PARAMETER, f"no test program {parameter}"
            self.selected, self.system_state, self.test_state = parameter, SYS_READY, TEST_IDLE
            if self.automatic_start:
                self._start_test()
            return OK, ""
        if command == START:
            if self.system_state == SYS_TEST and self.test_state == TEST_PAUSED:
                self.test_state = TEST_RUNNING
                return OK, ""
            if self.system_state == SYS_TEST:
                return ILLEGAL_STATE, "test already in progress"
            if self.system_state != SYS_READY:
                return ILLEGAL_STATE, "no test program selected"
            self._start_test()
            return OK, ""
        if command == TRIGGER:
            if self.system_state != SYS_TEST:
                return ILLEGAL_STATE, "no test in progress"
            settling = self.clock.now() < self._running_since + self.trigger_settle_s
            if self.test_state == TEST_READY or (self.test_state == TEST_RUNNING and settling):
                self.lost_triggers += 1  # the known pitfall: lost, yet answered OK
                return OK, ""
            if self.test_state != TEST_RUNNING or self._stimulus_active:
                return WRONG_TEST_STATE, "not waiting for a trigger"
            self._deliver(self.programs[self.selected or 0])
            return OK, ""
        if command == PAUSE:
            if self.test_state != TEST_RUNNING:
                return WRONG_TEST_STATE, "test not running"
            self.test_state = TEST_PAUSED
            return OK, ""
        if command in (STOP, ABORT):
            if command == STOP and self.system_state != SYS_TEST:
                return ILLEGAL_STATE, "no test in progress"
            self._end_test()
            return OK, ""
        if command in (T_UP, T_DOWN):
            if self.test_state != TEST_RUNNING:
                return WRONG_TEST_STATE, "test not running"
            step = (parameter or 0) / 100 * (1 if command == T_UP else -1)
            current = self.model.zones[0].setpoint_c
            self.model.follow(1, max(0.0, min(self.model.max_c, current + step)))
            self._stimulus_active = True
            return OK, ""
        if command in (YES, NO, COVAS, VAS, SPECIFY_NEXT, KEYUP):
            return OK, ""
        return ILLEGAL_PARAMETER, f"unknown command {command}"

    def _start_test(self) -> None:
        now = self.clock.now()
        self.system_state, self.test_state = SYS_TEST, TEST_READY
        self._test_start = now
        self._pretest_end = now + self._rng.uniform(*self.pretest_s)

    def _waits_for_operator(self) -> bool:
        """True while a test waits for START (no automatic start) or for its trigger."""
        if self.system_state == SYS_READY:
            return not self.automatic_start
        return self.system_state == SYS_TEST and self.test_state == TEST_RUNNING and not self._stimulus_active

    def _deliver(self, program: Program) -> None:
        target_c, ramp_c_per_s, plateau_s, return_c_per_s = program
        zone = self.model.program(1)
        zone.target_c, zone.ramp_c_per_s, zone.return_c_per_s = (
            target_c,
            ramp_c_per_s,
            return_c_per_s,
        )
        zone.duration_s = abs(target_c - self.model.neutral_c) / ramp_c_per_s + plateau_s
        self.model.start([1])
        self._stimulus_active = True

    def _end_test(self) -> None:
        self.model.abort()
        self._stimulus_active = False
        if self.system_state == SYS_TEST:
            self.system_state = SYS_READY
        self.test_state = TEST_IDLE

    def _update(self) -> None:
        now = self.clock.now()
        pretest = self.system_state == SYS_TEST and self.test_state == TEST_READY
        if pretest and now >= self._pretest_end:
            self.test_state = TEST_RUNNING
            self._running_since = now
        if self._stimulus_active and self.model.zones[0].phase == "idle":
            self._stimulus_active = False
            self.system_state, self.test_state = SYS_READY, TEST_IDLE

    def _frame(self, command: int, result: int, text: str) -> bytes:
        temp = max(-0x8000, min(0x7FFF, round(self.model.temperatures()[0] * 100)))
        in_test = self.system_state == SYS_TEST
        test_ms = int((self.clock.now() - self._test_start) * 1000) if in_test else 0
        yes, no = self.buttons
        body = _RESPONSE.pack(
            19 + len(text),
            self._timestamp & 0xFFFFFFFF,
            command,
            self.system_state,
            self.test_state,
            result,
            test_ms & 0xFFFFFFFF,
            temp,
            0,
            int(yes),
            int(no),
            0,
        )
        return body + text.encode("latin-1")

    def close(self) -> None:
        """Stop accepting and release the port."""
        self._stop.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            _close_listener(listener)


def _close_listener(listener: socket.socket) -> None:
    """Stop listening at once (shutdown wakes a blocked accept(); close alone may not)."""
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)
    listener.close()


def start(time_scale: float = 1.0, fault: str | None = None, **options: Any) -> MedocEmulator:
    """Start a Medoc external-control emulator on a loopback port; connect to ``.port``."""
    return MedocEmulator(time_scale=time_scale, fault=fault, **options)


EMULATOR = EmulatorSpec(
    name="medoc",
    kind="thermode",
    model="Medoc Pathway/TSA-2 (external control)",
    start=start,
    faults=FAULTS,
    description="Medoc external control on 127.0.0.1 (port 0 = any free port), one-zone physics",
)
