"""Print the fault matrix: every driver x every emulator fault, with fault-to-journal times,
and the thermodes' refused-stimulus cells.

Run: .venv/bin/python benchmarks/bench_fault_matrix.py [DATA_DIR]
Each cell is one dry-run session (speed 20) with the fault struck 1 s into it; see
cpmlab/testing/fault_matrix.py for what a cell checks.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from cpmlab.testing.fault_matrix import format_table, run_matrix


def main() -> None:
    """Run the matrix into a fresh folder and print the table."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="cpmlab-faults-"))
    data = root / "data"
    data.mkdir(parents=True, exist_ok=False)
    cells = run_matrix(data)
    print(format_table(cells))
    print(f"data: {data}")


if __name__ == "__main__":
    main()
