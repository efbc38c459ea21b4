"""Steps run in a forked child and come back by pipe; a failing step or a dead child costs only time."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from cpmlab.scoring import background
from cpmlab.scoring.background import Background

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is not available here")


@needs_fork
def test_steps_run_in_a_child_in_order() -> None:
    """Each step's value comes from the child process, in the order asked, however often it is asked."""
    parent = os.getpid()
    work = Background([os.getpid, lambda: [1, 2, 3]], fork=True)
    assert work.result(1) == [1, 2, 3]
    child = work.result(0)
    assert child != parent and work.result(0) == child
    work.close()


@needs_fork
def test_a_step_that_fails_in_the_child_runs_here() -> None:
    """A step raising in the child is computed again in this process; later steps still come from the child."""
    parent = os.getpid()

    def only_here() -> int:
        if os.getpid() != parent:
            raise OSError("not in the child")
        return 7

    work = Background([only_here, os.getpid], fork=True)
    assert work.result(0) == 7
    assert work.result(1) != parent
    work.close()


@needs_fork
def test_a_child_that_dies_leaves_the_work_to_this_process() -> None:
    """A child killed mid-way (no result sent) is reaped, and its steps run here."""
    parent = os.getpid()

    def die_in_child() -> int:
        if os.getpid() != parent:
            os._exit(3)
        return 11

    work = Background([die_in_child, os.getpid], fork=True)
    assert work.result(0) == 11
    assert work.result(1) == parent  # the child was gone before it reached the second step
    work.close()


@needs_fork
def test_later_steps_run_while_a_large_result_waits_to_be_read(tmp_path: Path) -> None:
    """A result larger than the pipe holds does not stop the child: the next step runs before anything is read."""
    marker = tmp_path / "second-step-ran"
    work = Background([lambda: b"x" * 5_000_000, lambda: marker.write_text("yes")], fork=True)
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()  # nothing was read yet
    assert work.result(0) == b"x" * 5_000_000 and work.result(1) == 3
    work.close()


def test_without_fork_steps_run_here_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where a child may not be forked (another OS, or threads running), steps run here on demand."""
    monkeypatch.setattr(background.sys, "platform", "win32")
    calls: list[str] = []
    work = Background([lambda: calls.append("a") or "A"])
    assert calls == [] and work.result(0) == "A" and calls == ["a"]
    assert not background.can_fork()


@needs_fork
def test_finished_children_are_reaped() -> None:
    """Children are not waited for at close, but reaped once gone: no zombies pile up in a long-lived process."""
    for _ in range(3):
        work = Background([os.getpid], fork=True)
        work.result(0)
        work.close()
    deadline = time.monotonic() + 10
    while background._EXITING and time.monotonic() < deadline:
        time.sleep(0.05)
        background._reap()
    assert background._EXITING == []
