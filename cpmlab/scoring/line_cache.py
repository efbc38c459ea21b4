"""The formatted TSV lines of cached runs, kept beside the score cache so unchanged runs are not re-formatted.

A run's key (cache.py) covers the cpmlab version, the options and the bytes of its files, so the
same key always gives the same row and the same formatted line. The lines are stored with the
header they were formatted under; a different header, format or an unreadable file drops them
all (they are formatted again). Formatting is per value, so a row formatted on its own gives the
line it has in the whole table.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

FORMAT = b"1"
LINES_FILE = "lines.parquet"


class FormattedLines:
    """Per cache key: the session-table line and the plateau lines (b'' for none) of a run."""

    def __init__(self, session_header: bytes = b"", plateau_header: bytes = b"") -> None:
        self.session_header = session_header
        self.plateau_header = plateau_header
        self.rows: dict[str, tuple[bytes, bytes]] = {}

    def matches(self, session_header: bytes, plateau_header: bytes) -> bool:
        """Return whether these lines were formatted under the given headers."""
        return self.session_header == session_header and self.plateau_header == plateau_header


def load_lines(directory: Path) -> FormattedLines | None:
    """Return the stored lines, or None when there are none or they cannot be read."""
    path = directory / LINES_FILE
    if not path.is_file():
        return None
    try:
        table = pq.read_table(path)
        meta = table.schema.metadata or {}
        if meta.get(b"format") != FORMAT:
            return None
        lines = FormattedLines(meta[b"session_header"], meta[b"plateau_header"])
        keys = table.column("key").to_pylist()
        cpm = table.column("cpm").to_pylist()
        plateaus = table.column("plateaus").to_pylist()
        lines.rows = dict(zip(keys, zip(cpm, plateaus, strict=True), strict=True))
        return lines
    except Exception as exc:  # a damaged file costs the formatting, never correctness
        log.warning("ignoring the formatted lines in %s (%s)", path, exc)
        return None


def save_lines(directory: Path, lines: FormattedLines, keys: Sequence[str]) -> None:
    """Replace the stored lines with those of keys (through a temporary file)."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = [lines.rows[k] for k in keys]
    table = pa.table(
        {
            "key": pa.array(list(keys), type=pa.string()),
            "cpm": pa.array([r[0] for r in rows], type=pa.binary()),
            "plateaus": pa.array([r[1] for r in rows], type=pa.binary()),
        }
    ).replace_schema_metadata(
        {b"format": FORMAT, b"session_header": lines.session_header, b"plateau_header": lines.plateau_header}
    )
    path = directory / LINES_FILE
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
