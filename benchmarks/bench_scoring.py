"""Benchmark `cpmlab score` against the cost of parsing its input files, at 1,000 to 10,000 runs.

Run:  .venv/bin/python benchmarks/bench_scoring.py [--sizes 1000 5000 10000] [--base 100] [--keep DIR]

A base dataset (--base participants x 2 sessions, active and sham, 4 heat test stimuli rated on a
VAS, 2 NRS ratings of the water, threshold and cold-pressor rows, a 10 Hz continuous rating) is
written once by the real writer (journal -> write_bids). Larger datasets replicate its runs
byte for byte under new participant labels, with every rating and threshold trial shifted by a
per-replica amount so no two participants score alike; a sample of the replicated runs is
checked against the per-run reference scorer before anything is timed.

For each size it prints: the csv-module floor (every file the scoring reads parsed with the csv
module, sidecars with json, recordings gunzipped), the wall time of `cpmlab score` in a fresh
process (its own command-line code, with the progress bar replaced by a timer of its stages:
per-run scoring with the cache, group tables, writing derivatives), their ratio, the peak
resident memory of that process (its ru_maxrss), and the time of `cpmlab score` again after
one run was added (2.5 s after the scoring before it ended), as the median and range of
--trials such re-scores, each adding one more run. Before each timed command the file system is
synced, so the writes of the step before (building the dataset, the previous score) are not
flushed while it runs.
Prints figures; asserts nothing but the sample check.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAW_FILES = ("_beh.tsv", "_beh.json", "_events.tsv", "_recording-covas_physio.tsv.gz", "_recording-covas_physio.json")


def _base(root: Path, participants: int) -> list[tuple[str, dict[str, bytes]]]:
    """Write the base dataset with the real writer; return each run's relative stem and files."""
    from cpmlab.scoring.synthetic import generate_dataset

    generate_dataset(root, participants, 2, seed=1, recordings=("covas",))
    runs = []
    for beh in sorted(root.glob("sub-*/ses-*/beh/*_beh.tsv")):
        stem = beh.name[: -len("_beh.tsv")]
        files = {suffix: beh.with_name(stem + suffix).read_bytes() for suffix in RAW_FILES}
        runs.append((str(beh.relative_to(root).parent / stem), files))
    return runs


def _shift_column(data: bytes, column: str, shift: float, low: float, high: float, digits: int) -> bytes:
    """Shift the numbers of one TSV column, clipped to [low, high]; n/a stays n/a."""
    rows = list(csv.reader(io.StringIO(data.decode()), delimiter="\t"))
    if column not in rows[0]:
        return data
    i = rows[0].index(column)
    for row in rows[1:]:
        if row[i] != "n/a":
            value = min(high, max(low, float(row[i]) + shift))
            row[i] = str(round(value, digits)) if digits else str(round(value))
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _vary(files: dict[str, bytes], replica: int) -> dict[str, bytes]:
    shift = ((replica * 7919) % 41 - 20) / 4.0  # -5 .. +5 rating points, different per replica
    out = dict(files)
    out["_beh.tsv"] = _shift_column(files["_beh.tsv"], "rating", shift, 0.0, 100.0, 1)
    out["_events.tsv"] = _shift_column(files["_events.tsv"], "value", shift / 10.0, 0.0, 1000.0, 3)
    return out


def _replicate(base_root: Path, runs: list[tuple[str, dict[str, bytes]]], root: Path, n_runs: int) -> None:
    """Write n_runs runs: base runs under new participant labels (rNNNN + base label)."""
    root.mkdir(parents=True)
    for name in ("dataset_description.json", "README"):
        shutil.copy(base_root / name, root / name)
    labels = []
    for k in range(n_runs):
        replica, (rel, files) = divmod(k, len(runs))[0], runs[k % len(runs)]
        old = rel.split("/")[0]  # sub-001
        new = f"sub-r{replica:04d}{old[4:]}"
        labels.append(new)
        target = root / rel.replace(old, new)
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix, data in _vary(files, replica).items():
            target.with_name(target.name + suffix).write_bytes(data)
    (root / "participants.tsv").write_text("participant_id\n" + "\n".join(sorted(set(labels))) + "\n")


def _check_sample(root: Path, n: int) -> None:
    """Score the first n runs with the per-run reference and the bulk path; they must be identical."""
    import pandas as pd

    from cpmlab.scoring.batches import score_paths
    from cpmlab.scoring.dataset import find_runs, read_run, run_key
    from cpmlab.scoring.options import ScoringOptions
    from cpmlab.scoring.reference import score_runs_reference

    paths = sorted(find_runs(root), key=run_key)[:n]
    reference, _ = score_runs_reference([read_run(p) for p in paths], ScoringOptions())
    bulk, _, _ = score_paths(paths, ScoringOptions())
    pd.testing.assert_frame_equal(reference, bulk, check_exact=True)


def _floor(root: Path) -> float:
    """Parse every file the scoring reads with the csv module (json for sidecars); return seconds."""
    t0 = time.perf_counter()
    for beh in root.glob("sub-*/ses-*/beh/*_beh.tsv"):
        stem = beh.name[: -len("_beh.tsv")]
        for suffix in RAW_FILES:
            path = beh.with_name(stem + suffix)
            if suffix.endswith(".json"):
                json.loads(path.read_bytes())
            elif suffix.endswith(".gz"):
                list(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode()), delimiter="\t"))
            else:
                list(csv.reader(io.StringIO(path.read_text()), delimiter="\t"))
    return time.perf_counter() - t0


