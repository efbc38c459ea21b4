"""A table's formatted lines kept by block (e.g. one participant's rows), so a re-score formats only changed blocks.

A block is a run of consecutive rows with the same id; its key must change whenever anything its
rows are computed from changes (for a participant: the cache keys of their runs, which cover the
files, the options and the cpmlab version). The rows to format are cut from the whole table, so
every value is formatted with the column types of the whole table: a block's lines are the lines
the whole table has. The lines are stored with the header they were formatted under; a different
header, a format change or an unreadable file drops them all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cpmlab.scoring.run_tables import ToTsv, split_lines

log = logging.getLogger(__name__)

FORMAT = b"1"


def _bounds(ids: Sequence[Hashable]) -> list[tuple[Hashable, int, int]] | None:
    """Return (id, first row, end row) of each block, or None when an id's rows are not consecutive."""
    blocks: list[tuple[Hashable, int, int]] = []
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[start]:
            blocks.append((ids[start], start, i))
            start = i
    return blocks if len({b[0] for b in blocks}) == len(blocks) else None


def _load(path: Path, header: bytes) -> dict[str, tuple[int, bytes]]:
    if not path.is_file():
        return {}
    try:
        table = pq.read_table(path)
        meta = table.schema.metadata or {}
        if meta.get(b"format") != FORMAT or meta.get(b"header") != header:
            return {}
        keys, rows, lines = (table.column(c).to_pylist() for c in ("key", "rows", "lines"))
        return dict(zip(keys, zip(rows, lines, strict=True), strict=True))
    except Exception as exc:  # a damaged file costs the formatting, never correctness
        log.warning("ignoring the formatted lines in %s (%s)", path, exc)
        return {}


def _save(path: Path, header: bytes, blocks: list[tuple[str, int, bytes]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "key": pa.array([b[0] for b in blocks], type=pa.string()),
            "rows": pa.array([b[1] for b in blocks], type=pa.int64()),
            "lines": pa.array([b[2] for b in blocks], type=pa.binary()),
        }
    ).replace_schema_metadata({b"format": FORMAT, b"header": header})
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def format_blocks(
    frame: pd.DataFrame, id_column: str, keys: Mapping[Hashable, str] | None, to_tsv: ToTsv, path: Path | None
) -> bytes:
    """Return to_tsv(frame), formatting only the blocks (rows with one id_column value) not stored under their key.

    keys: each block id's key (a block without one is always formatted); path: where the lines are kept.
    """
    if keys is None or path is None or frame.empty or id_column not in frame:
        return to_tsv(frame)
    head = to_tsv(frame.iloc[:0])
    blocks = _bounds(frame[id_column].tolist())
    if not head.endswith(b"\n") or head.count(b"\n") != 1 or blocks is None:
        return to_tsv(frame)
    header = head[:-1]
    stored = _load(path, header)
    found: list[bytes | None] = []
    for block_id, start, end in blocks:
        known = stored.get(keys.get(block_id, ""))
        found.append(known[1] if known is not None and known[0] == end - start else None)
    missing = [i for i, lines in enumerate(found) if lines is None]
    if missing:
        rows = np.concatenate([np.arange(blocks[i][1], blocks[i][2]) for i in missing])
        split = split_lines(frame.iloc[rows], to_tsv)
        if split is None or split[0] != header:
            return to_tsv(frame)
        at = 0
        for i in missing:
            size = blocks[i][2] - blocks[i][1]
            found[i] = b"".join(line + b"\n" for line in split[1][at : at + size])
            at += size
    body = b"".join(lines or b"" for lines in found)
    keep = [(keys[b[0]], b[2] - b[1], lines or b"") for b, lines in zip(blocks, found, strict=True) if b[0] in keys]
    if missing or len(stored) != len(keep):
        _save(path, header, keep)
    return header + b"\n" + body
