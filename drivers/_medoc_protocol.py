"""Medoc Pathway / TSA-2 external-control wire protocol as data: frames, ids, codes, probes.

One TCP connection per request. All integers are little-endian. Request:
``[length u32][unix time u32][command u8][parameter u32, only for commands that take one]``
where length counts the bytes after the length field. Response: length u32, timestamp u32,
command echo u8, system state u8, test state u8, result u16, test time ms u32, temperature
1/100 C u16, CoVAS u8, yes u8, no u8, TTL u8, then an optional error text.
The facts and the public sources they were checked against: docs/hardware.md.
"""

from __future__ import annotations

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

RESULT_OK = 0
RESULT_ILLEGAL_PARAMETER = 1
RESULT_ILLEGAL_STATE = 2
RESULT_WRONG_TEST_STATE = 3
RESULT_DEVICE_COMMUNICATION_ERROR = 4096
RESULT_SAFETY_WARNING = 8192
RESULT_SAFETY_ERROR = 16384
RESULT_CODES = {
    RESULT_OK: "OK",
    RESULT_ILLEGAL_PARAMETER: "illegal parameter",
    RESULT_ILLEGAL_STATE: "illegal state to send this command",
    RESULT_WRONG_TEST_STATE: "not the proper test state",
    RESULT_DEVICE_COMMUNICATION_ERROR: "device communication error",
    RESULT_SAFETY_WARNING: "safety warning (test continues)",
    RESULT_SAFETY_ERROR: "safety error (going to IDLE)",
}

LENGTH = struct.Struct("<I")
REQUEST_HEAD = struct.Struct("<IB")  # unix time, command
PARAMETER = struct.Struct("<I")
RESPONSE_BODY = struct.Struct("<IBBBHIHBBBB")  # after the length field: 19 bytes
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
            "result": self.result,
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
