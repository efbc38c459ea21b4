"""Progress of cpmlab score and report: a bar on a terminal, nothing at all when the output is piped."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from cpmlab.cli.score_progress import TerminalProgress, is_terminal
from cpmlab.scoring.pipeline import score_dataset
from cpmlab.scoring.synthetic import generate_dataset

CPMLAB = [sys.executable, "-m", "cpmlab"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two participants x two sessions."""
    root = tmp_path_factory.mktemp("progress") / "ds"
    generate_dataset(root, 2, 2, seed=3, recordings=("covas",))
    return root


def test_piped_score_prints_no_bar(dataset: Path) -> None:
    """Run through a pipe, score prints its summary on stdout and nothing on stderr (no bar, no escapes)."""
    proc = subprocess.run([*CPMLAB, "score", str(dataset)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "\x1b" not in proc.stdout and "scoring runs" not in proc.stdout
    assert "2 participants, 4 runs" in proc.stdout


def test_score_on_a_terminal_shows_the_stages(dataset: Path) -> None:
    """Under a pseudo-terminal the bar names the stages (it is drawn on stderr, then cleared)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm"}
    proc = subprocess.Popen([*CPMLAB, "score", str(dataset)], stdout=follower, stderr=follower, env=env)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=300) == 0
    os.close(leader)
    text = seen.decode(errors="replace")
    assert "checking files" in text or "scoring runs" in text or "writing derivatives" in text
    assert "2 participants, 4 runs" in text


def test_terminal_progress_draws_every_stage_when_enabled(dataset: Path) -> None:
    """Enabled by hand on a recording console, the bar names the stages the scoring goes through."""
    progress = TerminalProgress(enabled=True)
    buffer = io.StringIO()
    assert progress._bar is not None
    progress._bar.live.console = Console(file=buffer, force_terminal=True, width=100)
    progress._bar.live.transient = False
    with progress:
        score_dataset(dataset, progress=progress, cache_dir=dataset / "derivatives" / ".cpmlab-cache")
        progress.step("writing derivatives")
    text = buffer.getvalue()
    for stage in ("checking files", "scoring runs", "group tables", "writing derivatives"):
        assert stage in text


def test_quiet_unless_both_streams_are_terminals() -> None:
    """A StringIO (a pipe, a file) is not a terminal; a disabled progress draws nothing and never fails."""
    assert not is_terminal(io.StringIO(), io.StringIO())
    progress = TerminalProgress(enabled=False)
    with progress:
        progress.start("scoring runs", 10)
        progress.advance(5)
        progress.step("group tables")
    assert progress._bar is None
