"""Incremental re-scoring: cached per-run rows reused only while the run's files and the options are unchanged."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd
import pytest
from scoring_helpers import simple_session, write_specs

from cpmlab.scoring import cache as cache_module
from cpmlab.scoring.cache import cache_dir
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.pipeline import ScoredDataset, score_dataset
from cpmlab.scoring.synthetic import write_run


@pytest.fixture
def dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Four runs of three participants, one with a continuous rating; files count as settled at once."""
    monkeypatch.setattr(cache_module, "RACY_S", -1e9)  # trust size + mtime at once (the tests change sizes)
    specs = [
        simple_session("01", "1", "active", [50, 60], [40, 30], recordings=["covas"]),
        simple_session("01", "2", "sham", [50, 60], [45, 55]),
        simple_session("02", "1", "active", [70, 60], [50, 50], hpt_trials_c=[42.0, 43.0]),
        simple_session("03", "1", "sham", [30, 32], [31, 30], pdt_s=7.0, ptt_s=200.0),
    ]
    return write_specs(tmp_path / "ds", specs)


def _cached(root: Path, options: ScoringOptions | None = None) -> ScoredDataset:
    return score_dataset(root, options, cache_dir=cache_dir(root))


def _same_as_fresh(scored: ScoredDataset, root: Path, options: ScoringOptions | None = None) -> None:
    fresh = score_dataset(root, options)
    pd.testing.assert_frame_equal(scored.sessions, fresh.sessions, check_exact=True)
    pd.testing.assert_frame_equal(scored.groups, fresh.groups, check_exact=True)
    assert set(scored.plateaus) == set(fresh.plateaus)
    for i in fresh.plateaus:
        pd.testing.assert_frame_equal(scored.plateaus[i], fresh.plateaus[i], check_dtype=False)


def test_adding_one_session_rescores_only_that_run(dataset: Path) -> None:
    """A second scoring reads no run; after one new session only it is scored, and the tables equal a fresh score."""
    assert _cached(dataset).rescored == 4
    again = _cached(dataset)
    assert again.rescored == 0
    _same_as_fresh(again, dataset)
    write_run(dataset, simple_session("02", "2", "sham", [60, 65], [62, 61], recordings=["covas"]))
    added = _cached(dataset)
    assert added.rescored == 1 and len(added.sessions) == 5
    _same_as_fresh(added, dataset)


def test_a_changed_file_invalidates_its_run(dataset: Path) -> None:
    """Editing one rating re-scores that run only, and the new value is the one in the table."""
    _cached(dataset)
    beh = next(dataset.glob("sub-02/ses-1/beh/*_beh.tsv"))
    beh.write_text(beh.read_text().replace("\t70.0\t", "\t90.0\t", 1))
    changed = _cached(dataset)
    assert changed.rescored == 1
    assert changed.sessions.set_index("participant_id").loc["sub-02", "ts_before_mean"] == 75.0
    _same_as_fresh(changed, dataset)


