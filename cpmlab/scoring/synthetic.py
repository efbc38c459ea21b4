"""Synthetic BIDS datasets in cpmlab's format with known CPM effects (for tests and benchmarks)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpmlab import __version__
from cpmlab.storage import bids_meta as meta

EVENT_FIELDS = list(meta.EVENTS_COLUMNS)
BEH_FIELDS = list(meta.BEH_COLUMNS)
PLATEAU_S = 20.0
RAMP_S = 3.5
PTT_LIMIT_S = 120.0


@dataclass
class RecordingSpec:
    """A continuous recording to write: samples at start_s + i / hz."""

    suffix: str  # stim or physio
    columns: list[str]
    hz: float
    start_s: float
    values: np.ndarray  # samples x columns; NaN -> n/a


@dataclass
class RunSpec:
    """Everything needed to write one run's BIDS files."""

    participant: str
    session: str | None
    task: str = "cpm"
    run: int = 1
    ratings: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    recordings: dict[str, RecordingSpec] = field(default_factory=dict)

    @property
    def stem(self) -> str:
        """sub-X[_ses-Y]_task-T_run-N."""
        ses = f"_ses-{self.session}" if self.session else ""
        return f"sub-{self.participant}{ses}_task-{self.task}_run-{self.run}"

    @property
    def beh_dir(self) -> Path:
        """sub-X[/ses-Y]/beh relative to the dataset root."""
        return Path(f"sub-{self.participant}", *([f"ses-{self.session}"] if self.session else []), "beh")


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float | np.floating) and np.isnan(v)):
        return "n/a"
    if isinstance(v, float | np.floating):
        return repr(round(float(v), 4))
    return str(v).replace("\t", " ").replace("\n", " ")


