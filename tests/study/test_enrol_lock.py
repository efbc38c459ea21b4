"""Enrolment is atomic across processes: concurrent enrolments get distinct indices and lose no row;
a killed holder's lock is recovered with a message; a stuck holder is named, and nothing is written."""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
import time
from pathlib import Path

import pytest
from study_helpers import STUDY

from cpmlab.core.errors import CpmlabError
from cpmlab.core.file_lock import exclusive_lock, lock_path_for
from cpmlab.study.counterbalance import order_for, order_label
from cpmlab.study.loader import parse_study
from cpmlab.study.participants import enrol, read_table

ROOT = Path(__file__).resolve().parents[2]
SPAWN = mp.get_context("spawn")  # as on Windows: every child a fresh interpreter
PROCESSES = 4
EACH = 8


def load_study():  # type: ignore[no-untyped-def]
    return parse_study(STUDY, str(ROOT / "studies" / "x.yaml")).study


def enrol_many(root: str, worker: int, start, results) -> None:  # type: ignore[no-untyped-def]
    """Child: wait for the start signal, then enrol EACH participants as fast as possible."""
    study = load_study()
    start.wait()
    for i in range(EACH):
        p = enrol(study, Path(root), f"w{worker}n{i}", {"age": str(20 + i)}, lock_timeout_s=60)
        results.put((p.label, order_label(p.order or ())))


def hold_lock(lock: str, held, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Child: take the participants lock, say so, and keep it (until killed or the time is up)."""
    with exclusive_lock(Path(lock), purpose="test holder"):
        held.set()
        time.sleep(seconds)


def check_rows(study, root: Path, reported: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Every reported participant has exactly one row; row i holds order_for(i), as that enrolment was told."""
    _, rows = read_table(root)
    labels = [r["participant_id"].removeprefix("sub-") for r in rows]
    assert sorted(labels) == sorted(reported), "a row was lost or duplicated"
    for index, row in enumerate(rows):
        expected = order_label(order_for(study, index))
        assert row["condition_order"] == expected, f"row {index} ({row['participant_id']}) shares another's index"
        assert reported[labels[index]] == expected


def test_concurrent_processes_get_distinct_indices_and_lose_no_row(tmp_path: Path) -> None:
    """4 processes x 8 enrolments started together: 32 rows, each with its own index's order."""
    study = load_study()
    start = SPAWN.Event()
    results = SPAWN.Queue()
    children = [SPAWN.Process(target=enrol_many, args=(str(tmp_path), w, start, results)) for w in range(PROCESSES)]
    for child in children:
        child.start()
    time.sleep(0.5)
    start.set()
    reported = dict(results.get(timeout=120) for _ in range(PROCESSES * EACH))
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    assert len(reported) == PROCESSES * EACH
    check_rows(study, tmp_path, reported)


def test_threads_of_one_process_are_excluded_too(tmp_path: Path) -> None:
    """Two consoles' tasks in one process: the lock holds between threads as between processes."""
    study = load_study()
    reported: dict[str, str] = {}
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            for i in range(10):
                p = enrol(study, tmp_path, f"t{worker}n{i}", {})
                reported[p.label] = order_label(p.order or ())
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    check_rows(study, tmp_path, reported)


def test_a_killed_holder_is_recovered_with_a_message(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A process killed while holding the lock leaves it free; the next enrolment says whose lock it recovered."""
    study = load_study()
    enrol(study, tmp_path, "01", {})
    before = (tmp_path / "participants.tsv").read_bytes()
    held = SPAWN.Event()
    holder = SPAWN.Process(target=hold_lock, args=(str(lock_path_for(tmp_path / "participants.tsv")), held, 300))
    holder.start()
    assert held.wait(60)
    holder.kill()
    holder.join(30)
    assert (tmp_path / "participants.tsv").read_bytes() == before
    with caplog.at_level(logging.WARNING, logger="cpmlab.core.file_lock"):
        enrol(study, tmp_path, "02", {}, lock_timeout_s=10)
    assert f"process {holder.pid} on" in caplog.text and "ended without releasing it" in caplog.text
    _, rows = read_table(tmp_path)
    assert [r["participant_id"] for r in rows] == ["sub-01", "sub-02"]
    assert [r["condition_order"] for r in rows] == [order_label(order_for(study, i)) for i in range(2)]


def test_a_stuck_holder_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    """While another process holds the lock, enrolment waits, then refuses, naming it; the table is untouched."""
    study = load_study()
    enrol(study, tmp_path, "01", {})
    before = (tmp_path / "participants.tsv").read_bytes()
    held = SPAWN.Event()
    holder = SPAWN.Process(target=hold_lock, args=(str(lock_path_for(tmp_path / "participants.tsv")), held, 300))
    holder.start()
    try:
        assert held.wait(60)
        started = time.monotonic()
        with pytest.raises(CpmlabError, match=rf"locked by process {holder.pid} on .* \(test holder\); waited 0.5 s"):
            enrol(study, tmp_path, "02", {}, lock_timeout_s=0.5)
        assert 0.5 <= time.monotonic() - started < 5
        assert (tmp_path / "participants.tsv").read_bytes() == before
    finally:
        holder.kill()
        holder.join(30)
    enrol(study, tmp_path, "02", {})  # free again once the holder is gone
    assert [r["participant_id"] for r in read_table(tmp_path)[1]] == ["sub-01", "sub-02"]


def add_sessions(root: str, worker: int, start) -> None:  # type: ignore[no-untyped-def]
    """Child: wait for the start signal, then add EACH participants the way a finishing session does."""
    from cpmlab.storage.bids import ensure_dataset_files

    start.wait()
    for i in range(EACH):
        ensure_dataset_files(Path(root), f"s{worker}n{i}", "lab")


def test_sessions_ending_while_others_enrol_lose_no_row(tmp_path: Path) -> None:
    """2 processes enrolling and 2 writing finished sessions' participants at once: every row is kept.

    Without the lock in ensure_dataset_files this loses rows in most runs."""
    root = tmp_path / "data"
    root.mkdir()
    start, results = SPAWN.Event(), SPAWN.Queue()
    children = [SPAWN.Process(target=enrol_many, args=(str(root), w, start, results)) for w in range(2)]
    children += [SPAWN.Process(target=add_sessions, args=(str(root), w, start)) for w in range(2)]
    for c in children:
        c.start()
    start.set()
    enrolled = [results.get(timeout=120) for _ in range(2 * EACH)]
    for c in children:
        c.join(timeout=120)
        assert c.exitcode == 0
    _, rows = read_table(root)
    labels = sorted(r["participant_id"].removeprefix("sub-") for r in rows)
    sessions = [f"s{w}n{i}" for w in range(2) for i in range(EACH)]
    assert labels == sorted([label for label, _ in enrolled] + sessions), "a row was lost or duplicated"
