"""Medoc Pathway / TSA-2 external-control wire protocol as data: frames, ids, codes, probes.

One TCP connection per request. All integers are little-endian. Request:
``[length u32][unix time u32][command u8][parameter u32, only for commands that take one]``
where length counts the bytes after the length field. Response: length u32, timestamp u32,
command echo u8, system state u8, test state u8, result u16, test time ms u32, temperature
1/100 C i16 (signed), CoVAS u8, yes u8, no u8, TTL u8, then an optional error text.
The facts and the public sources they were checked against: docs/hardware.md.
"""

from __future__ import annotations

import enum
import socket
import struct
import time
from dataclasses import dataclass
from typing import Any

from cpmlab.core.errors import DeviceError

DEVICE = "medoc"
DEFAULT_PORT = 20121

COMMANDS: dict[str, int] = {
    "GET_STATUS": 0,
    "SELECT_TP": 1,
    "START": 2,
    "PAUSE": 3,
    "TRIGGER": 4,
    "STOP": 5,
    "ABORT": 6,
    "YES": 7,
    "NO": 8,
    "COVAS": 9,
    "VAS": 10,
    "SPECIFY_NEXT": 11,
    "T_UP": 12,
    "T_DOWN": 13,
    "KEYUP": 14,
}
COMMAND_NAMES: dict[int, str] = {v: k for k, v in COMMANDS.items()}
TAKES_PARAMETER = frozenset({"SELECT_TP", "T_UP", "T_DOWN"})

SYSTEM_STATES = {0: "IDLE", 1: "READY", 2: "TEST IN PROGRESS"}
TEST_STATES = {0: "IDLE", 1: "RUNNING", 2: "PAUSED", 3: "READY"}
SYSTEM_IDLE, SYSTEM_READY, SYSTEM_TEST_IN_PROGRESS = 0, 1, 2
TEST_IDLE, TEST_RUNNING, TEST_PAUSED, TEST_READY = 0, 1, 2, 3


class ResultCode(enum.IntEnum):
    """Every return code Medoc's external-control addendum lists (a u16 in the response)."""

    OK = 0x0000
    ILLEGAL_ARG = 0x0001
    ILLEGAL_STATE = 0x0002
    ILLEGAL_TEST_STATE = 0x0003
    DEVICE_COMM_ERROR = 0x1000
    SAFETY_WARNING = 0x2000
    WAITING_MANUAL_OPERATION = 0x3000
    SAFETY_ERROR = 0x4000


class ResultKind(enum.StrEnum):
    """What a return code means for the driver."""

    OK = "ok"
    REFUSED = "refused"  # the software did not carry out the command
    DEVICE_ERROR = "device_error"  # the software cannot reach the thermode
    WARNING = "warning"  # a safety warning; the test goes on
    WAITING_MANUAL = "waiting_manual"  # the test waits for an operator action (Start or a trigger)
    SAFETY_ERROR = "safety_error"  # the test stopped and the system went to IDLE


RESULT_KINDS: dict[ResultCode, ResultKind] = {
    ResultCode.OK: ResultKind.OK,
    ResultCode.ILLEGAL_ARG: ResultKind.REFUSED,
    ResultCode.ILLEGAL_STATE: ResultKind.REFUSED,
    ResultCode.ILLEGAL_TEST_STATE: ResultKind.REFUSED,
    ResultCode.DEVICE_COMM_ERROR: ResultKind.DEVICE_ERROR,
    ResultCode.SAFETY_WARNING: ResultKind.WARNING,
    ResultCode.WAITING_MANUAL_OPERATION: ResultKind.WAITING_MANUAL,
    ResultCode.SAFETY_ERROR: ResultKind.SAFETY_ERROR,
}
RESULT_CODES: dict[int, str] = {
    ResultCode.OK: "OK",
    ResultCode.ILLEGAL_ARG: "illegal parameter",
    ResultCode.ILLEGAL_STATE: "illegal state to send this command",
    ResultCode.ILLEGAL_TEST_STATE: "not the proper test state",
    ResultCode.DEVICE_COMM_ERROR: "device communication error",
    ResultCode.SAFETY_WARNING: "safety warning (test continues)",
    ResultCode.WAITING_MANUAL_OPERATION: "waiting for manual operation",
    ResultCode.SAFETY_ERROR: "safety error (going to IDLE)",
}


class MedocState(enum.StrEnum):
    """Where the Medoc software is, from the system and test states of a response."""

    LISTENING = "listening"  # system IDLE: waiting for a program selection
    PROGRAM_SELECTED = "program_selected"  # system READY: test screen shown, no test started
    PRETEST = "pretest"  # test in progress, test state READY: a TRIGGER now is lost
    RUNNING = "running"  # test in progress and RUNNING: ready for a TRIGGER (after settling)
    PAUSED = "paused"
    TEST_IDLE = "test_idle"  # test in progress, test state IDLE: starting or saving results


