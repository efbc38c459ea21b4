"""Side-by-side accuracy and cost of the calibration methods on the simulated population.

Every method runs against the same seeded participants (cpmlab.participant.population:
typical-like profiles, participants whose Pain-60 lies near the 49 C ceiling, sensitive ones,
and insensitive ones whose Pain-60 is above the limit). Each procedure is driven directly
(the same state machine the engine runs), and each rating comes from the simulated
participant's own rating rule (SimulatedParticipant.heat_rating, noise seeded by the label).
The staircase and bayesian settings are read from the shipped protocols pain60_calibration_cpm
and pain60_bayesian_cpm; ascending and fit use the same stop rating, floor and ceiling.

Printed per method: mean number of stimuli, bias, RMSE and maximum |error| of the result
against the true Pain-60 (participants whose Pain-60 lies within the limits), the share (and
number) of stimuli rated at or above the stop rating, and the share of runs that ended
without a result (before any fallback). A second table shows the insensitive participants.
Run: .venv/bin/python benchmarks/bench_calibration.py [--participants 100] [--engine]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from cpmlab.engine.calibration_methods import make_procedure
from cpmlab.participant.simulated import ParticipantModel, SimulatedParticipant
from cpmlab.protocol.loader import load_protocol
from cpmlab.protocol.model import Calibration

LIMIT_C = 49.0  # max_thermode_c of both shipped Pain-60 protocols
PROTOCOLS = Path(__file__).resolve().parents[1] / "protocols"
COMMON = {"type": "calibration", "variable": "ts_c", "target_rating": 60, "stop_rating": 85, "floor_c": 40}
COMMON |= {"ceiling_c": 49}


def shipped(name: str) -> dict[str, object]:
    """Return the calibration step of a shipped protocol as fields."""
    step = next(s for s in load_protocol(PROTOCOLS / f"{name}.yaml").steps if isinstance(s, Calibration))
    return step.model_dump(exclude_defaults=True)


METHODS: dict[str, dict[str, object]] = {
    "staircase": shipped("pain60_calibration_cpm"),
    "ascending": {**COMMON, "method": "ascending", "start_c": 41, "step_c": 0.5, "max_trials": 20},
    "fit": {**COMMON, "method": "fit", "temperatures": [43, 44, 45, 46, 47, 48], "repeats": 2},
    "bayesian": shipped("pain60_bayesian_cpm"),
}
STOP_RATING = 85.0
assert all(Calibration.model_validate(m).stop_rating == STOP_RATING for m in METHODS.values())
# One cycle of profiles: typical-like heat pain (five CPM/cold profiles), near the ceiling, sensitive, insensitive.
CYCLE = (
    "typical",
    "no-cpm",
    "facilitator",
    "never-detects",
    "never-withdraws",
    "typical",
    "near-ceiling",
    "near-ceiling",
    "sensitive",
    "insensitive",
)


@dataclass(frozen=True)
class Outcome:
    """One calibration run against one simulated participant."""

    true_c: float
    value_c: float | None
    stimuli: int
    stop_rated: int
    censored: bool


def calibrate(method: str, model: ParticipantModel, label: str) -> Outcome:
    """Run one calibration of method against the participant; return what it found and cost."""
    step = Calibration.model_validate(METHODS[method])
    sim = SimulatedParticipant(model, seed=zlib.crc32(label.encode()))
    proc = make_procedure(step, LIMIT_C, 100.0, random.Random(zlib.crc32(label.encode())))
    while (temp_c := proc.next_temperature()) is not None:
        assert temp_c <= LIMIT_C, f"{method} proposed {temp_c} C above the limit"
        proc.record(temp_c, sim.heat_rating(temp_c))
    result = proc.result()
    stop_rated = sum(1 for _, r in proc.trials if r is not None and r >= STOP_RATING)
    return Outcome(model.pain60_c, result.value_c, len(proc.trials), stop_rated, result.censored)


def row(name: str, outcomes: list[Outcome], errors: bool = True) -> str:
    """Format one method's line of the table."""
    n = len(outcomes)
    stimuli = sum(o.stimuli for o in outcomes)
    stop_share = sum(o.stop_rated for o in outcomes) / stimuli
    failed = sum(o.value_c is None for o in outcomes) / n
    if not errors:
        at_ceiling = sum(o.value_c is not None and o.value_c >= LIMIT_C - 0.05 for o in outcomes) / n
        return f"{name:10} {stimuli / n:8.2f} {at_ceiling:12.1%} {stop_share:10.1%} {failed:8.1%}"
    stop_n = sum(o.stop_rated for o in outcomes)
    errs = [o.value_c - o.true_c for o in outcomes if o.value_c is not None]
    bias = statistics.mean(errs)
    rmse = math.sqrt(statistics.mean(e * e for e in errs))
    return (
        f"{name:10} {stimuli / n:8.2f} {bias:+8.3f} {rmse:7.3f} {max(map(abs, errs)):8.3f} "
        f"{stop_share:6.1%} ({stop_n:2d}) {failed:8.1%}"
    )


