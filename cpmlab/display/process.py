"""Start, watch and stop the local `python -m cpmlab display` process, with its output in a log file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cpmlab.display.session_key import ENV_VAR

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WindowPlacement:
    """Where and how the display process opens its window."""

    screen: int = 0
    fullscreen: bool = False
    size: tuple[int, int] = (1024, 768)
    position: tuple[int, int] | None = None
    language: str = "en"  # of the display's own notice when the engine is gone


class DisplayProcess:
    """One display process at a time, started for a connect address; its output goes to a temporary log."""

    def __init__(self, placement: WindowPlacement) -> None:
        self.placement = placement
        self.popen: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    def command(self, connect_address: str) -> list[str]:
        """Return the command line that starts a display connecting to connect_address."""
        place = self.placement
        width, height = place.size
        cmd = [
            sys.executable,
            "-m",
            "cpmlab",
            "display",
            "--connect",
            connect_address,
            "--screen",
            str(place.screen),
            "--fullscreen" if place.fullscreen else "--windowed",
            "--size",
            f"{width}x{height}",
            "--language",
            place.language,
            "--parent-pid",
            str(os.getpid()),
        ]
        if place.position is not None:
            cmd += ["--pos", f"{place.position[0]},{place.position[1]}"]
        return cmd

    def start(self, connect_address: str, display_key: str) -> None:
        """Start a new display process with the session's display key (the caller stopped any previous one)."""
        cmd = self.command(connect_address)
        fd, name = tempfile.mkstemp(prefix="cpmlab-display-", suffix=".log")
        self.log_path = Path(name)
        env = {**os.environ, ENV_VAR: display_key}  # not on the command line: other users can read that
        with os.fdopen(fd, "wb") as log_file:
            self.popen = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file, env=env)
        log.info("display process %d started: %s", self.popen.pid, " ".join(cmd))

    @property
    def pid(self) -> int | None:
        """Process id of the current display process (None if none was started)."""
        return self.popen.pid if self.popen is not None else None

    def exit_code(self) -> int | None:
        """Return the exit code if the process has ended, None while it runs (or if none was started)."""
        return None if self.popen is None else self.popen.poll()

    def exited(self) -> bool:
        """Whether a started process has ended."""
        return self.exit_code() is not None

    def kill(self) -> None:
        """Kill the process at once if it still runs."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()

    def stop(self, grace_s: float = 2.0) -> None:
        """Wait up to grace_s for the process to end by itself, then kill it; forget it."""
        proc, self.popen = self.popen, None
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(2.0)

    def log_tail(self, lines: int = 8) -> str:
        """Return the last lines of the display's output, formatted for an error message ('' if none)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        tail = self.log_path.read_text(errors="replace").strip().splitlines()[-lines:]
        return ("; display output:\n  " + "\n  ".join(tail)) if tail else ""