def test_a_file_rewritten_with_the_same_size_and_time_inside_the_racy_window_is_read_again(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Within RACY_S of the cache being written, size and time are not trusted: the content is hashed."""
    monkeypatch.setattr(cache_module, "RACY_S", 3600.0)
    _cached(dataset)
    beh = next(dataset.glob("sub-01/ses-2/beh/*_beh.tsv"))
    stat = beh.stat()
    beh.write_text(beh.read_text().replace("\t50.0\t", "\t52.0\t", 1))  # same size
    os.utime(beh, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same modification time
    changed = _cached(dataset)
    assert changed.rescored == 1
    _same_as_fresh(changed, dataset)


def test_a_changed_option_invalidates_every_run(dataset: Path) -> None:
    """A different sign convention or NRS handling re-scores every run, and the effects follow it."""
    _cached(dataset)
    positive = ScoringOptions(sign="inhibition-positive")
    flipped = _cached(dataset, positive)
    assert flipped.rescored == 4
    _same_as_fresh(flipped, dataset, positive)
    assert _cached(dataset, ScoringOptions(normalise_nrs=True)).rescored == 4


@pytest.mark.parametrize("broken", ["runs.parquet", "plateaus.parquet", "files.npz"])
def test_a_corrupt_cache_is_ignored_with_a_warning(
    dataset: Path, broken: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Garbage in any cache file never gives wrong scores: the runs are scored from their files."""
    _cached(dataset)
    (cache_dir(dataset) / broken).write_bytes(b"not a cache")
    with caplog.at_level(logging.WARNING):
        scored = _cached(dataset)
    if broken != "files.npz":  # the file hashes are only a shortcut: without them every file is hashed again
        assert scored.rescored == 4 and "ignoring the scoring cache" in caplog.text
    _same_as_fresh(scored, dataset)
    assert _cached(dataset).rescored == 0  # the cache was rewritten whole


def test_rows_without_their_plateaus_are_not_reused(dataset: Path) -> None:
    """A cache whose plateau rows do not match its run rows (a torn write) re-scores those runs."""
    _cached(dataset)
    plateaus_path = cache_dir(dataset) / "plateaus.parquet"
    pd.read_parquet(plateaus_path).iloc[:0].to_parquet(plateaus_path, index=False)
    scored = _cached(dataset)
    assert scored.rescored == 1  # the run with a continuous rating
    _same_as_fresh(scored, dataset)
    assert _cached(dataset).rescored == 0  # its fresh rows were saved (in the delta, or the base rewritten)


def test_a_torn_base_row_rescored_is_saved_in_the_delta(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A base row whose plateaus are missing is scored again once; its fresh rows go to the delta and are used."""
    monkeypatch.setattr(cache_module, "DELTA_SHARE", 1.0)
    _cached(dataset)
    plateaus_path = cache_dir(dataset) / "plateaus.parquet"
    pd.read_parquet(plateaus_path).iloc[:0].to_parquet(plateaus_path, index=False)
    assert _cached(dataset).rescored == 1
    assert len(pd.read_parquet(cache_dir(dataset) / "runs-delta.parquet")) == 1
    again = _cached(dataset)
    assert again.rescored == 0
    _same_as_fresh(again, dataset)


def _stamps(directory: Path, names: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    return {name: (os.stat(directory / name).st_ino, os.stat(directory / name).st_mtime_ns) for name in names}


def test_a_few_added_runs_are_saved_beside_an_untouched_base(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With few new runs only the delta is written; base + delta give the same scores as a fresh score."""
    monkeypatch.setattr(cache_module, "DELTA_SHARE", 1.0)
    directory = cache_dir(dataset)
    _cached(dataset)
    base = _stamps(directory, ("runs.parquet", "plateaus.parquet"))
    assert not (directory / "runs-delta.parquet").exists()
    write_run(dataset, simple_session("02", "2", "sham", [60, 65], [62, 61], recordings=["covas"]))
    assert _cached(dataset).rescored == 1
    assert _stamps(directory, ("runs.parquet", "plateaus.parquet")) == base  # the base was not rewritten
    delta = pd.read_parquet(directory / "runs-delta.parquet")
    assert len(delta) == 1 and len(pd.read_parquet(directory / "plateaus-delta.parquet")) > 0
    again = _cached(dataset)
    assert again.rescored == 0
    _same_as_fresh(again, dataset)
    write_run(dataset, simple_session("04", "1", "active", [40, 45], [30, 35]))
    assert _cached(dataset).rescored == 1
    assert len(pd.read_parquet(directory / "runs-delta.parquet")) == 2  # every row not in the base
    assert _stamps(directory, ("runs.parquet", "plateaus.parquet")) == base
    _same_as_fresh(_cached(dataset), dataset)


def test_many_added_runs_rewrite_the_base_and_remove_the_delta(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past DELTA_SHARE of the base the base is rewritten whole and the delta removed."""
    monkeypatch.setattr(cache_module, "DELTA_SHARE", 1.0)
    directory = cache_dir(dataset)
    _cached(dataset)
    write_run(dataset, simple_session("02", "2", "sham", [60, 65], [62, 61]))
    _cached(dataset)
    assert (directory / "runs-delta.parquet").exists()
    monkeypatch.setattr(cache_module, "DELTA_SHARE", 0.1)  # 1 new run of 5 is more than a tenth
    write_run(dataset, simple_session("04", "1", "active", [40, 45], [30, 35]))
    assert _cached(dataset).rescored == 1
    assert not (directory / "runs-delta.parquet").exists() and not (directory / "plateaus-delta.parquet").exists()
    assert len(pd.read_parquet(directory / "runs.parquet")) == 6
    again = _cached(dataset)
    assert again.rescored == 0
    _same_as_fresh(again, dataset)


def test_a_delta_left_beside_a_rewritten_base_counts_once(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash after the base was rewritten but before the delta was removed leaves runs in both: no error, no rescoring."""
    monkeypatch.setattr(cache_module, "DELTA_SHARE", 1.0)
    directory = cache_dir(dataset)
    _cached(dataset)
    write_run(dataset, simple_session("02", "2", "sham", [60, 65], [62, 61], recordings=["covas"]))
    _cached(dataset)
    kept = {name: (directory / name).read_bytes() for name in ("runs-delta.parquet", "plateaus-delta.parquet")}
    monkeypatch.setattr(cache_module, "DELTA_SHARE", -1.0)  # every save rewrites the base
    _cached(dataset)
    for name, data in kept.items():
        (directory / name).write_bytes(data)
    monkeypatch.setattr(cache_module, "DELTA_SHARE", 1.0)
    again = _cached(dataset)
    assert again.rescored == 0
    _same_as_fresh(again, dataset)


@pytest.mark.parametrize("broken", ["runs-delta.parquet", "plateaus-delta.parquet"])
def test_a_corrupt_delta_is_ignored_with_a_warning(
    dataset: Path, broken: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Garbage in a delta table never gives wrong scores: every run is scored again and the cache rewritten whole."""
    monkeypatch.setattr(cache_module, "DELTA_SHARE", 1.0)
    _cached(dataset)
    write_run(dataset, simple_session("02", "2", "sham", [60, 65], [62, 61], recordings=["covas"]))
    _cached(dataset)
    (cache_dir(dataset) / broken).write_bytes(b"not a cache")
    with caplog.at_level(logging.WARNING):
        scored = _cached(dataset)
    assert scored.rescored == 5 and "ignoring the scoring cache" in caplog.text
    _same_as_fresh(scored, dataset)
    assert not (cache_dir(dataset) / broken).exists()  # the base was rewritten with every row
    assert _cached(dataset).rescored == 0