def population(count: int) -> list[tuple[str, ParticipantModel]]:
    """Return count labelled participants, profiles in the fixed cycle."""
    labels = [f"bench{i:03d}" for i in range(count)]
    return [(label, ParticipantModel.from_population(label, CYCLE[i % len(CYCLE)])) for i, label in enumerate(labels)]


def engine_recovery(seeds: int) -> None:
    """Print the engine-driven recovery figures (in-process device doubles, tests/engine/recovery.py)."""
    tests = Path(__file__).resolve().parents[1] / "tests"
    sys.path[:0] = [str(tests), str(tests / "engine")]
    from recovery import across_seeds, recover_calibration, recover_threshold

    print(f"\nthrough the engine, recovered - true over {seeds} participants:")
    for method in ("staircase", "ascending", "fit", "bayesian"):
        found = [r.error_c for r in across_seeds(recover_calibration, range(seeds), method=method)]
        errs = [e for e in found if e is not None]
        print(f"  {method:10} mean {statistics.mean(errs):+.2f} C  max |error| {max(map(abs, errs)):.2f} C")
    errs = [r.error_c for r in across_seeds(recover_threshold, range(seeds)) if r.error_c is not None]
    print(f"  threshold  mean {statistics.mean(errs):+.2f} C  max |error| {max(map(abs, errs)):.2f} C")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--engine", type=int, default=0, metavar="SEEDS", help="also run SEEDS sessions per method")
    args = parser.parse_args()
    people = population(args.participants)
    inside = [(label, m) for label, m in people if m.pain60_c <= LIMIT_C]
    above = [(label, m) for label, m in people if m.pain60_c > LIMIT_C]
    print(
        f"Pain-60 calibration, {len(inside)} simulated participants with Pain-60 within the limits "
        f"({min(m.pain60_c for _, m in inside):.1f}-{max(m.pain60_c for _, m in inside):.1f} C), "
        f"limit {LIMIT_C:g} C, stop rating {STOP_RATING:g}:"
    )
    print(
        f"{'method':10} {'stimuli':>8} {'bias C':>8} {'RMSE C':>7} {'max|e| C':>8} {'stop-rated (n)':>14} {'failed':>8}"
    )
    for method in METHODS:
        print(row(method, [calibrate(method, m, label) for label, m in inside]))
    print(
        f"\n{len(above)} insensitive participants (Pain-60 {min(m.pain60_c for _, m in above):.1f}-"
        f"{max(m.pain60_c for _, m in above):.1f} C, above the limit):"
    )
    print(f"{'method':10} {'stimuli':>8} {'at ceiling':>12} {'stop-rated':>10} {'failed':>8}")
    for method in METHODS:
        print(row(method, [calibrate(method, m, label) for label, m in above], errors=False))
    if args.engine:
        engine_recovery(args.engine)


if __name__ == "__main__":
    main()
