"""Recovered-versus-true error of each calibration and threshold procedure across seeds.

Runs each procedure through the engine (in-process device doubles, high speed) against
simulated participants with known thresholds and slopes. Prints figures; asserts nothing.
Run: .venv/bin/python benchmarks/bench_calibration.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "engine")]

from recovery import across_seeds, recover_calibration, recover_threshold  # noqa: E402


def summarise(name: str, results: list) -> None:
    errors = [r.error_c for r in results if r.error_c is not None]
    missing = len(results) - len(errors)
    print(
        f"  {name:24} n={len(errors):3}  mean {statistics.mean(errors):+.2f} C  SD {statistics.stdev(errors):.2f} C"
        f"  max |error| {max(map(abs, errors)):.2f} C  no result: {missing}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    seeds = range(args.seeds)
    print(
        f"recovered - true temperature over {args.seeds} simulated participants "
        "(Pain-60 for calibrations, pain threshold for the method of limits):"
    )
    for method in ("staircase", "ascending", "fit"):
        summarise(f"calibration {method}", across_seeds(recover_calibration, seeds, method=method))
    summarise("heat threshold (1 C/s)", across_seeds(recover_threshold, seeds))


if __name__ == "__main__":
    main()
