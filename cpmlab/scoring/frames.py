"""Read one kind of file for many runs at once: the TSVs are concatenated and parsed in one call.

Files that share a header are joined into one buffer and parsed once by pandas' C parser (the
same parser and options as the per-run reader, so every value reads the same); a `run` column
says which run each row came from. Row counts are checked against the files' line counts, and
a group whose count disagrees (blank lines, quoted newlines) is read file by file instead.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cpmlab.core.errors import CpmlabError

RUN = "run_index"  # column naming the run (position in the list of runs read together)


def _lines(body: bytes) -> int:
    return body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0)


def _terminated(body: bytes) -> bytes:
    return body if not body or body.endswith(b"\n") else body + b"\n"


def _parse(buffer: bytes, path_hint: Path, **kwargs: object) -> pd.DataFrame:
    try:
        return pd.read_csv(io.BytesIO(buffer), sep="\t", **kwargs)  # type: ignore[arg-type]
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        raise CpmlabError(f"cannot read {path_hint}: {exc}") from None


def read_bytes(path: Path) -> bytes:
    """Return a file's bytes, raising CpmlabError with the path on any problem."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CpmlabError(f"cannot read {path}: {exc}") from None


def concat_tsv(
    paths: Sequence[Path | None], text_columns: tuple[str, ...], datas: Sequence[bytes | None] | None = None
) -> tuple[pd.DataFrame, dict[int, tuple[str, ...]]]:
    """Read many BIDS TSVs (n/a = missing) into one frame with a run column; also return each header.

    A None path is a run without that file: it has no rows and no header.
    """
    groups: dict[bytes, list[tuple[int, bytes]]] = {}
    headers: dict[int, tuple[str, ...]] = {}
    for i, path in enumerate(paths):
        if path is None:
            continue
        data = datas[i] if datas is not None and datas[i] is not None else read_bytes(path)
        header, _, body = data.partition(b"\n")
        header = header.rstrip(b"\r")
        if not header.strip():
            continue  # an empty file: no columns, no rows
        groups.setdefault(header, []).append((i, body))
        headers[i] = tuple(header.decode("utf-8", errors="replace").split("\t"))
    frames = []
    options = {"na_values": ["n/a"], "keep_default_na": False, "dtype": dict.fromkeys(text_columns, object)}
    for header, members in groups.items():
        counts = np.array([_lines(body) for _, body in members], dtype=np.int64)
        hint = paths[members[0][0]]
        buffer = header + b"\n" + b"".join(_terminated(body) for _, body in members)
        try:
            frame = _parse(buffer, hint, **options)  # type: ignore[arg-type]
        except CpmlabError:
            frame = None  # read the files one by one below: the error then names the file at fault
        if frame is not None and len(frame) == counts.sum():
            frame[RUN] = np.repeat(np.array([i for i, _ in members], dtype=np.int64), counts)
            frames.append(frame)
            continue
        for i, body in members:  # the line count did not match: read these files one by one
            one = _parse(header + b"\n" + body, paths[i], **options)  # type: ignore[arg-type]
            one[RUN] = i
            frames.append(one)
    if not frames:
        return pd.DataFrame({RUN: pd.Series(dtype=np.int64)}), headers
    frame = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    order = np.argsort(frame[RUN].to_numpy(), kind="stable")  # runs in list order, rows in file order
    return frame.iloc[order].reset_index(drop=True), headers


def as_text(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Make columns plain object text with None for missing or empty cells (added when absent)."""
    for c in columns:
        if c not in df.columns:
            df[c] = pd.Series([None] * len(df), index=df.index, dtype=object)
            continue
        values = df[c].to_numpy(dtype=object, copy=True)
        values[pd.isna(values) | (values == "")] = None
        df[c] = pd.Series(values, index=df.index, dtype=object)
    return df


def gunzip(path: Path, data: bytes) -> bytes:
    """Return the decompressed content of a .gz file, raising CpmlabError with the path if corrupt."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise CpmlabError(f"cannot read {path}: {exc}") from None


def concat_numeric(
    paths: Sequence[Path], bodies: Sequence[bytes], columns: Sequence[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """Parse headerless numeric TSV bodies with the given column names; return the frame and rows per body."""
    counts = np.array([_lines(b) for b in bodies], dtype=np.int64)
    options = {"header": None, "names": list(columns), "na_values": ["n/a"], "dtype": float}
    if not bodies:
        return pd.DataFrame(columns=list(columns), dtype=float), counts
    frame = _parse(b"".join(_terminated(b) for b in bodies), paths[0], **options)  # type: ignore[arg-type]
    if len(frame) == counts.sum():
        return frame, counts
    parts = [_parse(b, p, **options) for p, b in zip(paths, bodies, strict=True)]  # type: ignore[arg-type]
    return pd.concat(parts, ignore_index=True), np.array([len(p) for p in parts], dtype=np.int64)
