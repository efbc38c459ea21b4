"""A synthetic multi-paradigm study: sequential active and sham, parallel active, and cold pressor per session.

Each participant gets a profile (typical, no-cpm, facilitator) and a per-paradigm trait, so the
tables differ between paradigms and conditions. Every run goes through the journal and the real
BIDS writer (cpmlab.scoring.synthetic.write_run), like a recorded session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.synthetic import session_spec, write_dataset_files, write_run

PROFILES = {"typical": -15.0, "no-cpm": 0.0, "facilitator": 8.0}  # mean active effect, VAS points
SHAM_EFFECT = -3.0  # habituation and expectation: a small decrease without painful conditioning


@dataclass(frozen=True)
class StudyRun:
    """One run of every session: its BIDS task, run number, condition and the phases it rates."""

    task: str
    run: int
    condition: str
    phases: tuple[str, ...]


STUDY_RUNS: tuple[StudyRun, ...] = (
    StudyRun("cpmsequential", 1, "active", ("before", "after")),
    StudyRun("cpmsequential", 2, "sham", ("before", "after")),
    StudyRun("cpmparallel", 1, "active", ("before", "during", "after")),
    StudyRun("coldpressor", 1, "none", ()),
)


def _ratings(rng: np.random.Generator, level: float, noise_sd: float, missing_p: float) -> list[float | None]:
    values = np.clip(np.round(level + rng.normal(0.0, noise_sd, 2), 1), 0.0, 100.0)
    return [None if rng.random() < missing_p else float(v) for v in values]


def generate_study(
    root: str | Path,
    n_participants: int,
    n_sessions: int = 2,
    *,
    runs: Sequence[StudyRun] = STUDY_RUNS,
    profiles: Sequence[str] = ("typical", "typical", "no-cpm", "facilitator"),
    trait_sd: float = 6.0,
    noise_sd: float = 5.0,
    missing_p: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Write N participants x S sessions x the study runs; return each participant's profile and traits.

    Participant i has profiles[i % len(profiles)]. Each paradigm has its own per-participant trait
    (trait_sd) around the profile's effect; sham runs centre on SHAM_EFFECT. A rating is left
    unanswered with probability missing_p.
    """
    unknown = sorted(set(profiles) - set(PROFILES))
    if unknown or not profiles:
        raise CpmlabError(f"unknown profiles {unknown}; use some of {', '.join(PROFILES)}")
    rng = np.random.default_rng(seed)
    root = Path(root)
    labels = [f"{i + 1:02d}" for i in range(n_participants)]
    write_dataset_files(root, labels)
    truth = []
    for i, label in enumerate(labels):
        profile = profiles[i % len(profiles)]
        base = float(rng.uniform(35.0, 70.0))
        traits = {task: float(rng.normal(0.0, trait_sd)) for task in sorted({r.task for r in runs})}
        truth.append({"participant_id": f"sub-{label}", "profile": profile, "base": base, **traits})
        for s in range(1, n_sessions + 1):
            for spec_run in runs:
                mean_effect = (PROFILES[profile] if spec_run.condition == "active" else SHAM_EFFECT) + traits[
                    spec_run.task
                ]
                levels = {"before": base, "during": base + mean_effect, "after": base + 0.7 * mean_effect}
                ts = {p: _ratings(rng, levels[p], noise_sd, missing_p) for p in spec_run.phases}
                cold = spec_run.task == "coldpressor"
                cs = [] if cold else [float(v) for v in np.clip(np.round(rng.normal(6.0, 1.0, 2)), 0, 10)]
                spec = session_spec(
                    label,
                    str(s),
                    spec_run.condition,
                    ts,
                    cs,
                    pdt_s=float(np.round(rng.uniform(3.0, 15.0), 1)) if cold else None,
                    ptt_s=float(np.round(rng.uniform(20.0, 160.0), 1)) if cold else None,
                    task=spec_run.task,
                    run=spec_run.run,
                )
                write_run(root, spec)
    return pd.DataFrame(truth)
