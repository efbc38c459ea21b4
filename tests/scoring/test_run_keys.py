"""Run keys: a run whose files are all as recorded keeps its recorded key; anything else is hashed afresh."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scoring_helpers import simple_session, write_specs

from cpmlab import __version__
from cpmlab.scoring import run_keys as run_keys_module
from cpmlab.scoring.file_states import save_states
from cpmlab.scoring.run_files import find_run_files, sorted_by_run
from cpmlab.scoring.run_keys import FORMAT, KeyRecord, RunKeys, old_files, run_keys

OPTIONS = {"sign": "inhibition-negative", "normalise_nrs": False, "retest_sessions": None}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Three runs, one with a continuous rating (so the others miss two of the five files)."""
    specs = [
        simple_session("01", "1", "active", [50, 60], [40, 30], recordings=["covas"]),
        simple_session("01", "2", "sham", [50, 60], [45, 55]),
        simple_session("02", "1", "active", [70, 60], [50, 50]),
    ]
    return write_specs(tmp_path / "ds", specs)


def _keys(root: Path, old: KeyRecord, options: dict[str, Any] = OPTIONS) -> RunKeys:
    beh = sorted_by_run(find_run_files(os.fspath(root)))
    return run_keys(os.fspath(root), beh, options, __version__, old, -1e9)  # racy window: none


def _record(tmp_path: Path, keys: RunKeys) -> KeyRecord:
    save_states(tmp_path / "files.npz", keys.tables(), FORMAT)
    return old_files(tmp_path)


def _counting_sha256(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]

    def sha256(data: bytes = b"") -> Any:
        calls[0] += 1
        return hashlib.sha256(data)

    monkeypatch.setattr(run_keys_module, "hashlib", SimpleNamespace(sha256=sha256))
    return calls


def test_unchanged_runs_keep_their_recorded_keys(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every file as recorded no run is hashed again, and the keys are those a fresh computation gives."""
    fresh = _keys(dataset, old_files(tmp_path / "none"))
    record = _record(tmp_path, fresh)
    assert record.base and len(record.runs.rels) == 3
    calls = _counting_sha256(monkeypatch)
    again = _keys(dataset, record)
    assert again.keys == fresh.keys
    assert calls[0] == 1  # only the hash of what every key starts from


def test_a_changed_file_or_option_gives_the_fresh_key(dataset: Path, tmp_path: Path) -> None:
    """An edited file re-keys its run only; other options re-key every run; both equal a computation from nothing."""
    record = _record(tmp_path, _keys(dataset, old_files(tmp_path / "none")))
    before = _keys(dataset, record).keys
    edited = sorted(dataset.rglob("*_events.tsv"))[1]
    edited.write_bytes(edited.read_bytes() + b"\n")
    after = _keys(dataset, record)
    assert after.keys == _keys(dataset, old_files(tmp_path / "none")).keys
    assert [a != b for a, b in zip(after.keys, before, strict=True)] == [False, True, False]
    other = {**OPTIONS, "sign": "inhibition-positive"}
    assert _keys(dataset, record, other).keys == _keys(dataset, old_files(tmp_path / "none"), other).keys
    assert set(_keys(dataset, record, other).keys).isdisjoint(after.keys)


def test_an_added_recording_re_keys_its_run(dataset: Path, tmp_path: Path) -> None:
    """A file that was missing and now exists changes the run's key (a missing file counts as unchanged only while missing)."""
    record = _record(tmp_path, _keys(dataset, old_files(tmp_path / "none")))
    before = _keys(dataset, record).keys
    recorded = next(dataset.rglob("*_recording-covas_physio.json"))
    target = next(dataset.rglob("sub-02_ses-1_*_beh.tsv"))
    target.with_name(target.name.replace("_beh.tsv", "_recording-covas_physio.json")).write_bytes(recorded.read_bytes())
    after = _keys(dataset, record).keys
    assert after[:2] == before[:2] and after[2] != before[2]
    assert after == _keys(dataset, old_files(tmp_path / "none")).keys


def test_a_record_without_keys_is_used_for_the_file_hashes(dataset: Path, tmp_path: Path) -> None:
    """A record from before the keys were kept (files table only) still spares the hashing of files."""
    fresh = _keys(dataset, old_files(tmp_path / "none"))
    save_states(tmp_path / "files.npz", {"files": fresh.files}, FORMAT)
    record = old_files(tmp_path)
    assert record.base == "" and record.runs.rels == [] and len(record.files.rels) == len(fresh.files.rels)
    assert _keys(dataset, record).keys == fresh.keys