_TEST_IN_PROGRESS_STATES = {
    TEST_IDLE: MedocState.TEST_IDLE,
    TEST_RUNNING: MedocState.RUNNING,
    TEST_PAUSED: MedocState.PAUSED,
    TEST_READY: MedocState.PRETEST,
}


def medoc_state(system_state: int, test_state: int) -> MedocState:
    """Return the typed state for a response's system and test state codes."""
    if system_state == SYSTEM_IDLE:
        return MedocState.LISTENING
    if system_state == SYSTEM_READY:
        return MedocState.PROGRAM_SELECTED
    return _TEST_IN_PROGRESS_STATES[test_state]


LENGTH = struct.Struct("<I")
REQUEST_HEAD = struct.Struct("<IB")  # unix time, command
PARAMETER = struct.Struct("<I")
RESPONSE_BODY = struct.Struct("<IBBBHIhBBBB")  # after the length field: 19 bytes; temperature signed
#: Body lengths of the older layout (message at offset 17, no temperature or buttons).
OLD_LAYOUT_LENGTHS = range(13, 19)
RESPONSE_FIXED_LENGTH = RESPONSE_BODY.size
MAX_RESPONSE_LENGTH = 4096  # a longer length field means garbage


@dataclass(frozen=True, slots=True)
class ProbeLimits:
    """What a Medoc probe can do: temperature range and rates in C and C/s."""

    min_c: float
    max_c: float
    max_heating_c_per_s: float
    max_cooling_c_per_s: float


#: What a Medoc probe can report, in C (both probes work within 0-55 C; the margin covers
#: ambient and overshoot): a response outside it is garbage, not a reading.
REPORTED_RANGE_C = (-10.0, 70.0)

# ATS: 0-55 C up to 8 C/s. CHEPS: 30-55 C, 70 C/s heating; its cooling is slower (40 C/s).
PROBES: dict[str, ProbeLimits] = {
    "ATS": ProbeLimits(0.0, 55.0, 8.0, 8.0),
    "CHEPS": ProbeLimits(30.0, 55.0, 70.0, 40.0),
}


def encode_request(command: str, parameter: int | None = None, timestamp: int = 0) -> bytes:
    """Return the little-endian request frame for command (and its parameter)."""
    if command not in COMMANDS:
        raise ValueError(f"unknown Medoc command {command!r}")
    takes = command in TAKES_PARAMETER
    if takes != (parameter is not None):
        need = "needs" if takes else "takes no"
        raise ValueError(f"Medoc command {command} {need} parameter")
    body = REQUEST_HEAD.pack(timestamp & 0xFFFFFFFF, COMMANDS[command])
    if parameter is not None:
        if not 0 <= parameter <= 0xFFFFFFFF:
            raise ValueError(f"parameter {parameter} does not fit in u32")
        body += PARAMETER.pack(parameter)
    return LENGTH.pack(len(body)) + body


@dataclass(frozen=True, slots=True)
class MedocResponse:
    """One decoded response frame."""

    timestamp: int
    command: int
    system_state: int
    test_state: int
    result: int
    test_time_ms: int
    temperature_c: float
    covas: int
    yes: int
    no: int
    ttl: int
    error_text: str = ""

    @property
    def command_name(self) -> str:
        """Name of the echoed command."""
        return COMMAND_NAMES.get(self.command, f"unknown({self.command})")

    @property
    def result_text(self) -> str:
        """Meaning of the result code."""
        return RESULT_CODES.get(self.result, f"unknown result code {self.result}")

    @property
    def result_kind(self) -> ResultKind:
        """What the result code means for the driver (decode_response refuses unknown codes)."""
        return RESULT_KINDS[ResultCode(self.result)]

    @property
    def state(self) -> MedocState:
        """The typed state from the system and test states."""
        return medoc_state(self.system_state, self.test_state)

    @property
    def waiting_manual(self) -> bool:
        """True when the software says it waits for a manual operation (result 0x3000)."""
        return self.result == ResultCode.WAITING_MANUAL_OPERATION

    def describe(self, prefix: str) -> str:
        """Return prefix with the result code, its meaning and the Medoc's error text."""
        text = f"{prefix}: {self.result_text} (result {self.result})"
        return f"{text}: {self.error_text}" if self.error_text else text

    def fields(self) -> dict[str, object]:
        """Return the parsed fields as a plain dict (for the journal)."""
        return {
            "command": self.command_name,
            "system_state": SYSTEM_STATES.get(self.system_state, str(self.system_state)),
            "test_state": TEST_STATES.get(self.test_state, str(self.test_state)),
            "state": str(self.state),
            "result": self.result,
            "result_kind": str(self.result_kind),
            "result_text": self.result_text,
            "test_time_ms": self.test_time_ms,
            "temperature_c": self.temperature_c,
            "covas": self.covas,
            "yes": self.yes,
            "no": self.no,
            "ttl": self.ttl,
            "error_text": self.error_text,
        }