def _tsv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    lines = ["\t".join(columns)] + ["\t".join(_cell(r.get(c)) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def _json(obj: Any) -> str:
    return json.dumps(obj, indent=2) + "\n"


def write_dataset_files(root: Path, participants: Sequence[str]) -> None:
    """Write dataset_description.json, README and participants.tsv/json at the dataset root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dataset_description.json").write_text(
        _json(
            {
                "Name": "cpmlab synthetic CPM dataset",
                "Authors": ["cpmlab"],
                "BIDSVersion": meta.BIDS_VERSION,
                "DatasetType": "raw",
                "GeneratedBy": [{"Name": "cpmlab", "Version": __version__, "Description": "cpmlab.scoring.synthetic"}],
            }
        )
    )
    (root / "README").write_text(meta.README_TEXT)
    (root / "participants.json").write_text(_json(meta.PARTICIPANTS_JSON))
    (root / "participants.tsv").write_text(
        _tsv([{"participant_id": f"sub-{p}"} for p in sorted(set(participants))], ["participant_id"])
    )


def write_run(root: Path, spec: RunSpec) -> list[Path]:
    """Write one run's _events, _beh (+ sidecars) and recordings as cpmlab's BIDS writer lays them out."""
    folder = root / spec.beh_dir
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / spec.stem
    ratings = [{"trial": i, **r} for i, r in enumerate(spec.ratings, start=1)]
    for r in ratings:
        r.setdefault("scale_max", {"vas": 100, "nrs": 10}.get(str(r.get("scale"))))
    events = sorted(spec.events, key=lambda e: (e["onset"], e["trial_type"]))
    files = {
        Path(f"{stem}_events.tsv"): _tsv(events, EVENT_FIELDS),
        Path(f"{stem}_events.json"): _json(
            {**meta.EVENTS_COLUMNS, "StimulusPresentation": {"SoftwareName": "cpmlab", "SoftwareVersion": __version__}}
        ),
        Path(f"{stem}_beh.tsv"): _tsv(ratings, BEH_FIELDS),
        Path(f"{stem}_beh.json"): _json(
            {"TaskName": spec.task, "TaskDescription": "synthetic CPM session", **meta.BEH_COLUMNS, "cpmlab": spec.meta}
        ),
    }
    for path, text in files.items():
        path.write_text(text)
    written = list(files)
    for label, rec in spec.recordings.items():
        body = "\n".join("\t".join("n/a" if np.isnan(x) else f"{x:.3f}" for x in row) for row in rec.values) + "\n"
        data_path = Path(f"{stem}_recording-{label}_{rec.suffix}.tsv.gz")
        data_path.write_bytes(gzip.compress(body.encode(), compresslevel=1, mtime=0))
        side = meta.recording_sidecar(rec.columns, rec.hz, rec.start_s, f"synthetic {label}", "rating units")
        data_path.with_name(data_path.name.replace(".tsv.gz", ".json")).write_text(_json(side))
        written += [data_path, data_path.with_name(data_path.name.replace(".tsv.gz", ".json"))]
    return written


def _heat(onset: float, target_c: float, step: str, role: str, phase: str, rep: int) -> list[dict[str, Any]]:
    common = {"step_id": step, "role": role, "phase": phase, "rep": rep, "stimulus_c": target_c}
    return [
        {"onset": onset, "duration": 2 * RAMP_S + PLATEAU_S, "trial_type": "heat_stimulus", **common},
        {"onset": onset, "duration": RAMP_S, "trial_type": "heat_ramp", **common},
        {"onset": onset + RAMP_S, "duration": PLATEAU_S, "trial_type": "heat_plateau", **common},
        {"onset": onset + RAMP_S + PLATEAU_S, "duration": RAMP_S, "trial_type": "heat_return", **common},
    ]


TS_ONSETS = {"before": (100.0, 140.0), "during": (205.0, 245.0), "after": (320.0, 360.0)}
CS_RATING_ONSETS = (235.0, 280.0)
IMMERSION_ONSET_S, IMMERSION_S = 200.0, 90.0


def session_spec(
    participant: str,
    session: str | None,
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
    """Build a run: TS ratings per phase (None = no answer), CS ratings, thresholds and recordings."""
    spec = RunSpec(
        participant,
        session,
        task,
        run,
        meta={
            "protocol": f"synthetic_{condition}",
            "task": task,
            "speed": 1.0,
            "condition": condition,
            "outcome": outcome,
            "recovered_from_journal": recovered,
        },
    )
    setpoint = 10.0 if condition == "active" else 33.0
    rows: list[tuple[float, dict[str, Any]]] = []
    for phase, values in ts.items():
        for rep, value in enumerate(values, start=1):
            onset = TS_ONSETS[phase][(rep - 1) % 2] + 80.0 * ((rep - 1) // 2)
            spec.events += _heat(onset, target_c, f"ts_{phase}", "test_stimulus", phase, rep)
            rows.append(
                (
                    onset + 2 * RAMP_S + PLATEAU_S + 1.0,
                    {
                        "step_id": f"ts_{phase}_rating",
                        "rates": f"ts_{phase}",
                        "about": "heat",
                        "role": "test_stimulus",
                        "phase": phase,
                        "rep": rep,
                        "scale": ts_scale,
                        "rating": value,
                        "stimulus_c": target_c,
                        "response_time": None if value is None else 2.5,
                        "input": "simulated" if value is not None else "none",
                    },
                )
            )
    if cs:
        spec.events.append(
            {
                "onset": IMMERSION_ONSET_S,
                "duration": IMMERSION_S,
                "trial_type": "cold_immersion",
                "step_id": "cs",
                "role": "conditioning",
                "phase": "none",
                "stimulus_c": setpoint,
                "detail": "ended by time",
            }
        )
    for i, value in enumerate(cs):
        rows.append(
            (
                CS_RATING_ONSETS[i % 2] + i // 2,
                {
                    "step_id": "cs",
                    "rates": "cs",
                    "about": "cold",
                    "role": "conditioning",
                    "phase": "during",
                    "scale": cs_scale,
                    "rating": value,
                    "input": "simulated" if value is not None else "none",
                },
            )
        )
    rows.sort(key=lambda r: r[0])
    for onset, r in rows:
        spec.ratings.append({"onset": onset, **r})
        spec.events.append(
            {
                "onset": onset,
                "duration": 2.5,
                "trial_type": "rating",
                "step_id": r["step_id"],
                "role": r["role"],
                "phase": r["phase"],
                "rep": r.get("rep"),
                "value": r["rating"],
                "stimulus_c": r.get("stimulus_c"),
                "detail": f"{r['scale']} rating of {r['rates']}",
            }
        )
    spec.events.append(
        {
            "onset": 70.0,
            "duration": 0.0,
            "trial_type": "calibration_result",
            "step_id": "calib",
            "role": "calibration",
            "value": target_c,
            "stimulus_c": target_c,
            "detail": "staircase to Pain-60",
        }
    )
    for i, value in enumerate(hpt_trials_c):
        spec.events.append(
            {
                "onset": 10.0 + 15 * i,
                "duration": 5.0,
                "trial_type": "threshold_trial",
                "step_id": "hpt",
                "role": "threshold",
                "rep": i + 1,
                "value": value,
            }
        )
    if hpt_trials_c:
        spec.events.append(
            {
                "onset": 60.0,
                "duration": 0.0,
                "trial_type": "threshold_result",
                "step_id": "hpt",
                "role": "threshold",
                "value": float(np.mean(hpt_trials_c)),
            }
        )
    if ptt_s is not None:
        censored = ptt_s >= PTT_LIMIT_S
        spent = min(ptt_s, PTT_LIMIT_S)
        spec.events.append(
            {
                "onset": 420.0,
                "duration": spent,
                "trial_type": "cold_immersion",
                "step_id": "cpt",
                "role": "threshold",
                "stimulus_c": 4.0,
                "detail": "ended by time; censored at the limit" if censored else "ended by withdrawal",
            }
        )
        spec.events.append(
            {
                "onset": 420.0 + spent,
                "duration": 0.0,
                "trial_type": "cold_pain_tolerance",
                "step_id": "cpt",
                "role": "threshold",
                "value": spent,
                "detail": "censored at the limit" if censored else None,
            }
        )
        if pdt_s is not None:
            spec.events.append(
                {
                    "onset": 420.0 + min(pdt_s, spent),
                    "duration": 0.0,
                    "trial_type": "cold_pain_detection",
                    "step_id": "cpt",
                    "role": "threshold",
                    "value": min(pdt_s, spent),
                    "detail": "censored at the limit" if pdt_s >= spent and censored else None,
                }
            )
    _add_recordings(spec, ts, target_c, setpoint, recordings)
    return spec


def _add_recordings(
    spec: RunSpec, ts: dict[str, list[float | None]], target_c: float, setpoint_c: float, which: Sequence[str]
) -> None:
    hz = 10.0
    times = np.arange(0.0, 400.0, 1.0 / hz)
    plateaus = [
        (e["onset"], e["onset"] + e["duration"], e["phase"], e["rep"])
        for e in spec.events
        if e["trial_type"] == "heat_plateau"
    ]
    if "covas" in which:
        start = 90.0
        t = times[times >= start]
        covas = np.zeros_like(t)
        for a, b, phase, rep in plateaus:
            level = ts[phase][rep - 1]
            covas[(t >= a) & (t <= b)] = 0.0 if level is None else float(level)
        spec.recordings["covas"] = RecordingSpec("physio", list(meta.CONTINUOUS_COLUMNS), hz, start, covas[:, None])
    if "thermode" in which:
        temp = np.full_like(times, 32.0)
        for a, b, _, _ in plateaus:
            up = (times >= a - RAMP_S) & (times < a)
            temp[up] = 32.0 + (target_c - 32.0) * (times[up] - (a - RAMP_S)) / RAMP_S
            temp[(times >= a) & (times <= b)] = target_c
            down = (times > b) & (times <= b + RAMP_S)
            temp[down] = target_c - (target_c - 32.0) * (times[down] - b) / RAMP_S
        values = np.column_stack([np.full_like(times, 32.0)] + [temp] * 5)
        spec.recordings["thermode"] = RecordingSpec("stim", list(meta.THERMODE_COLUMNS), hz, 0.0, values)
    if "bath" in which:
        t = np.arange(0.0, 400.0, 1.0)
        bath = setpoint_c + 0.1 * np.sin(t / 7.0)
        inside = (t >= IMMERSION_ONSET_S) & (t <= IMMERSION_ONSET_S + IMMERSION_S)
        bath[inside] += 0.6 * np.exp(-(t[inside] - IMMERSION_ONSET_S) / 20.0)
        spec.recordings["bath"] = RecordingSpec("stim", list(meta.BATH_COLUMNS), 1.0, 0.0, bath[:, None])


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
            before = list(np.clip(np.round(base + rng.normal(0, noise_sd, 2), 1), 0, 100))
            during = list(np.clip(np.round(base + mean_effect + rng.normal(0, noise_sd, 2), 1), 0, 100))
            after = list(np.clip(np.round(base + 0.7 * mean_effect + rng.normal(0, noise_sd, 2), 1), 0, 100))
            cs = list(np.clip(np.round(rng.normal(6.0 if condition == "active" else 1.0, 1.0, 2)), 0, 10))
            trials = list(np.round(hpt + rng.normal(0, 0.5, 3), 2))
            ptt = float(np.round(rng.uniform(20.0, 160.0), 1))
            pdt = float(np.round(rng.uniform(3.0, 15.0), 1))
            spec = session_spec(
                label,
                str(s + 1),
                condition,
                {"before": before, "during": during, "after": after},
                cs,
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
