"""BIDS label validation (alphanumeric only, so labels are safe path components)."""

from __future__ import annotations

import re

from cpmlab.core.errors import LabelError

_LABEL = re.compile(r"^[A-Za-z0-9]+$")
# File names join several labels (sub-X_ses-Y_task-T_run-N_recording-..._physio.tsv.gz); 64 characters
# each keeps the longest name well under the 255-byte limit of common file systems.
MAX_LABEL_CHARS = 64


def validate_label(kind: str, value: str) -> str:
    """Return value if it is a valid BIDS label, else raise LabelError naming the kind."""
    if not isinstance(value, str) or not _LABEL.fullmatch(value):
        raise LabelError(
            f"invalid {kind} label {value!r}: BIDS labels use letters and digits only "
            f"(no spaces, dashes, underscores, dots or slashes), e.g. '01' or 'pilot3'"
        )
    if len(value) > MAX_LABEL_CHARS:
        raise LabelError(f"{kind} label is {len(value)} characters long; at most {MAX_LABEL_CHARS} are allowed")
    return value


def validate_run(value: int | str) -> int:
    """Return the run number as a positive int, else raise LabelError."""
    try:
        run = int(str(value), 10)
    except ValueError:
        raise LabelError(f"invalid run {value!r}: must be a positive whole number") from None
    if not 1 <= run <= 9999:
        raise LabelError(f"invalid run {value!r}: must be a positive whole number")
    return run
