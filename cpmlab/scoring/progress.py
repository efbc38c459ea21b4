"""How the scoring reports its progress: named stages, each with a count of work done."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives the scoring's stages (hashing, reading and scoring runs, group tables, writing)."""

    def start(self, stage: str, total: int | None) -> None:
        """Begin a stage of total units of work (None: no count)."""

    def advance(self, units: int) -> None:
        """Count units of the current stage as done."""

    def step(self, stage: str) -> None:
        """Begin a stage without a count (e.g. one figure of the report)."""


class NoProgress:
    """A Progress that shows nothing."""

    def start(self, stage: str, total: int | None) -> None:
        """Ignore the stage."""

    def advance(self, units: int) -> None:
        """Ignore the count."""

    def step(self, stage: str) -> None:
        """Ignore the stage."""
