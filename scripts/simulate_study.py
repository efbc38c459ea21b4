"""Build a study-like BIDS dataset of simulated participants through the real engine and emulators.

Each participant (labels 01, 02, ...) is drawn from the seeded population with a profile from a
stated mix, assigned in a seeded order, and runs at session 1 and at session 2 the protocols
cpm_sequential (active), cpm_sham_control (sham) and cpm_parallel, plus cold_pressor_tolerance
at session 1. The test stimulus is set to the participant's true Pain-60 (``--set
ts_target_c=``, rounded to 0.1 C), as if a calibration had found it exactly; the calibration
itself is exercised elsewhere. Runs already in the dataset are skipped, so an interrupted build
resumes; a run whose journal exists without its BIDS files is rebuilt from the journal.

    python scripts/simulate_study.py --data /tmp/cpm-study --participants 12 --speed 50
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import zlib
from pathlib import Path

from cpmlab.app.session import PreparedSession, SessionSpec
from cpmlab.participant.population import PROFILES
from cpmlab.participant.simulated import ParticipantModel
from cpmlab.protocol.loader import load_protocol
from cpmlab.protocols import protocol_path
from cpmlab.storage.bids import write_bids
from cpmlab.storage.paths import SessionPaths

# The profiles of every 12 participants (insensitive is left out: its Pain-60 is above every thermode limit).
MIX: tuple[str, ...] = (
    "typical",
    "typical",
    "typical",
    "typical",
    "typical",
    "no-cpm",
    "no-cpm",
    "facilitator",
    "never-detects",
    "never-withdraws",
    "sensitive",
    "near-ceiling",
)
SESSIONS: dict[str, tuple[str, ...]] = {
    "1": ("cpm_sequential", "cpm_sham_control", "cpm_parallel", "cold_pressor_tolerance"),
    "2": ("cpm_sequential", "cpm_sham_control", "cpm_parallel"),
}
ASSIGNMENT = Path("sourcedata", "simulated-study", "assignment.tsv")


def assign_profiles(n: int, seed: int) -> list[tuple[str, str]]:
    """Return (label, profile) for n participants: the MIX repeated to n, shuffled by seed."""
    profiles = [MIX[i % len(MIX)] for i in range(n)]
    random.Random(seed).shuffle(profiles)
    return [(f"{i + 1:02d}", profile) for i, profile in enumerate(profiles)]


def _assignment_text(assignment: list[tuple[str, str]], seed: int) -> str:
    lines = ["participant_id\tprofile\tpain60_c\tcpm_effect_vas\tassignment_seed"]
    for label, profile in assignment:
        model = ParticipantModel.from_population(label, profile)
        lines.append(f"sub-{label}\t{profile}\t{model.pain60_c:.3f}\t{model.cpm_effect_vas}\t{seed}")
    return "\n".join(lines) + "\n"


def record_assignment(root: Path, assignment: list[tuple[str, str]], seed: int) -> None:
    """Write the assignment table into sourcedata; refuse to resume a dataset built with another one."""
    path = root / ASSIGNMENT
    text = _assignment_text(assignment, seed)
    if path.exists():
        if path.read_text() != text:
            sys.exit(f"{path} holds another assignment (other --participants or --seed); use another --data")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def run_number(session: str, name: str) -> int:
    """Return the BIDS run of protocol name in the session: protocols sharing a task are runs 1, 2, ... in order."""
    task = load_protocol(protocol_path(name)).task
    earlier = (
        SESSIONS.get(session, ())[: SESSIONS.get(session, ()).index(name)] if name in SESSIONS.get(session, ()) else ()
    )
    return 1 + sum(load_protocol(protocol_path(other)).task == task for other in earlier)


def run_one(root: Path, label: str, profile: str, session: str, name: str, speed: float) -> str:
    """Run one protocol for one participant unless it is in the dataset already; return what happened."""
    protocol = protocol_path(name)
    task = load_protocol(protocol).task
    run = run_number(session, name)  # the sham shares the active protocol's task (cpmsequential): run 2
    paths = SessionPaths.create(root, label, session, task, run)
    if paths.bids_file("beh", ".json").exists():
        return "skipped (in the dataset)"
    if paths.journal.exists():
        written = write_bids(paths, recovered=True)
        return f"rebuilt from its journal ({written.outcome})"
    model = ParticipantModel.from_population(label, profile)
    variables = {} if name == "cold_pressor_tolerance" else {"ts_target_c": round(model.pain60_c, 1)}
    spec = SessionSpec(
        protocol,
        label,
        session,
        root,
        run=run,
        speed=speed,
        simulate=True,
        emulate=True,
        simulate_profile=profile,
        seed=zlib.crc32(f"{label}:{session}:{name}".encode()),  # each run its own noise, reproducibly
        variables=variables,
        operator="simulate_study",
        lsl=False,
    )
    result = PreparedSession(spec).run()
    return str(result.outcome)


def main(argv: list[str] | None = None) -> int:
    """Build (or resume) the simulated study dataset and print the wall time."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="cpmlab-simulated-study", help="dataset folder (created or resumed)")
    parser.add_argument("--participants", "-n", type=int, default=12, help="number of participants (default 12)")
    parser.add_argument("--speed", type=float, default=50.0, help="dry-run time scale (default 50)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the profile assignment (default 2026)")
    args = parser.parse_args(argv)
    if args.participants < 1 or args.speed <= 0:
        parser.error("--participants must be at least 1 and --speed positive")
    assert set(MIX) <= set(PROFILES)
    root = Path(args.data).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    assignment = assign_profiles(args.participants, args.seed)
    record_assignment(root, assignment, args.seed)
    started = time.monotonic()
    counts: dict[str, int] = {}
    for label, profile in assignment:
        for session, names in SESSIONS.items():
            for name in names:
                outcome = run_one(root, label, profile, session, name, args.speed)
                counts[outcome] = counts.get(outcome, 0) + 1
                print(f"sub-{label} ({profile}) ses-{session} {name}: {outcome}", flush=True)
    wall_s = time.monotonic() - started
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    print(f"simulated study: {len(assignment)} participants, {summary}; wall time {wall_s:.1f} s; dataset {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
