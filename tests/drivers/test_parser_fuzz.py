"""Seeded, bounded fuzzing of every driver's reply parsers: impossible or malformed values are device errors.

Each input is a well-formed reply (a value inside or outside what the device can report), a
mutation of one (control characters inside a number, overlong fields, exponents, junk) or
random bytes. An independent oracle written here from the documented reply formats says
what each input must give; a value the driver accepts that the oracle refuses, or that
differs from the oracle's, is a wrong value accepted. The counts are printed (``pytest -s``):
inputs / device errors / values accepted / wrong values accepted (must be 0).
"""

from __future__ import annotations

import random
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cpmlab.core.errors import DeviceError
from cpmlab.drivers import julabo, lauda
from cpmlab.drivers._medoc_protocol import decode_response
from cpmlab.drivers._tcs2_protocol import REPORTED_PROBE_C, StreamParser

INPUTS = 1500

# Ranges as documented in docs/hardware.md (written out again here, not imported).
JULABO_RANGE_C = (-50.0, 200.0)
LAUDA_RANGE_C = (-40.0, 200.0)
TCS2_RANGE_C = (-5.0, 70.0)
MEDOC_RANGE_C = (-10.0, 70.0)
# The return codes of Medoc's external-control addendum (0x3000: waiting for manual operation).
MEDOC_RESULT_CODES = (0x0000, 0x0001, 0x0002, 0x0003, 0x1000, 0x2000, 0x3000, 0x4000)


@dataclass
class FuzzCounts:
    """Outcome of one parser's fuzz run."""

    inputs: int = 0
    device_errors: int = 0
    accepted: int = 0
    wrong_accepted: int = 0
    good_refused: int = 0

    def line(self, name: str) -> str:
        """Return the counts as one printable line."""
        return (
            f"{name:14s} inputs={self.inputs} device-errors={self.device_errors} accepted={self.accepted} "
            f"wrong-values-accepted={self.wrong_accepted} (well-formed refused={self.good_refused})"
        )


def run(name: str, inputs: list[bytes], parse: Callable[[bytes], Any], oracle: Callable[[bytes], Any]) -> FuzzCounts:
    """Parse every input; compare with the oracle (None: must be refused)."""
    counts = FuzzCounts()
    for raw in inputs:
        counts.inputs += 1
        expected = oracle(raw)
        try:
            value = parse(raw)
        except DeviceError:
            counts.device_errors += 1
            counts.good_refused += expected is not None
            continue
        counts.accepted += 1
        if expected is None or value != expected:
            counts.wrong_accepted += 1
            print(f"  WRONG: {raw!r} -> {value!r}, oracle {expected!r}")
    print(counts.line(name))
    return counts


# -- inputs ---------------------------------------------------------------------------------
def number_text(rng: random.Random, low: float, high: float) -> str:
    """Return a decimal as a bath sends it, sometimes far outside [low, high]."""
    choice = rng.random()
    if choice < 0.5:
        value = rng.uniform(low, high)
    elif choice < 0.8:
        value = rng.choice([low - rng.uniform(0.01, 500), high + rng.uniform(0.01, 5000)])
    else:
        value = rng.choice([low, high, -57.5, 0.0, 9999.0])
    return f"{value:.{rng.choice([0, 1, 2, 3])}f}"


def mutate(rng: random.Random, text: bytes) -> bytes:
    """Return text with one random corruption."""
    kind = rng.randrange(8)
    pos = rng.randrange(len(text) + 1)
    if kind == 0:  # a control character inside the number
        return text[:pos] + bytes([rng.choice([0, 1, 7, 9, 11, 13, 27, 127])]) + text[pos:]
    if kind == 1:  # an overlong field
        return text[:pos] + b"9" * rng.randrange(5, 200) + text[pos:]
    if kind == 2:  # an exponent
        return text + rng.choice([b"e119", b"E5", b"e-3"])
    if kind == 3:
        return b"1.1e119"
    if kind == 4:  # a byte with the high bit set
        return text[:pos] + bytes([rng.randrange(128, 256)]) + text[pos:]
    if kind == 5:
        return text.replace(b".", b",")
    if kind == 6:
        return rng.choice([b"nan", b"inf", b"-inf", b"", b"+", b"-", b".", b"1..2", b"--1"])
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))


