"""The worked example of docs/drivers.md (examples/icebath, a lab's own driver package) passes its tests.

Its tests include cpmlab.testing's bath conformance suite, run the way a lab runs it: pytest
in the example's own folder, with the example on the path and cpmlab installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "icebath"


def test_example_driver_passes_its_byte_and_conformance_tests() -> None:
    """pytest in examples/icebath passes every test, conformance suite included."""
    env = {**os.environ, "PYTHONPATH": str(EXAMPLE)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", "tests"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "TestIceBathConformance::test_unplug_is_a_fault_within_one_second_and_data_survives" in result.stdout
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) >= 7, result.stdout[-2000:]
