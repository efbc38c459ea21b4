"""QST.Lab TCS II wire protocol as data: command table, value ranges, reply patterns, parser.

Commands are fixed-length ASCII with no terminator (the device splits the byte stream by
each command's length). Temperatures are in 1/10 C with a fixed number of digits; ``s`` is a
zone selector (0 = all zones, 1-5 one zone). The facts and their sources: docs/hardware.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cpmlab.core.errors import LimitError

DEVICE = "tcs2"
IDENTITY_REPLY = "TCS"
ZONES: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True, slots=True)
class Command:
    """One command: its format string (str.format fields) and its fixed length in bytes."""

    fmt: str
    length: int
    meaning: str

    def encode(self, **fields: int | str) -> bytes:
        """Format the command and check it has exactly its fixed length."""
        text = self.fmt.format(**fields)
        if len(text) != self.length or not text.isascii():
            raise ValueError(f"command {text!r} is not {self.length} ASCII bytes")
        return text.encode("ascii")


COMMANDS: dict[str, Command] = {
    "help": Command("H", 1, "help text, firmware and probe lines first"),
    "identify": Command("?", 1, "identity, replies TCS"),
    "neutral": Command("N{tenths:03d}", 4, "neutral temperature in 1/10 C"),
    "calibrate_neutral": Command("G", 1, "auto-calibrate neutral; replies Nxxx"),
    "zones": Command("S{mask}", 6, "enable (1) / disable (0) zones 1-5"),
    "target": Command("C{zone}{tenths:03d}", 5, "stimulation temperature in 1/10 C"),
    "ramp": Command("V{zone}{tenths_per_s:04d}", 6, "ramp speed in 1/10 C/s"),
    "return": Command("R{zone}{tenths_per_s:04d}", 6, "return speed in 1/10 C/s"),
    "duration": Command("D{zone}{ms:05d}", 7, "ramp + plateau duration in ms"),
    "trigger_out": Command("T{code:03d}{ms:03d}", 7, "trigger-out code and pulse length"),
    "parameters": Command("P", 1, "print stimulation parameters"),
    "start": Command("L", 1, "start the stimulation"),
    "abort": Command("A", 1, "abort and return to neutral"),
    "mute": Command("F", 1, "stop the periodic temperature output"),
    "display_time": Command("Y{ten_ms:04d}", 5, "temperature output time during a stimulus"),
    "output_between": Command("Oa", 2, "periodic output between stimulations (1 Hz)"),
    "output_during": Command("Ob", 2, "periodic output during stimulations (100 Hz)"),
    "reset": Command("Oc", 2, "reset, as power-cycling"),
    "follow": Command("Od", 2, "follow mode"),
    "max_target": Command("Om{tenths:03d}", 5, "maximum stimulation temperature, 1/10 C"),
    "ramp_fine": Command("Ov{zone}{hundredths_per_s:05d}", 8, "ramp speed in 1/100 C/s"),
    "return_fine": Command("Or{zone}{hundredths_per_s:05d}", 8, "return speed in 1/100 C/s"),
    "target_fine": Command("Ot{zone}{hundredths:04d}", 7, "target in 1/100 C"),
    "temperatures_fine": Command("Oe", 2, "current temperatures in 1/100 C"),
    "trigger_in_on": Command("Ose", 3, "enable starting a stimulation from trigger-in"),
    "trigger_in_off": Command("Osd", 3, "disable starting a stimulation from trigger-in"),
    "trigger_pulse": Command("Oo", 2, "emit a trigger-out pulse"),
    "mri_filter": Command("Of{strength:d}", 3, "MRI filter strength 1-3"),
    "start_stoppable": Command("Ol", 2, "start a stimulation the response button can stop"),
    "temperatures_buttons": Command("Og", 2, "E and K in one reply"),
    "battery": Command("B", 1, "battery voltage and charge"),
    "integral": Command("I{on:d}", 2, "controller integral term on (1) / off (0)"),
    "temperatures": Command("E", 1, "current temperatures, neutral and zones 1-5"),
    "buttons": Command("K", 1, "button state, CR + two digits"),
    "error_state": Command("Q", 1, "error state, one digit per zone and neutral"),
    "buzzer": Command("Z{ten_ms:03d}{ten_hz:03d}", 7, "buzzer duration and frequency"),
    "clock_read": Command("Xr", 2, "read the device clock hhmmssddmmyy"),
}

# Device value ranges (inclusive), in the units the wire uses.
NEUTRAL_TENTHS = (200, 400)
TARGET_TENTHS = (100, 600)
SPEED_TENTHS_PER_S = (1, 9999)
DURATION_MS = (1, 99_999)
MAX_TARGET_TENTHS = (100, 600)

# Replies. A temperature record (E and the periodic output) is CR + neutral (3 digits) +
# 5 x (sign + 3 digits) = 24 bytes, then a line end.
RECORD_LENGTH = 24
RECORD = re.compile(rb"\r(\d{3})([+-]\d{3})([+-]\d{3})([+-]\d{3})([+-]\d{3})([+-]\d{3})")
IDENTITY = re.compile(r"^TCS\b")
BUTTONS = re.compile(r"^([01])([01])$")
ERROR_STATE = re.compile(r"^(\d)(\d)(\d)(\d)(\d)(\d)$")
BATTERY = re.compile(r"^(\d+(?:\.\d+)?)\s*[vV]\s+(\d{1,3})\s*%$")
HELP_FIELDS = {"Firmware": "firmware", "Probe ID": "probe_id", "Probe TYPE": "probe_type"}
HELP_LINE = re.compile(r"^(Firmware|Probe ID|Probe TYPE)\s*:\s*(.*?)\s*$")


def check_range(value: int, bounds: tuple[int, int], what: str, unit: str) -> int:
    """Return value if it lies within the device's bounds, else raise LimitError."""
    low, high = bounds
    if not low <= value <= high:
        raise LimitError(f"{what} {value} {unit} is outside the TCS II range {low}-{high} {unit}")
    return value


