"""--data must be a folder (a file, FIFO or device is refused before anything is written); session files are group-readable."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cpmlab.cli.main import main
from cpmlab.core.filemode import SESSION_FILE_MODE

RUN = ["run", "cpm_sequential", "-p", "01", "-s", "1", "--emulate", "--simulate", "--speed", "60", "--no-lsl"]

TINY = """\
name: tiny
title: tiny
task: tiny
devices: [thermode]
steps:
  - {type: thermal, id: ts, target_c: 40, plateau_s: 1}
  - {type: rating, rates: ts, timeout_s: 5}
"""


@pytest.mark.parametrize("kind", ["file", "fifo", "device", "file in the way"])
def test_data_that_is_not_a_folder_is_refused_before_anything_is_written(tmp_path: Path, kind: str) -> None:
    """A file, a FIFO, /dev/null or a path below a file: exit 2 with a sentence naming it, no traceback, no hang."""
    target = tmp_path / "data"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "device":
        target = Path("/dev/null")
    else:
        target.write_text("not a folder")
        if kind == "file in the way":
            target = target / "below"
    before = sorted(p.name for p in tmp_path.iterdir())
    done = subprocess.run(
        [sys.executable, "-m", "cpmlab", *RUN, "--data", str(target)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "not a folder" in done.stderr, done.stderr
    expected = {"file": "is a file", "fifo": "FIFO", "device": "character device", "file in the way": "in the way"}
    assert expected[kind] in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if kind in ("file", "file in the way"):
        assert (tmp_path / "data").read_text() == "not a folder"


def test_every_session_file_is_readable_by_the_group_like_the_journal(tmp_path: Path) -> None:
    """With the usual umask 022 every file of a session (journal, protocol copy, BIDS files) is rw-r--r--."""
    protocol = tmp_path / "tiny.yaml"
    protocol.write_text(TINY)
    data = tmp_path / "data"
    old = os.umask(0o022)
    try:
        code = main(["run", str(protocol), "-p", "01", "-s", "1", "--data", str(data), "--emulate", "--simulate"])
        code = code if code is not None else 0
    finally:
        os.umask(old)
    assert code == 0
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name.endswith("_journal.jsonl") for p in files) and any(p.name.endswith("_events.tsv") for p in files)
    modes = {str(p.relative_to(data)): stat.S_IMODE(p.stat().st_mode) for p in files}
    assert set(modes.values()) == {SESSION_FILE_MODE & ~0o022}, modes
    assert not [p for p in files if p.name.endswith(".tmp")]
