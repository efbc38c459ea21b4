"""Reading many TSVs in one parse: rows keep their run, odd files fall back to one-by-one reading, errors name the file."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.frames import RUN, concat_numeric, concat_tsv, gunzip


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_rows_keep_their_run_and_headers_may_differ(tmp_path: Path) -> None:
    """Files with different headers are parsed in groups; every row says which file (position) it came from."""
    a = _write(tmp_path / "a.tsv", "x\ty\n1\tp\n2\tn/a\n")
    b = _write(tmp_path / "b.tsv", "x\n3\n")
    c = _write(tmp_path / "c.tsv", "x\ty\n4\tq")  # no final newline
    frame, headers = concat_tsv([a, None, b, c], ("y",))
    assert frame[RUN].tolist() == [0, 0, 2, 3] and frame["x"].tolist() == [1, 2, 3, 4]
    assert frame["y"].tolist()[0] == "p" and frame["y"].isna().tolist() == [False, True, True, False]
    assert headers == {0: ("x", "y"), 2: ("x",), 3: ("x", "y")}


def test_a_blank_line_falls_back_to_reading_file_by_file(tmp_path: Path) -> None:
    """A blank line breaks the line count; the rows still belong to the right files."""
    a = _write(tmp_path / "a.tsv", "x\n1\n\n2\n")
    b = _write(tmp_path / "b.tsv", "x\n3\n")
    frame, _ = concat_tsv([a, b], ())
    assert list(zip(frame[RUN], frame["x"], strict=True)) == [(0, 1), (0, 2), (1, 3)]


def test_a_broken_file_is_named(tmp_path: Path) -> None:
    """A file that cannot be parsed raises CpmlabError with its own path, not the first file's."""
    good = _write(tmp_path / "good.tsv", "x\ty\n1\t2\n")
    bad = _write(tmp_path / "bad.tsv", "x\ty\n1\t2\n3\t4\t5\t6\n")
    with pytest.raises(CpmlabError, match=r"bad\.tsv"):
        concat_tsv([good, bad], ())


def test_numeric_bodies_and_corrupt_gzip(tmp_path: Path) -> None:
    """Headerless numeric bodies give one row per line with n/a as NaN; a corrupt .gz names its file."""
    frame, counts = concat_numeric([tmp_path / "a", tmp_path / "b"], [b"1\nn/a\n", b"3"], ["rating"])
    assert counts.tolist() == [2, 1] and frame["rating"].isna().tolist() == [False, True, False]
    path = tmp_path / "r.tsv.gz"
    assert gunzip(path, gzip.compress(b"1\n")) == b"1\n"
    with pytest.raises(CpmlabError, match=r"r\.tsv\.gz"):
        gunzip(path, b"not gzip")
