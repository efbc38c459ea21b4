"""Scoring options: the sign convention and whether NRS ratings are rescaled to 0-100."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Sign = Literal["inhibition-negative", "inhibition-positive"]
SIGNS: tuple[Sign, ...] = ("inhibition-negative", "inhibition-positive")


@dataclass(frozen=True)
class ScoringOptions:
    """How effects are signed and whether NRS (0-10) is put on the VAS 0-100 range."""

    sign: Sign = "inhibition-negative"
    normalise_nrs: bool = False

    @property
    def factor(self) -> int:
        """Multiplier applied to (x - before): +1 keeps inhibition negative, -1 makes it positive."""
        return 1 if self.sign == "inhibition-negative" else -1

    def sign_text(self) -> str:
        """Describe the sign convention in words (for sidecars and reports)."""
        if self.sign == "inhibition-negative":
            return (
                "effect = rating with conditioning - rating before; negative = inhibition "
                "(less pain with conditioning), positive = facilitation"
            )
        return (
            "effect = rating before - rating with conditioning; positive = inhibition "
            "(less pain with conditioning), negative = facilitation (flipped by --sign "
            "inhibition-positive)"
        )

    def scale_text(self) -> str:
        """Describe how rating scales were handled."""
        if self.normalise_nrs:
            return (
                "NRS ratings (0-10) were multiplied by 10 and scored on the 0-100 range "
                "together with VAS ratings (--normalise-nrs)"
            )
        return (
            "ratings are scored on their own scale; VAS (0-100) and NRS (0-10) are never "
            "mixed: a session whose ratings use both gets no effect and the flag mixed_scales"
        )

    def as_dict(self) -> dict[str, object]:
        """Return the options as JSON-ready data."""
        return {"sign": self.sign, "normalise_nrs": self.normalise_nrs}
