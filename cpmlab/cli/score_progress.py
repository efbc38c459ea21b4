"""A progress bar for scoring and reports on a terminal (rich), and nothing when output is piped."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress


def is_terminal(*streams: TextIO) -> bool:
    """Return True when every stream is an interactive terminal."""
    return all(getattr(s, "isatty", lambda: False)() for s in streams)


class TerminalProgress:
    """Show each scoring stage as a bar on stderr while it runs; silent unless stdout and stderr are terminals."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = is_terminal(sys.stdout, sys.stderr) if enabled is None else enabled
        self._bar: Progress | None = None
        self._task: int | None = None
        if self.enabled:  # rich is imported only for a terminal: piped runs skip its import time
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description:<20}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )

    def __enter__(self) -> TerminalProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, stage: str, total: int | None) -> None:
        """Begin a stage: the earlier one is marked done and a new bar starts."""
        if self._bar is None:
            return
        if self._task is not None:
            task = self._bar.tasks[-1]
            self._bar.update(self._task, completed=task.total or task.completed)
        self._task = self._bar.add_task(stage, total=total)

    def advance(self, units: int) -> None:
        """Count units of the current stage as done."""
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, units)

    def step(self, stage: str) -> None:
        """Begin a stage without a count."""
        self.start(stage, None)
