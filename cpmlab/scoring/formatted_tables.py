"""The session table and per-run TSVs as bytes, formatting only the runs whose lines are not stored yet."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cpmlab.scoring.frames import RUN
from cpmlab.scoring.line_cache import FormattedLines, load_lines, save_lines
from cpmlab.scoring.run_tables import ToTsv, group_tsvs, row_tsvs, split_lines


@dataclass
class RunTables:
    """The whole session table's TSV, each run's one-row TSV and each run's plateau TSV (runs with plateaus)."""

    sessions_tsv: bytes
    rows: list[bytes]
    plateaus: dict[int, bytes]
    pending_save: Callable[[], None] | None = None  # saves the newly formatted lines (format_with_store, save=False)

    def save_lines(self) -> None:
        """Save the lines formatted for these tables, if that was left to the caller (once)."""
        save, self.pending_save = self.pending_save, None
        if save is not None:
            save()


def format_all(sessions: pd.DataFrame, plateaus: Mapping[int, pd.DataFrame], to_tsv: ToTsv) -> RunTables:
    """Format the session table once and cut it per run; format the plateau table once and cut it per run."""
    sessions_tsv = to_tsv(sessions)
    rows = row_tsvs(sessions, lambda df: sessions_tsv if df is sessions else to_tsv(df))
    return RunTables(sessions_tsv, rows, group_tsvs(plateaus, to_tsv))


def _header(frame: pd.DataFrame, to_tsv: ToTsv) -> bytes | None:
    text = to_tsv(frame.iloc[:0])
    return text[:-1] if text.endswith(b"\n") and text.count(b"\n") == 1 else None


def format_with_store(
    sessions: pd.DataFrame,
    plateaus: Mapping[int, pd.DataFrame],
    to_tsv: ToTsv,
    keys: Sequence[str] | None,
    directory: Path | None,
    save: bool = True,
) -> RunTables:
    """Return the same bytes as format_all, taking stored lines of runs whose key is unchanged.

    keys: each run's cache key (by position), or None to format everything.
    directory: where the lines are stored (the cache folder).
    save: save the newly formatted lines here; False leaves it to the result's save_lines().
    """
    table = getattr(plateaus, "table", None)
    if keys is None or directory is None or len(keys) != len(sessions) or not isinstance(table, pd.DataFrame):
        return format_all(sessions, plateaus, to_tsv)
    plateau_frame = table.drop(columns=RUN)
    s_header, p_header = _header(sessions, to_tsv), _header(plateau_frame, to_tsv)
    if s_header is None or p_header is None or len(set(keys)) != len(keys):
        return format_all(sessions, plateaus, to_tsv)
    stored = load_lines(directory)
    if stored is None or not stored.matches(s_header, p_header):
        stored = FormattedLines(s_header, p_header)
    missing = [i for i, k in enumerate(keys) if k not in stored.rows]
    if missing and not _format_missing(sessions, table, to_tsv, keys, missing, stored):
        return format_all(sessions, plateaus, to_tsv)
    lines = [stored.rows[k] for k in keys]
    body = b"".join(cpm + b"\n" for cpm, _ in lines)
    result = RunTables(
        s_header + b"\n" + body,
        [s_header + b"\n" + cpm + b"\n" for cpm, _ in lines],
        {i: p_header + b"\n" + block for i, (_, block) in enumerate(lines) if block},
    )
    if missing or len(stored.rows) != len(keys):
        result.pending_save = lambda: save_lines(directory, stored, keys)
        if save:
            result.save_lines()
    return result


def _format_missing(
    sessions: pd.DataFrame,
    table: pd.DataFrame,
    to_tsv: ToTsv,
    keys: Sequence[str],
    missing: list[int],
    stored: FormattedLines,
) -> bool:
    """Format the missing runs' rows into stored; return False when a value spans lines (format all instead)."""
    split = split_lines(sessions.iloc[missing], to_tsv)
    picked = table[table[RUN].isin(missing)]
    p_split = split_lines(picked.drop(columns=RUN), to_tsv)
    if split is None or p_split is None or split[0] != stored.session_header or p_split[0] != stored.plateau_header:
        return False
    blocks: dict[int, list[bytes]] = {i: [] for i in missing}
    for run, line in zip(picked[RUN].tolist(), p_split[1], strict=True):
        blocks[run].append(line + b"\n")
    for i, line in zip(missing, split[1], strict=True):
        stored.rows[keys[i]] = (line, b"".join(blocks[i]))
    return True
