"""Scoring options: the sign convention, NRS rescaling and which two sessions form the retest pair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cpmlab.core.errors import CpmlabError
from cpmlab.core.labels import validate_label

Sign = Literal["inhibition-negative", "inhibition-positive"]
SIGNS: tuple[Sign, ...] = ("inhibition-negative", "inhibition-positive")


@dataclass(frozen=True)
class ScoringOptions:
    """How effects are signed, whether NRS (0-10) is put on the VAS 0-100 range, and the retest pair.

    retest_sessions names the two session labels (without 'ses-') compared for test-retest, in
    that order; None pairs each participant's first two sessions in natural order.
    """

    sign: Sign = "inhibition-negative"
    normalise_nrs: bool = False
    retest_sessions: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if self.sign not in SIGNS:
            raise CpmlabError(f"unknown sign convention {self.sign!r}; use one of {', '.join(SIGNS)}")
        if self.retest_sessions is not None:
            pair = tuple(self.retest_sessions)
            if len(pair) != 2:
                raise CpmlabError(f"the retest pair needs exactly two session labels, got {len(pair)}")
            labels = tuple(validate_label("session", str(s)) for s in pair)
            if labels[0] == labels[1]:
                raise CpmlabError(f"the retest pair needs two different sessions, got {labels[0]!r} twice")
            object.__setattr__(self, "retest_sessions", labels)

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

    def retest_text(self) -> str:
        """Describe which sessions form the test-retest pair."""
        if self.retest_sessions is None:
            return (
                "each participant's first two sessions with the score, in natural order (ses-2 before "
                "ses-10: digit runs compare as numbers)"
            )
        first, second = self.retest_sessions
        return f"ses-{first} against ses-{second} (--retest-sessions {first},{second})"

    def as_dict(self) -> dict[str, object]:
        """Return the options as JSON-ready data."""
        pair = list(self.retest_sessions) if self.retest_sessions else None
        return {"sign": self.sign, "normalise_nrs": self.normalise_nrs, "retest_sessions": pair}


def parse_session_pair(text: str) -> tuple[str, str]:
    """Parse 'A,B' (labels with or without 'ses-') into the two session labels of a retest pair."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 2 or not all(parts):
        raise CpmlabError(f"--retest-sessions takes two session labels separated by a comma (e.g. 1,2), got {text!r}")
    labels = tuple(p[4:] if p.startswith("ses-") else p for p in parts)
    ScoringOptions(retest_sessions=(labels[0], labels[1]))  # validates the labels and that they differ
    return labels[0], labels[1]
