"""A small XDF 1.0 file writer (the format LabRecorder writes and pyxdf reads).

File: ``XDF:`` then chunks ``[NumLengthBytes][Length][Tag uint16][Content]``; Length counts
the tag and the content. Tags: 1 FileHeader, 2 StreamHeader, 3 Samples, 4 ClockOffset,
5 Boundary, 6 StreamFooter. Chunks 2, 3, 4, 6 start with the StreamId (uint32). All numbers
are little-endian. A ClockOffset holds the collection time *in the stream's clock*
(``local time - offset``, as LabRecorder writes it) and the offset to add to the stream's
time stamps to map them onto the recorder's clock (``inlet.time_correction()``).
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

import numpy as np

from cpmlab.core.filemode import create_new

FILE_HEADER, STREAM_HEADER, SAMPLES, CLOCK_OFFSET, BOUNDARY, STREAM_FOOTER = 1, 2, 3, 4, 5, 6
BOUNDARY_UUID = bytes([0x43, 0xA5, 0x46, 0xDC, 0xCB, 0xF5, 0x41, 0x0F, 0xB3, 0x0E, 0xD5, 0x46, 0x73, 0x83, 0xCB, 0xE4])
NUMERIC_FORMATS = {"float32": "<f4", "double64": "<f8", "int8": "<i1", "int16": "<i2", "int32": "<i4", "int64": "<i8"}
FORMATS = (*NUMERIC_FORMATS, "string")


def varlen_int(n: int) -> bytes:
    """Encode a non-negative integer as an XDF variable-length integer."""
    if n < 0:
        raise ValueError("XDF lengths are non-negative")
    if n <= 0xFF:
        return b"\x01" + struct.pack("<B", n)
    if n <= 0xFFFFFFFF:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def chunk(tag: int, content: bytes, stream_id: int | None = None) -> bytes:
    """Return one complete chunk: length, tag, optional stream id, content."""
    head = struct.pack("<H", tag) + (b"" if stream_id is None else struct.pack("<I", stream_id))
    return varlen_int(len(head) + len(content)) + head + content


def encode_samples(
    channel_format: str, n_channels: int, timestamps: Sequence[float] | np.ndarray, values: Any
) -> bytes:
    """Encode samples (every one with its 8-byte time stamp) as a Samples chunk body (after the id)."""
    stamps = np.asarray(timestamps, dtype="<f8")
    n = len(stamps)
    if channel_format == "string":
        parts = [varlen_int(n)]
        for t, sample in zip(stamps, values, strict=True):
            if len(sample) != n_channels:
                raise ValueError(f"sample has {len(sample)} values, the stream {n_channels} channels")
            parts.append(b"\x08" + struct.pack("<d", t))
            for value in sample:
                raw = str(value).encode("utf-8")
                parts.append(varlen_int(len(raw)) + raw)
        return b"".join(parts)
    if channel_format not in NUMERIC_FORMATS:
        raise ValueError(f"unknown channel format {channel_format!r}")
    data = np.asarray(values, dtype=NUMERIC_FORMATS[channel_format]).reshape(n, n_channels)
    record = np.dtype([("n", "u1"), ("t", "<f8"), ("v", NUMERIC_FORMATS[channel_format], (n_channels,))])
    out = np.empty(n, dtype=record)
    out["n"] = 8
    out["t"] = stamps
    out["v"] = data
    return varlen_int(n) + out.tobytes()


def footer_xml(first_t: float, last_t: float, count: int, offsets: Sequence[tuple[float, float]]) -> str:
    """Return a StreamFooter XML: first/last time stamp, sample count, clock offsets."""
    rows = "".join(f"<offset><time>{t!r}</time><value>{v!r}</value></offset>" for t, v in offsets)
    return (
        f'<?xml version="1.0"?><info><first_timestamp>{first_t!r}</first_timestamp>'
        f"<last_timestamp>{last_t!r}</last_timestamp><sample_count>{count}</sample_count>"
        f"<clock_offsets>{rows}</clock_offsets></info>"
    )


def header_xml(
    name: str, type_: str, n_channels: int, nominal_rate_hz: float, channel_format: str, **extra: str
) -> str:
    """Return a minimal StreamHeader XML (recorders normally store the inlet's full info instead)."""
    fields = {
        "name": name,
        "type": type_,
        "channel_count": str(n_channels),
        "nominal_srate": repr(float(nominal_rate_hz)),
        "channel_format": channel_format,
        **extra,
    }
    body = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    return f'<?xml version="1.0"?><info>{body}</info>'


class XdfWriter:
    """Write an XDF 1.0 file chunk by chunk; thread-safe (one lock around every chunk)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: BinaryIO = os.fdopen(create_new(self.path), "wb")  # never overwrites; group-readable
        self._lock = threading.Lock()
        self._streams: dict[int, tuple[str, int]] = {}
        self._write(b"XDF:" + chunk(FILE_HEADER, b'<?xml version="1.0"?><info><version>1.0</version></info>'))

    def _write(self, data: bytes) -> None:
        with self._lock:
            self._fh.write(data)

    def add_stream(self, stream_id: int, xml: str, channel_format: str, n_channels: int) -> None:
        """Write a StreamHeader chunk (xml: the stream's info, e.g. inlet.info().as_xml())."""
        if stream_id in self._streams:
            raise ValueError(f"stream id {stream_id} already used")
        if channel_format not in FORMATS:
            raise ValueError(f"unknown channel format {channel_format!r}")
        self._streams[stream_id] = (channel_format, n_channels)
        self._write(chunk(STREAM_HEADER, xml.encode("utf-8"), stream_id))

    def write_samples(self, stream_id: int, timestamps: Sequence[float] | np.ndarray, values: Any) -> None:
        """Write a Samples chunk (no-op for zero samples)."""
        if len(timestamps) == 0:
            return
        channel_format, n_channels = self._streams[stream_id]
        self._write(chunk(SAMPLES, encode_samples(channel_format, n_channels, timestamps, values), stream_id))

    def write_clock_offset(self, stream_id: int, collection_time_s: float, offset_s: float) -> None:
        """Write a ClockOffset chunk: collection time in the stream's clock, and the offset value."""
        self._write(chunk(CLOCK_OFFSET, struct.pack("<dd", collection_time_s, offset_s), stream_id))

    def write_boundary(self) -> None:
        """Write a Boundary chunk (lets readers resync in a damaged file)."""
        self._write(chunk(BOUNDARY, BOUNDARY_UUID))

    def write_footer(self, stream_id: int, xml: str) -> None:
        """Write a StreamFooter chunk."""
        self._write(chunk(STREAM_FOOTER, xml.encode("utf-8"), stream_id))

    def flush(self) -> None:
        """Flush buffered chunks to the file."""
        with self._lock:
            self._fh.flush()

    def close(self) -> None:
        """Flush and close the file."""
        with self._lock:
            if not self._fh.closed:
                self._fh.flush()
                self._fh.close()
