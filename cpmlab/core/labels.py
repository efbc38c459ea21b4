"""BIDS label validation (alphanumeric only, so labels are safe path components)."""

from __future__ import annotations

import re

from cpmlab.core.errors import LabelError

_LABEL = re.compile(r"^[A-Za-z0-9]+$")


def validate_label(kind: str, value: str) -> str:
    """Return value if it is a valid BIDS label, else raise LabelError naming the kind."""
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise LabelError(
            f"invalid {kind} label {value!r}: BIDS labels use letters and digits only "
            f"(no spaces, dashes, underscores, dots or slashes), e.g. '01' or 'pilot3'"
        )
    return value


def validate_run(value: int | str) -> int:
    """Return the run number as a positive int, else raise LabelError."""
    try:
        run = int(str(value), 10)
    except ValueError:
        raise LabelError(f"invalid run {value!r}: must be a positive whole number") from None
    if run < 1:
        raise LabelError(f"invalid run {value!r}: must be a positive whole number")
    return run
