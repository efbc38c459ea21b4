"""Synthetic CPM sessions with known effects (for tests and benchmarks), written like real ones.

A run is built as the journal events a session would emit (checked against the declared
event vocabulary by the bus), written as a journal, and turned into BIDS files by the real
writer (cpmlab.storage.bids.write_bids), so the scoring is always tested on what a real
session writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpmlab import __version__
from cpmlab.core import events as ev
from cpmlab.core.errors import CpmlabError
from cpmlab.storage.bids import ensure_dataset_files, write_bids
from cpmlab.storage.journal import write_journal
from cpmlab.storage.paths import SessionPaths

LAB = "synthetic"
PLATEAU_S = 20.0
RAMP_S = 3.5
RATING_S = 2.5  # time from rating-screen onset to the answer (or the timeout)
BASELINE_C = 32.0
PTT_LIMIT_S = 120.0
TS_ONSETS = {"before": (100.0, 140.0), "during": (205.0, 245.0), "after": (320.0, 360.0)}
CS_RATING_ONSETS = (235.0, 280.0)
IMMERSION_ONSET_S, IMMERSION_S = 200.0, 90.0
CPT_ONSET_S = 420.0
RECORDING_END_S = 400.0


@dataclass
class RunSpec:
    """One run: its labels and the journal events (t in seconds from session start) it is written from."""

    participant: str
    session: str
    task: str = "cpm"
    run: int = 1
    events: list[ev.Event] = field(default_factory=list)
    recovered: bool = False

    def add(self, kind: str, t: float, **data: Any) -> None:
        """Append one event (checked against its kind's declaration when the run is written)."""
        self.events.append(ev.Event(kind, float(t), data))


def write_dataset_files(root: Path, participants: Sequence[str]) -> None:
    """Write dataset_description.json, README and participants.tsv/json at the dataset root."""
    root.mkdir(parents=True, exist_ok=True)
    ensure_dataset_files(root, None, LAB)
    for label in sorted(set(participants)):
        ensure_dataset_files(root, label, LAB)


def write_run(root: Path, spec: RunSpec) -> list[Path]:
    """Journal the run's events through the bus and write its BIDS files with the real writer."""
    if not spec.session:
        raise CpmlabError("a synthetic run needs a session label, as every recorded session has one")
    paths = SessionPaths.create(root, spec.participant, spec.session, spec.task, spec.run)
    journal: list[ev.Event] = []
    bus = ev.EventBus()
    bus.subscribe(journal.append, critical=True)
    for event in sorted(spec.events, key=lambda e: e.t):  # stable: same-time events keep their order
        bus.publish(event)
    write_journal(paths.journal, journal)
    return write_bids(paths, recovered=spec.recovered).files


def _heat(spec: RunSpec, onset: float, target_c: float, phase: str, rep: int) -> None:
    rate = (target_c - BASELINE_C) / RAMP_S
    info = {
        "step_id": f"ts_{phase}",
        "step_type": "thermal",
        "role": "test_stimulus",
        "phase": phase,
        "rep": rep,
        "target_c": target_c,
        "baseline_c": BASELINE_C,
        "plateau_s": PLATEAU_S,
        "ramp_c_per_s": rate,
        "return_c_per_s": rate,
        "zones": [1, 2, 3, 4, 5],
    }
    for stage, at in (("ramp_start", 0.0), ("plateau_start", RAMP_S), ("return_start", RAMP_S + PLATEAU_S)):
        spec.add(ev.STIMULUS, onset + at, stage=stage, **info)
    spec.add(ev.STIMULUS, onset + 2 * RAMP_S + PLATEAU_S, stage="end", **info)


def _rating(spec: RunSpec, onset: float, value: float | None, **fields: Any) -> None:
    spec.add(ev.RATING_ONSET, onset, **fields)
    answered = value is not None
    spec.add(
        ev.RATING,
        onset + RATING_S,
        value=value,
        onset_t=onset,
        rt_s=RATING_S if answered else None,
        input="simulated" if answered else "none",
        **fields,
    )


def _immersion(
    spec: RunSpec, step_id: str, role: str, onset: float, spent_s: float, setpoint_c: float, **end: Any
) -> None:
    info = {"step_id": step_id, "step_type": "immersion", "role": role, "phase": "none", "setpoint_c": setpoint_c}
    spec.add(ev.IMMERSION, onset, stage="immersion_start", limb="hand", **info)
    spec.add(ev.IMMERSION, onset + spent_s, stage="immersion_end", duration_s=spent_s, **info, **end)


def session_spec(
    participant: str,
    session: str,
    condition: str,
    ts: dict[str, list[float | None]],
    cs: list[float | None],
    *,
    target_c: float = 46.0,
    hpt_trials_c: Sequence[float] = (),
    pdt_s: float | None = None,
    ptt_s: float | None = None,
    outcome: str = "completed",
    recordings: Sequence[str] = (),
    ts_scale: str = "vas",
    cs_scale: str = "nrs",
    task: str = "cpm",
    run: int = 1,
    recovered: bool = False,
) -> RunSpec:
    """Build a run: TS ratings per phase (None = no answer), CS ratings, thresholds and recordings.

    outcome 'incomplete' leaves the session without an end (as a crash would).
    """
    spec = RunSpec(participant, session, task, run, recovered=recovered)
    spec.add(
        ev.SESSION_START,
        0.0,
        protocol=f"synthetic_{condition}",
        protocol_title="synthetic CPM session",
        task=task,
        speed=1.0,
        condition=condition,
        seed=0,
        participant=participant,
        session=session,
        run=run,
        software_version=__version__,
        lab=LAB,
    )
    setpoint = 10.0 if condition == "active" else 33.0
    for phase, values in ts.items():
        for rep, value in enumerate(values, start=1):
            onset = TS_ONSETS[phase][(rep - 1) % 2] + 80.0 * ((rep - 1) // 2)
            _heat(spec, onset, target_c, phase, rep)
            rating = {"step_id": f"ts_{phase}_rating", "rates": f"ts_{phase}", "about": "heat"}
            _rating(
                spec,
                onset + 2 * RAMP_S + PLATEAU_S + 1.0,
                value,
                **rating,
                role="test_stimulus",
                phase=phase,
                rep=rep,
                scale=ts_scale,
                stimulus_c=target_c,
            )
    if cs:
        _immersion(spec, "cs", "conditioning", IMMERSION_ONSET_S, IMMERSION_S, setpoint, reason="time", censored=False)
    for i, value in enumerate(cs):
        fields = {"step_id": "cs", "rates": "cs", "about": "cold", "role": "conditioning", "phase": "during"}
        _rating(spec, CS_RATING_ONSETS[i % 2] + i // 2, value, **fields, scale=cs_scale)
    spec.add(
        ev.MEASURE,
        70.0,
        measure="calibration_result",
        value=target_c,
        unit="degC",
        step_id="calib",
        method="staircase",
        stopped_by="reversals",
        variable="ts_target_c",
        fallback=False,
        censored=False,
    )
    spec.add(ev.VARIABLE, 70.0, name="ts_target_c", value=target_c, source="calib", method="staircase", fallback=False)
    _thresholds(spec, hpt_trials_c, pdt_s, ptt_s)
    _add_recordings(spec, ts, target_c, setpoint, recordings)
    if outcome != "incomplete":
        end_t = max(e.t for e in spec.events) + 1.0
        spec.add(ev.SESSION_END, end_t, outcome=outcome, variables={"ts_target_c": target_c})
    return spec


def _thresholds(spec: RunSpec, hpt_trials_c: Sequence[float], pdt_s: float | None, ptt_s: float | None) -> None:
    for i, value in enumerate(hpt_trials_c):
        trial = {"step_id": "hpt", "trial": i + 1, "unit": "degC"}
        spec.add(ev.MEASURE, 10.0 + 15 * i, measure="threshold_trial", value=value, censored=False, **trial)
    if hpt_trials_c:
        n = len(hpt_trials_c)
        mean_c = float(np.mean(hpt_trials_c))
        result = {"step_id": "hpt", "unit": "degC", "n_valid": n, "n_trials": n, "censored": False}
        spec.add(ev.MEASURE, 60.0, measure="threshold_result", value=mean_c, **result)
    if ptt_s is None:
        return
    censored = ptt_s >= PTT_LIMIT_S
    spent = min(ptt_s, PTT_LIMIT_S)
    reason = "time" if censored else "withdrawal"
    _immersion(spec, "cpt", "threshold", CPT_ONSET_S, spent, 4.0, reason=reason, censored=censored)
    limit = {"step_id": "cpt", "unit": "s", "limit_s": PTT_LIMIT_S}
    if pdt_s is not None:
        detected = pdt_s < spent
        at = CPT_ONSET_S + min(pdt_s, spent)
        value = min(pdt_s, spent) if detected else None
        spec.add(ev.MEASURE, at, measure="cold_pain_detection", value=value, censored=not detected, **limit)
    tolerance = {"measure": "cold_pain_tolerance", "value": spent, "censored": censored}
    spec.add(ev.MEASURE, CPT_ONSET_S + spent, **tolerance, **limit)


def _add_recordings(
    spec: RunSpec, ts: dict[str, list[float | None]], target_c: float, setpoint_c: float, which: Sequence[str]
) -> None:
    """Add device readings and continuous-rating samples as the engine journals them."""
    times = np.round(np.arange(0.0, RECORDING_END_S, 0.1), 4)
    plateaus = [
        (e.t, e.t + PLATEAU_S, e.data["phase"], e.data["rep"])
        for e in spec.events
        if e.kind == ev.STIMULUS and e.data["stage"] == "plateau_start"
    ]
    if "covas" in which:
        t = times[times >= 90.0]
        covas = np.zeros_like(t)
        for a, b, phase, rep in plateaus:
            level = ts[phase][rep - 1]
            covas[(t >= a) & (t <= b)] = 0.0 if level is None else float(level)
        for at, value in zip(t.tolist(), covas.tolist(), strict=True):
            spec.add(ev.CONTINUOUS_SAMPLE, at, step_id="covas", scale="vas", value=value)
    if "thermode" in which:
        temp = np.full_like(times, BASELINE_C)
        for a, b, _, _ in plateaus:
            up = (times >= a - RAMP_S) & (times < a)
            temp[up] = BASELINE_C + (target_c - BASELINE_C) * (times[up] - (a - RAMP_S)) / RAMP_S
            temp[(times >= a) & (times <= b)] = target_c
            down = (times > b) & (times <= b + RAMP_S)
            temp[down] = target_c - (target_c - BASELINE_C) * (times[down] - b) / RAMP_S
        for at, zone_c in zip(times.tolist(), np.round(temp, 2).tolist(), strict=True):
            spec.add(ev.READING, at, device="thermode", neutral_c=BASELINE_C, zones_c=[zone_c] * 5)
    if "bath" in which:
        t = np.arange(0.0, RECORDING_END_S, 1.0)
        bath = setpoint_c + 0.1 * np.sin(t / 7.0)
        inside = (t >= IMMERSION_ONSET_S) & (t <= IMMERSION_ONSET_S + IMMERSION_S)
        bath[inside] += 0.6 * np.exp(-(t[inside] - IMMERSION_ONSET_S) / 20.0)
        for at, bath_c in zip(t.tolist(), np.round(bath, 3).tolist(), strict=True):
            spec.add(ev.READING, at, device="cold_pressor", bath_c=bath_c)


def generate_dataset(
    root: str | Path,
    n_participants: int,
    n_sessions: int = 2,
    *,
    conditions: Sequence[str] = ("active", "sham"),
    effect_active: float = -15.0,
    effect_sham: float = -3.0,
    trait_sd: float = 6.0,
    noise_sd: float = 5.0,
    seed: int = 0,
    recordings: Sequence[str] = ("covas", "thermode", "bath"),
) -> pd.DataFrame:
    """Write N participants x S sessions (session i has conditions[i % len]); return the true phase means.

    Late and early effects are drawn around effect_active / effect_sham (VAS points, negative =
    inhibition) with a per-participant trait (trait_sd) and rating noise (noise_sd). The returned
    table holds, per run, the means of the ratings exactly as written.
    """
    rng = np.random.default_rng(seed)
    root = Path(root)
    labels = [f"{i + 1:0{max(3, len(str(n_participants)))}d}" for i in range(n_participants)]
    write_dataset_files(root, labels)
    truth = []
    for label in labels:
        base = rng.uniform(35.0, 70.0)
        trait = rng.normal(0.0, trait_sd)
        hpt = rng.uniform(41.0, 45.0)
        for s in range(n_sessions):
            condition = conditions[s % len(conditions)]
            mean_effect = (effect_active if condition == "active" else effect_sham) + trait
            before = [float(v) for v in np.clip(np.round(base + rng.normal(0, noise_sd, 2), 1), 0, 100)]
            during = [float(v) for v in np.clip(np.round(base + mean_effect + rng.normal(0, noise_sd, 2), 1), 0, 100)]
            after = [
                float(v) for v in np.clip(np.round(base + 0.7 * mean_effect + rng.normal(0, noise_sd, 2), 1), 0, 100)
            ]
            cs = [float(v) for v in np.clip(np.round(rng.normal(6.0 if condition == "active" else 1.0, 1.0, 2)), 0, 10)]
            trials = [float(v) for v in np.round(hpt + rng.normal(0, 0.5, 3), 2)]
            ptt = float(np.round(rng.uniform(20.0, 160.0), 1))
            pdt = float(np.round(rng.uniform(3.0, 15.0), 1))
            spec = session_spec(
                label,
                str(s + 1),
                condition,
                {"before": before, "during": during, "after": after},
                list(cs),
                target_c=float(np.round(hpt + 2.5, 1)),
                hpt_trials_c=trials,
                pdt_s=pdt,
                ptt_s=ptt,
                recordings=recordings,
            )
            write_run(root, spec)
            truth.append(
                {
                    "participant_id": f"sub-{label}",
                    "session_id": f"ses-{s + 1}",
                    "condition": condition,
                    "ts_before_mean": float(np.mean(before)),
                    "ts_during_mean": float(np.mean(during)),
                    "ts_after_mean": float(np.mean(after)),
                    "cs_mean": float(np.mean(cs)),
                    "hpt_c": float(np.mean(trials)),
                    "ptt_s": min(ptt, PTT_LIMIT_S),
                    "ptt_censored": ptt >= PTT_LIMIT_S,
                }
            )
    return pd.DataFrame(truth)
