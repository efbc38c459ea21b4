"""Journal: append-only, never reopened, every line parseable, torn last line tolerated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cpmlab.core.errors import CpmlabError, SessionExistsError
from cpmlab.core.events import Event
from cpmlab.storage.journal import Journal, read_journal


def test_events_are_written_in_order_with_sequence_numbers(tmp_path: Path) -> None:
    """Each event becomes one JSON line with seq, kind, t and its data."""
    journal = Journal(tmp_path / "j.jsonl")
    journal.write(Event("step_start", 1.5, {"step_id": "a"}))
    journal.write(Event("reading", 1.6, {"zones_c": [32.0, 32.1]}))
    journal.close()
    records = list(read_journal(tmp_path / "j.jsonl"))
    assert [r["seq"] for r in records] == [1, 2]
    assert records[0] == {"seq": 1, "kind": "step_start", "t": 1.5, "step_id": "a"}


def test_existing_journal_is_never_reopened(tmp_path: Path) -> None:
    """Opening a journal that exists raises and leaves the file untouched."""
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.write(Event("note", 1.0, {"text": "keep me"}))
    journal.close()
    before = path.read_bytes()
    with pytest.raises(SessionExistsError):
        Journal(path)
    assert path.read_bytes() == before


def test_written_lines_are_on_disk_before_write_returns(tmp_path: Path) -> None:
    """Another reader sees an event as soon as write() returns (no user-space buffering)."""
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.write(Event("command", 2.0, {"command": "L"}))
    assert json.loads(path.read_text().splitlines()[0])["command"] == "L"
    journal.close()


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    """A crash mid-write leaves a partial last line; reading keeps everything before it."""
    path = tmp_path / "j.jsonl"
    path.write_text('{"seq":1,"kind":"note","t":1.0,"text":"a"}\n{"seq":2,"kind":"no')
    assert [r["seq"] for r in read_journal(path)] == [1]


def test_non_finite_numbers_and_closed_journal(tmp_path: Path) -> None:
    """NaN becomes null (valid JSON); writing after close is an error; closing twice is safe."""
    journal = Journal(tmp_path / "j.jsonl")
    journal.write(Event("reading", 1.0, {"bath_c": float("nan")}))
    journal.close()
    journal.close()
    assert next(read_journal(tmp_path / "j.jsonl"))["bath_c"] is None
    with pytest.raises(CpmlabError):
        journal.write(Event("note", 2.0, {}))