def zone_mask(zones: tuple[int, ...]) -> str:
    """Return the S command's 5-character enable mask for zones."""
    return "".join("1" if z in zones else "0" for z in ZONES)


#: What the probe can report, in C (stimuli are 10-60 C, neutral 20-40 C; the margin covers
#: ambient and overshoot). A record with a field outside it is garbage, not a reading.
REPORTED_PROBE_C = (-5.0, 70.0)


def decode_record(match: re.Match[bytes]) -> tuple[float, tuple[float, ...]] | None:
    """Return (neutral_c, zones_c) from a matched temperature record, or None if impossible."""
    fields = [int(g) / 10 for g in match.groups()]
    low_c, high_c = REPORTED_PROBE_C
    if not all(low_c <= value_c <= high_c for value_c in fields):
        return None
    return fields[0], tuple(fields[1:])


class StreamParser:
    """Split the device's byte stream into temperature records and reply lines.

    Records (``\\r`` + 23 bytes) are recognised wherever they start; anything else is
    collected into lines ended by ``\\n`` (a leading or trailing ``\\r`` is stripped).
    Lines with non-printable bytes, over-long runs and broken records count as malformed.
    """

    max_line = 512

    def __init__(self) -> None:
        self._buf = bytearray()
        self.malformed_count = 0

    def feed(self, data: bytes) -> list[tuple[str, object]]:
        """Add bytes; return complete items as ("record", (neutral, zones)) or ("line", str)."""
        self._buf.extend(data)
        out: list[tuple[str, object]] = []
        while self._buf:
            try:
                item = self._next()
            except Exception:  # a parser bug must never kill the reader: drop the buffer
                self.malformed_count += len(self._buf)
                self._buf.clear()
                break
            if item is None:
                break
            if item[0] != "skip":
                out.append(item)
        return out

    def flush(self) -> list[tuple[str, object]]:
        """Treat a stalled partial item as complete (call when the line has gone quiet)."""
        out: list[tuple[str, object]] = []
        if self._buf:
            line, self._buf = bytes(self._buf), bytearray()
            match = RECORD.fullmatch(line)
            item = self._record(match) if match else self._line(line)
            if item[0] != "skip":
                out.append(item)
        return out

    def _next(self) -> tuple[str, object] | None:
        buf = self._buf
        if buf[0] == 0x0D:  # CR: a record, the CR of a K reply, or a line end
            if len(buf) >= RECORD_LENGTH:
                match = RECORD.match(bytes(buf[:RECORD_LENGTH]))
                if match and len(buf) == RECORD_LENGTH:
                    return None  # a record ends with a line end (or the next CR): wait for it
                if match and buf[RECORD_LENGTH] in b"\r\n":  # else an overlong field: garbage
                    del buf[:RECORD_LENGTH]
                    self._eat_line_end()
                    return self._record(match)
            elif _could_be_record(bytes(buf)):
                return None  # wait for the rest
            if len(buf) >= 2 and buf[1] == 0x0A:
                del buf[:2]
                return ("skip", None)
            button = _button_reply_end(bytes(buf))
            if button == 0:
                return None  # CR + two digits: a K reply or a record, decided by the next byte
            if button > 0:  # a K reply with no line end, ended by the next item's CR
                line = bytes(buf[:button])
                del buf[:button]
                return self._line(line)
        newline = buf.find(b"\n")
        if newline < 0:
            if len(buf) > self.max_line:
                self.malformed_count += len(buf)
                buf.clear()
                return ("skip", None)
            return None
        line = bytes(buf[: newline + 1])
        del buf[: newline + 1]
        return self._line(line)

    def _record(self, match: re.Match[bytes]) -> tuple[str, object]:
        decoded = decode_record(match)
        if decoded is None:  # a value the probe cannot report
            self.malformed_count += RECORD_LENGTH
            return ("skip", None)
        return ("record", decoded)

    def _eat_line_end(self) -> None:
        if self._buf[:2] == b"\r\n":
            del self._buf[:2]
        elif self._buf[:1] == b"\n":
            del self._buf[:1]

    def _line(self, raw: bytes) -> tuple[str, object]:
        text = raw.strip(b"\r\n")
        if not text:
            return ("skip", None)
        if text.startswith(b"\r"):
            text = text[1:]
        if any((b < 0x20 and b != 0x09) or b > 0x7E for b in text) or RECORD_PREFIX.match(raw):
            self.malformed_count += len(raw)
            return ("skip", None)
        return ("line", text.decode("ascii"))


BUTTON_REPLY = re.compile(rb"^\r[01][01]")


def _button_reply_end(buf: bytes) -> int:
    """For a buffer starting with a K reply (CR + two 0/1 digits): 0 if it is still undecided,
    3 if the reply ends there without a line end (the next byte is a CR that starts no
    line end); -1 if the buffer does not start with a K reply ended that way.
    """
    if not BUTTON_REPLY.match(buf):
        return -1
    if len(buf) < 5:
        return 0 if len(buf) == 3 or buf[3:4] == b"\r" else -1
    if buf[3:4] == b"\r" and buf[4:5] != b"\n":
        return 3
    return -1


# A CR followed by something shaped like the start of a record but broken before 24 bytes.
RECORD_PREFIX = re.compile(rb"^\r\d{3}[+-]")


def _could_be_record(prefix: bytes) -> bool:
    """True if prefix (shorter than a record) can still grow into a temperature record."""
    template = "\r" + "ddd" + "sddd" * 5
    for byte, kind in zip(prefix, template, strict=False):
        char = chr(byte)
        if kind == "\r" and char != "\r":
            return False
        if kind == "d" and not char.isdigit():
            return False
        if kind == "s" and char not in "+-":
            return False
    return True