def line_inputs(rng: random.Random, low: float, high: float) -> list[bytes]:
    """Reply lines: well-formed numbers (in and out of range) and corrupted ones."""
    out = []
    for _ in range(INPUTS):
        text = number_text(rng, low, high).encode()
        if rng.random() < 0.5:
            text = mutate(rng, text)
        out.append(text + b"\r\n")
    return out


# -- oracles --------------------------------------------------------------------------------
BATH_NUMBER = re.compile(rb"^ *([+-]?\d{1,4}(?:\.\d{1,3})?) *\r\n$")


def bath_oracle(bounds: tuple[float, float]) -> Callable[[bytes], float | None]:
    """Return the oracle for a bath temperature reply within bounds."""

    def oracle(raw: bytes) -> float | None:
        match = BATH_NUMBER.match(raw)
        if not match:
            return None
        value = float(match.group(1))
        return value if bounds[0] <= value <= bounds[1] else None

    return oracle


# -- a transport that answers every query with the next fuzz input ---------------------------
class ReplyOnce:
    """Answers the identity query properly and any other query with the reply it is given."""

    def __init__(self, identity: bytes) -> None:
        self.timeout = 0.0
        self.identity = identity
        self.reply = b""
        self._rx = bytearray()

    def write(self, data: bytes) -> int:
        """Queue the reply to the command written."""
        self._rx += self.identity if data.strip() in (b"VERSION", b"TYPE") else self.reply
        return len(data)

    def read(self, size: int = 1) -> bytes:
        """Return up to size queued bytes (never waits)."""
        data = bytes(self._rx[:size])
        del self._rx[:size]
        return data

    @property
    def in_waiting(self) -> int:
        """Queued bytes."""
        return len(self._rx)

    def reset_input_buffer(self) -> None:
        """Drop queued bytes."""
        self._rx.clear()

    def close(self) -> None:
        """Nothing to release."""


def bath_parse(driver: Any, transport: ReplyOnce) -> Callable[[bytes], float]:
    """Return a parse function feeding raw to the driver's temperature query."""

    def parse(raw: bytes) -> float:
        transport.reply = raw
        return driver.query_temperature("IN_PV_00")

    return parse


def test_julabo_temperature_parser_refuses_impossible_and_malformed_values() -> None:
    """Julabo IN_PV_00 replies: no value outside -50..200 C or malformed is accepted."""
    transport = ReplyOnce(b"JULABO FUZZ\r\n")
    bath = julabo.JulaboBath(transport, reply_timeout_s=0.002)
    bath.spacing_s = {}
    inputs = line_inputs(random.Random(1301), *JULABO_RANGE_C)
    counts = run("julabo IN_PV", inputs, bath_parse(bath, transport), bath_oracle(JULABO_RANGE_C))
    assert counts.wrong_accepted == 0 and counts.good_refused == 0
    assert counts.accepted > INPUTS // 10 and counts.device_errors > INPUTS // 10


def test_lauda_temperature_parser_refuses_impossible_and_malformed_values() -> None:
    """Lauda IN_PV_00 replies: no value outside -40..200 C or malformed is accepted."""
    transport = ReplyOnce(b"RE206\r\n")
    bath = lauda.LaudaBath(transport, reply_timeout_s=0.002)
    inputs = line_inputs(random.Random(1302), *LAUDA_RANGE_C)
    counts = run("lauda IN_PV", inputs, bath_parse(bath, transport), bath_oracle(LAUDA_RANGE_C))
    assert counts.wrong_accepted == 0 and counts.good_refused == 0
    assert counts.accepted > INPUTS // 10 and counts.device_errors > INPUTS // 10


def test_julabo_status_parser_refuses_malformed_lines() -> None:
    """Julabo STATUS lines: only a code of up to three digits and a text are accepted."""
    rng = random.Random(1303)
    inputs = []
    for _ in range(INPUTS):
        text = f"{rng.choice(['', '-', '+'])}{rng.randrange(0, 10 ** rng.randrange(1, 6)):02d}"
        text += rng.choice([" REMOTE START", " LOW LIQUID LEVEL ALARM", "", " 12"])
        raw = text.encode()
        inputs.append(mutate(rng, raw) if rng.random() < 0.5 else raw)
    status_re = re.compile(rb"^([+-]?\d{1,3})(?: ([A-Za-z][ -~]*))?$")

    def oracle(raw: bytes) -> int | None:
        match = status_re.match(raw.strip(b" "))
        return int(match.group(1)) if match else None

    def parse(raw: bytes) -> int:
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise DeviceError("not ascii") from exc
        if not text.isprintable():
            raise DeviceError("control characters")  # the link refuses such a line first
        return julabo.parse_status(text).code

    counts = run("julabo STATUS", inputs, parse, oracle)
    assert counts.wrong_accepted == 0 and counts.good_refused == 0


