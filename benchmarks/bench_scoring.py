"""Benchmark `cpmlab score`: wall time and peak memory for synthetic datasets of growing size.

Run:  .venv/bin/python benchmarks/bench_scoring.py [--sizes 50 500 5000] [--sessions 2] [--keep DIR]

Each dataset (N participants x S sessions, active and sham, 4 heat test stimuli rated on a VAS,
2 NRS ratings of the water, threshold and cold-pressor rows, a 10 Hz continuous-rating
recording) is generated into a temporary folder (as journal events written out by the real BIDS
writer, so generating is slower than scoring), then scored in a fresh subprocess so that the
peak resident memory (ru_maxrss) belongs to the scoring alone. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _generate(root: Path, n: int, sessions: int) -> float:
    from cpmlab.scoring.synthetic import generate_dataset

    t0 = time.perf_counter()
    generate_dataset(root, n, sessions, seed=1, recordings=("covas",))
    return time.perf_counter() - t0


def _score(root: Path) -> dict[str, float]:
    """Score and write derivatives; return timings and peak memory of this process."""
    from cpmlab.scoring.derivatives import write_derivatives
    from cpmlab.scoring.pipeline import score_dataset

    t0 = time.perf_counter()
    scored = score_dataset(root)
    t1 = time.perf_counter()
    written = write_derivatives(scored)
    t2 = time.perf_counter()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    return {
        "runs": len(scored.runs),
        "score_s": t1 - t0,
        "write_s": t2 - t1,
        "files": len(written),
        "peak_rss_mib": peak_mib,
    }


def _baseline_rss() -> float:
    import cpmlab.scoring.derivatives
    import cpmlab.scoring.pipeline  # noqa: F401

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    """Generate, score and print one line per dataset size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500, 5000])
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--keep", help="generate under this folder and keep the datasets")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = _score(Path(args.child)) if args.child != "baseline" else {"peak_rss_mib": _baseline_rss()}
        print(json.dumps(result))
        return
    base = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--child", "baseline"], capture_output=True, text=True, check=True
        ).stdout
    )["peak_rss_mib"]
    print(f"python + pandas + cpmlab.scoring imported: peak RSS {base:.0f} MiB")
    print(
        f"{'participants':>12} {'runs':>6} {'generate s':>10} {'score s':>8} {'write s':>8} {'ms/run':>7} "
        f"{'peak RSS MiB':>12} {'above import MiB':>16}"
    )
    with tempfile.TemporaryDirectory(dir=args.keep) as tmp:
        for n in args.sizes:
            root = Path(tmp) / f"ds{n}"
            gen_s = _generate(root, n, args.sessions)
            proc = subprocess.run([sys.executable, __file__, "--child", str(root)], capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr[-2000:])
                raise SystemExit(1)
            r = json.loads(proc.stdout)
            total = r["score_s"] + r["write_s"]
            print(
                f"{n:>12} {r['runs']:>6} {gen_s:>10.1f} {r['score_s']:>8.2f} {r['write_s']:>8.2f} "
                f"{1000 * total / r['runs']:>7.2f} {r['peak_rss_mib']:>12.0f} {r['peak_rss_mib'] - base:>16.0f}"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