class _StageTimer:
    """A Progress that notes when each stage of the scoring starts (in place of the terminal bar)."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.marks: list[tuple[str, float]] = []

    def __enter__(self) -> _StageTimer:
        self.marks.append(("start", time.perf_counter()))
        return self

    def __exit__(self, *exc: object) -> None:
        self.marks.append(("end", time.perf_counter()))
        names = [m[0] for m in self.marks]
        spans = {n: round(b[1] - a[1], 3) for n, a, b in zip(names[:-1], self.marks[:-1], self.marks[1:], strict=True)}
        print(json.dumps(spans), file=sys.stderr)

    def start(self, stage: str, total: int | None) -> None:
        self.marks.append((stage, time.perf_counter()))

    def advance(self, units: int) -> None:
        pass

    def step(self, stage: str) -> None:
        self.start(stage, None)


def _child_score(root: str, jobs: str) -> None:
    """Run `cpmlab score` in this process, timing its stages (printed as JSON on stderr)."""
    from cpmlab.cli import score_progress
    from cpmlab.cli.main import console

    score_progress.TerminalProgress = _StageTimer  # type: ignore[misc,assignment]
    console(["score", root, "--jobs", jobs])  # as the installed cpmlab script runs it


def _timed(cmd: list[str]) -> tuple[float, float, dict[str, float]]:
    """Run a command; return its wall time (s), peak resident memory (MiB) and its stage times."""
    os.sync()  # the files the benchmark wrote before are flushed now, not while the command is timed
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err[-2000:]}")
    stages = json.loads(err.strip().splitlines()[-1]) if err.strip() else {}
    return wall, usage.ru_maxrss / 1024.0, stages  # ru_maxrss: KiB on Linux


def _split(stages: dict[str, float]) -> str:
    """Runs (checking files + scoring runs), group tables and writing, in seconds."""
    runs = stages.get("checking files", 0.0) + stages.get("scoring runs", 0.0) + stages.get("saving the cache", 0.0)
    return f"{runs:.1f}/{stages.get('group tables', 0.0):.1f}/{stages.get('writing derivatives', 0.0):.1f}"


def main() -> None:
    """Build the datasets, check a sample, and print one table row per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--base", type=int, default=100, help="participants of the base dataset (2 runs each)")
    parser.add_argument("--sample", type=int, default=200, help="replicated runs checked against the reference")
    parser.add_argument("--jobs", type=int, default=1, help="cpmlab score --jobs")
    parser.add_argument("--trials", type=int, default=5, help="re-scores after one added run (the median is shown)")
    parser.add_argument("--keep", help="build the datasets under this folder and keep them")
    parser.add_argument("--child-floor", help=argparse.SUPPRESS)
    parser.add_argument("--child-score", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_floor:
        print(_floor(Path(args.child_floor)))
        return
    if args.child_score:
        _child_score(*args.child_score)
    from cpmlab.scoring.file_sync import RACY_S

    score = [sys.executable, __file__, "--child-score"]
    with tempfile.TemporaryDirectory(dir=args.keep) as tmp:
        t0 = time.perf_counter()
        runs = _base(Path(tmp) / "base", args.base)
        print(f"base dataset: {len(runs)} runs written by the real writer in {time.perf_counter() - t0:.1f} s")
        header = (
            f"{'runs':>6} {'build s':>8} {'floor s':>8} {'score s':>8} {'ratio':>6} {'peak MiB':>9} {'+1 run s':>9}"
            f" {'+1 range s':>11}"
            f" {'score: runs/group/write s':>26} {'+1 run: runs/group/write s':>27}"
        )
        rows = [header]
        print(header, flush=True)
        for n in args.sizes:
            root = Path(tmp) / f"ds{n}"
            t0 = time.perf_counter()
            _replicate(Path(tmp) / "base", runs, root, n)
            build_s = time.perf_counter() - t0
            _check_sample(root, min(args.sample, n))
            _floor(root)  # warm the page cache for both measurements
            os.sync()
            floor_s = float(
                subprocess.run(
                    [sys.executable, __file__, "--child-floor", str(root)], capture_output=True, text=True, check=True
                ).stdout
            )
            score_s, peak_mib, stages = _timed([*score, str(root), str(args.jobs)])
            trials = []
            for trial in range(args.trials):
                # a lab adds a session minutes after the last score, not within the 2 s after its last
                # write (derivatives written that recently may be compared by content: file_sync.RACY_S)
                time.sleep(RACY_S + 0.5)
                label = f"added{trial + 1}"
                extra = root / f"sub-{label}" / "ses-1" / "beh" / f"sub-{label}_ses-1_task-cpm_run-1"
                extra.parent.mkdir(parents=True)
                for suffix, data in runs[0][1].items():
                    extra.with_name(extra.name + suffix).write_bytes(data)
                trials.append(_timed([*score, str(root), str(args.jobs)]))
            again_s, _, again = sorted(trials, key=lambda t: t[0])[len(trials) // 2]  # the median trial
            spread = f"{min(t[0] for t in trials):.2f}-{max(t[0] for t in trials):.2f}"
            row = (
                f"{n:>6} {build_s:>8.1f} {floor_s:>8.2f} {score_s:>8.2f} {score_s / floor_s:>6.2f} "
                f"{peak_mib:>9.0f} {again_s:>9.2f} {spread:>11} {_split(stages):>26} {_split(again):>27}"
            )
            rows.append(row)
            print(row, flush=True)
            shutil.rmtree(root)
        print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)")


if __name__ == "__main__":
    main()
