"""Rating scales, defined once: range, anchors, step and how a missing answer is written.

The protocol model, the participant display, the simulated participant, the BIDS writer
and the scoring all read these definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ScaleName = Literal["vas", "nrs", "categorical"]
NumericScaleName = Literal["vas", "nrs"]
DEFAULT_ANCHORS: tuple[str, str] = ("no pain", "worst pain imaginable")
MISSING_TEXT = "n/a"  # how an unanswered rating is written to TSV files (the journal holds null)


@dataclass(frozen=True)
class ScaleDefinition:
    """One rating scale: its range (categorical: 0 to categories - 1), resolution and anchors."""

    name: ScaleName
    description: str
    low: float
    high: float | None  # None: set by the number of categories
    step: float  # resolution of an answer
    anchors: tuple[str, str] = DEFAULT_ANCHORS

    def range(self, n_categories: int = 0) -> tuple[float, float]:
        """Return the lowest and highest value an answer can take."""
        if self.high is not None:
            return self.low, self.high
        return self.low, float(max(n_categories - 1, 1))

    def maximum(self, n_categories: int = 0) -> float:
        """Return the top of the scale."""
        return self.range(n_categories)[1]

    def values(self) -> list[float]:
        """Return every answer a stepped numeric scale allows (NRS: 0, 1, ..., 10)."""
        low, high = self.range()
        return [low + i * self.step for i in range(round((high - low) / self.step) + 1)]

    @property
    def range_text(self) -> str:
        """Return the range as text, e.g. '0-100' (numeric scales only)."""
        return f"{self.low:g}-{self.high:g}" if self.high is not None else "0-(categories - 1)"


SCALES: dict[str, ScaleDefinition] = {
    "vas": ScaleDefinition("vas", "visual analogue scale, a line from 0 to 100", 0.0, 100.0, 0.1),
    "nrs": ScaleDefinition("nrs", "numeric rating scale, whole numbers 0 to 10", 0.0, 10.0, 1.0),
    "categorical": ScaleDefinition(
        "categorical", "one of the protocol's categories, numbered from 0", 0.0, None, 1.0, ("", "")
    ),
}
NUMERIC_SCALES: tuple[str, ...] = tuple(name for name, s in SCALES.items() if s.high is not None)


def scale(name: str) -> ScaleDefinition:
    """Return the definition of a scale by name, or raise ValueError naming the known ones."""
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown rating scale {name!r}; known: {', '.join(SCALES)}") from None