def test_tcs2_stream_parser_refuses_impossible_and_malformed_records() -> None:
    """TCS II records: a field outside -5..70 C or a corrupted record never becomes a reading."""
    rng = random.Random(1304)
    low_c, high_c = TCS2_RANGE_C
    assert REPORTED_PROBE_C == TCS2_RANGE_C, "docs and driver disagree"
    inputs = []
    for _ in range(INPUTS):
        tenths = [rng.randrange(0, 1000)] + [rng.randrange(-999, 1000) for _ in range(5)]
        if rng.random() < 0.5:
            tenths = [rng.randrange(round(low_c * 10) if i else 0, round(high_c * 10) + 1) for i in range(6)]
        raw = f"\r{tenths[0]:03d}" + "".join(f"{'+' if t >= 0 else '-'}{abs(t):03d}" for t in tenths[1:])
        data = raw.encode() + b"\r\n"
        inputs.append(mutate(rng, data) if rng.random() < 0.5 else data)
    # A record is CR + 23 bytes, then a line end (or the CR of the next item, or nothing more).
    record = re.compile(rb"^\r(\d{3})([+-]\d{3})([+-]\d{3})([+-]\d{3})([+-]\d{3})([+-]\d{3})(?:[\r\n]|$)")

    def oracle(raw: bytes) -> tuple[float, tuple[float, ...]] | None:
        match = record.match(raw)
        if not match:
            return None
        values = [int(g) / 10 for g in match.groups()]
        if not all(low_c <= v <= high_c for v in values):
            return None
        return values[0], tuple(values[1:])

    def parse(raw: bytes) -> tuple[float, tuple[float, ...]]:
        parser = StreamParser()
        items = parser.feed(raw) + parser.flush()
        records = [value for kind, value in items if kind == "record"]
        if len(records) != 1:
            raise DeviceError(f"{len(records)} records")  # counted as refused
        return records[0]  # type: ignore[return-value]

    counts = run("tcs2 records", inputs, parse, oracle)
    assert counts.wrong_accepted == 0 and counts.good_refused == 0


def test_medoc_response_parser_refuses_impossible_and_malformed_frames() -> None:
    """Medoc responses: a temperature outside -10..70 C (signed), bad states, an undocumented
    return code or a corrupted frame are refused."""
    rng = random.Random(1305)
    inputs = []
    for _ in range(INPUTS):
        raw_temp = rng.choice([rng.randrange(-1000, 7001) & 0xFFFF, rng.randrange(0, 65536)])
        result = rng.choice([*MEDOC_RESULT_CODES, rng.randrange(0, 65536)])
        text = rng.choice([b"", b"OK", b"Test running"])
        body = struct.pack(
            "<IBBBHIHBBBB",
            0,
            rng.randrange(0, 16),
            rng.randrange(0, 8),
            rng.randrange(0, 8),
            result,
            0,
            raw_temp,
            0,
            0,
            0,
            0,
        )
        frame = struct.pack("<I", len(body) + len(text)) + body + text
        if rng.random() < 0.4:
            pos = rng.randrange(len(frame))
            frame = frame[:pos] + bytes([rng.randrange(256)]) + frame[pos + 1 :]
        inputs.append(frame)

    def oracle(raw: bytes) -> float | None:
        if len(raw) < 4 + 19 or struct.unpack_from("<I", raw)[0] != len(raw) - 4:
            return None
        _, command, system, test, result, _, temp = struct.unpack_from("<IBBBHIh", raw, 4)
        text = raw[23:].decode("latin-1").rstrip("\x00").strip()
        ok = command <= 14 and system <= 2 and test <= 3 and result in MEDOC_RESULT_CODES and text.isprintable()
        value = temp / 100
        return value if ok and MEDOC_RANGE_C[0] <= value <= MEDOC_RANGE_C[1] else None

    counts = run("medoc frames", inputs, lambda raw: decode_response(raw).temperature_c, oracle)
    assert counts.wrong_accepted == 0 and counts.good_refused == 0
    assert counts.accepted > 0 and any(value < 0 for value in map(oracle, inputs) if value is not None)
