"""Per-run TSV files cut from one formatted table: the whole table is formatted once, then split by rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from cpmlab.scoring.frames import RUN

ToTsv = Callable[[pd.DataFrame], bytes]


def split_lines(frame: pd.DataFrame, to_tsv: ToTsv) -> tuple[bytes, list[bytes]] | None:
    """Return the header and one line per row, or None when a value spans lines (then format row by row)."""
    lines = to_tsv(frame).split(b"\n")
    if len(lines) != len(frame) + 2 or lines[-1] != b"":
        return None
    return lines[0], lines[1:-1]


def row_tsvs(frame: pd.DataFrame, to_tsv: ToTsv) -> list[bytes]:
    """Return, for every row, the TSV of that row alone (header + row), as to_tsv(frame.iloc[[i]]) gives."""
    split = split_lines(frame, to_tsv)
    if split is None:
        return [to_tsv(frame.iloc[[i]]) for i in range(len(frame))]
    header, lines = split
    return [header + b"\n" + line + b"\n" for line in lines]


def group_tsvs(plateaus: Mapping[int, pd.DataFrame], to_tsv: ToTsv) -> dict[int, bytes]:
    """Return each run's plateau TSV; a mapping backed by one table (PlateauView) is formatted once."""
    table = getattr(plateaus, "table", None)
    if not isinstance(table, pd.DataFrame) or RUN not in table:
        return {i: to_tsv(p) for i, p in plateaus.items()}
    split = split_lines(table.drop(columns=RUN), to_tsv)
    if split is None:
        return {i: to_tsv(p) for i, p in plateaus.items()}
    header, lines = split
    runs = table[RUN].tolist()
    out: dict[int, list[bytes]] = {}
    for run, line in zip(runs, lines, strict=True):
        out.setdefault(run, [header]).append(line)
    return {run: b"\n".join(parts) + b"\n" for run, parts in out.items()}