def decode_response(frame: bytes) -> MedocResponse:
    """Decode a whole response frame (length field included) or raise DeviceError."""
    if len(frame) < LENGTH.size + RESPONSE_FIXED_LENGTH:
        raise DeviceError(f"Medoc response too short ({len(frame)} bytes): {frame.hex()}")
    (length,) = LENGTH.unpack_from(frame)
    if length != len(frame) - LENGTH.size:
        raise DeviceError(f"Medoc response length field says {length} bytes but {len(frame) - 4} followed")
    values = RESPONSE_BODY.unpack_from(frame, LENGTH.size)
    (timestamp, command, system, test, result, test_ms, temp, covas, yes, no, ttl) = values
    if command not in COMMAND_NAMES or system not in SYSTEM_STATES or test not in TEST_STATES:
        raise DeviceError(f"garbage Medoc response (unknown command/state): {frame[:32].hex()}")
    if result not in RESULT_CODES:
        raise DeviceError(
            f"Medoc response carries the undocumented result code {result} (0x{result:04x}) "
            f"to {COMMAND_NAMES[command]}: {frame[:32].hex()}"
        )
    if not REPORTED_RANGE_C[0] <= temp / 100 <= REPORTED_RANGE_C[1]:
        raise DeviceError(
            f"garbage Medoc response: temperature {temp / 100:g} C is outside what a probe can report "
            f"({REPORTED_RANGE_C[0]:g} to {REPORTED_RANGE_C[1]:g} C)"
        )
    text = frame[LENGTH.size + RESPONSE_FIXED_LENGTH :].decode("latin-1").rstrip("\x00").strip()
    if not text.isprintable():
        raise DeviceError(f"garbage Medoc response: message text {text[:40]!r} holds control bytes")
    return MedocResponse(timestamp, command, system, test, result, test_ms, temp / 100, covas, yes, no, ttl, text)


def recv_exactly(sock: socket.socket, count: int, deadline: float | None = None) -> bytes:
    """Read exactly count bytes (across several reads) by deadline (monotonic s), or raise DeviceError."""
    data = bytearray()
    while len(data) < count:
        if deadline is not None:
            left_s = deadline - time.monotonic()
            if left_s <= 0:
                raise DeviceError(f"no complete Medoc response in time ({len(data)} of {count} bytes)")
            sock.settimeout(left_s)
        try:
            chunk = sock.recv(count - len(data))
        except TimeoutError as exc:
            raise DeviceError(f"no complete Medoc response in time ({len(data)} of {count} bytes)") from exc
        except OSError as exc:
            raise DeviceError(f"Medoc connection failed while reading: {exc}") from exc
        if not chunk:
            raise DeviceError(f"Medoc closed the connection after {len(data)} of {count} response bytes")
        data.extend(chunk)
    return bytes(data)


def read_response(sock: socket.socket, deadline: float | None = None) -> bytes:
    """Read one length-prefixed response frame from sock (whole, by deadline) and return it."""
    head = recv_exactly(sock, LENGTH.size, deadline)
    (length,) = LENGTH.unpack(head)
    if length in OLD_LAYOUT_LENGTHS:
        raise DeviceError(
            f"Medoc response body of {length} bytes: the older layout without temperature and "
            f"buttons (message at offset 17); cpmlab needs the {RESPONSE_FIXED_LENGTH}-byte layout "
            "of current Medoc software"
        )
    if not RESPONSE_FIXED_LENGTH <= length <= MAX_RESPONSE_LENGTH:
        raise DeviceError(
            f"garbage Medoc response: length field {length} (bytes {head.hex()}) is not "
            f"{RESPONSE_FIXED_LENGTH}-{MAX_RESPONSE_LENGTH}"
        )
    return head + recv_exactly(sock, length, deadline)


def probe(connector: Any) -> str | None:
    """Send GET_STATUS and return an identity string if a Medoc answers, else None."""
    try:
        sock = connector.open()
        try:
            sock.sendall(encode_request("GET_STATUS", timestamp=int(time.time())))
            response = decode_response(read_response(sock))
        finally:
            sock.close()
    except Exception:  # a probe never raises: any failure means "not this device"
        return None
    if response.command != COMMANDS["GET_STATUS"]:
        return None
    return f"Medoc external control ({SYSTEM_STATES[response.system_state]})"
