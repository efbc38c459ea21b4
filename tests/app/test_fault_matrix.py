"""The whole fault matrix: every driver x every emulator fault, struck mid-session, end to end.

Each cell must journal a fault for the device within 1 s, abort every device and end the
session as a fault, or (slow, split) ride the fault out under the stated rule with the
session completed; every session's files are written and the dataset is BIDS-valid. The
thermodes' refuse cells: a refused stimulus is one stimulus_refused fault, with no rating.
The table is printed (``pytest -s``); benchmarks/bench_fault_matrix.py prints it too.
"""

from __future__ import annotations

from pathlib import Path

from bids_validator import validate

from cpmlab.testing.fault_matrix import DRIVERS, FAULTS, REFUSAL_DRIVERS, format_table, run_matrix


def test_every_fault_on_every_driver_is_caught_or_ridden_out(tmp_path: Path) -> None:
    """24 of 24 cells and both refused-stimulus cells pass; the dataset of all 26 sessions validates."""
    data = tmp_path / "data"
    data.mkdir()
    cells = run_matrix(data)
    print()
    print(format_table(cells))
    assert len(cells) == len(DRIVERS) * len(FAULTS) + len(REFUSAL_DRIVERS)
    failed = [f"{c.driver}/{c.fault}: {c}" for c in cells if not c.passed]
    assert not failed, "\n".join(failed)
    errors, _warnings = validate(data)
    assert errors == []
