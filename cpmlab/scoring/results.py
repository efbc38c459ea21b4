"""What a run found, from its journal: calibrated temperature, threshold, PDT/PTT, and where it stopped."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cpmlab.core import events as ev

ENDED_EARLY = ("aborted", "emergency_stopped", "failed")


@dataclass(frozen=True)
class StoppedAt:
    """Where and why a run ended early."""

    step_id: str | None
    reason: str


@dataclass(frozen=True)
class Calibrated:
    """A calibration's result and, where the method gives one, its uncertainty."""

    variable: str | None
    value_c: float | None
    method: str
    stopped_by: str | None
    fallback: bool
    censored: bool
    uncertainty_c: float | None = None
    uncertainty_kind: str | None = None  # what the uncertainty is, e.g. "SD of 4 reversals"


@dataclass(frozen=True)
class ColdTime:
    """A cold-pressor time from immersion onset; censored when the limit was reached first."""

    seconds: float | None
    censored: bool
    limit_s: float | None


@dataclass
class RunResults:
    """The results each kind of protocol exists for."""

    outcome: str = "incomplete"
    calibrations: list[Calibrated] = field(default_factory=list)
    hpt_c: float | None = None
    hpt_valid: int | None = None
    hpt_trials: int | None = None
    pdt: ColdTime | None = None
    ptt: ColdTime | None = None
    stopped: StoppedAt | None = None


def _staircase_sd(details: dict[str, Any]) -> tuple[float | None, str | None]:
    reversals = [float(r) for r in details.get("reversals_c") or []]
    if len(reversals) < 2:
        return None, None
    return float(np.std(reversals, ddof=1)), f"SD of {len(reversals)} reversals"


def _fit_se(details: dict[str, Any], value_c: float) -> tuple[float | None, str | None]:
    """Standard error of the temperature read off a line fit (inverse prediction), in degC."""
    points = [(float(t), float(r)) for t, r in details.get("trials") or [] if r is not None]
    if len(points) < 3 or len({t for t, _ in points}) < 2:
        return None, None
    temps, ratings = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    slope, intercept = np.polyfit(temps, ratings, 1)  # raw rating units: the scale cancels out below
    if slope <= 0:
        return None, None
    residual_sd = math.sqrt(float(np.sum((ratings - (intercept + slope * temps)) ** 2)) / (len(points) - 2))
    sxx = float(np.sum((temps - temps.mean()) ** 2))
    se = residual_sd / slope * math.sqrt(1 / len(points) + (value_c - temps.mean()) ** 2 / sxx)
    return float(se), f"SE of the line fit over {len(points)} ratings"


def _calibrated(rec: dict[str, Any]) -> Calibrated:
    value = rec.get("value")
    method = str(rec.get("method") or "calibration")
    uncertainty: tuple[float | None, str | None] = (None, None)
    if value is not None and not rec.get("fallback"):
        if method == "staircase":
            uncertainty = _staircase_sd(rec)
        elif method == "fit":
            uncertainty = _fit_se(rec, float(value))
    return Calibrated(
        rec.get("variable"),
        None if value is None else float(value),
        method,
        rec.get("stopped_by"),
        bool(rec.get("fallback")),
        bool(rec.get("censored")),
        *uncertainty,
    )


def run_results(records: Iterable[dict[str, Any]]) -> RunResults:
    """Collect a run's results from its journal records."""
    out = RunResults()
    last_step: str | None = None
    for rec in records:
        kind = rec.get("kind")
        if kind == ev.STEP_START:
            last_step = rec.get("step_id") or rec.get("path") or last_step
        elif kind == ev.MEASURE:
            name = rec.get("measure")
            if name == "calibration_result":
                out.calibrations.append(_calibrated(rec))
            elif name == "threshold_result":
                out.hpt_c = rec.get("value")
                out.hpt_valid, out.hpt_trials = rec.get("n_valid"), rec.get("n_trials")
            elif name in ("cold_pain_detection", "cold_pain_tolerance"):
                time = ColdTime(rec.get("value"), bool(rec.get("censored")), rec.get("limit_s"))
                if name == "cold_pain_detection" and out.pdt is None:
                    out.pdt = time
                elif name == "cold_pain_tolerance" and out.ptt is None:
                    out.ptt = time
        elif kind == ev.CONTROL and rec.get("action") in ("abort", "emergency_stop") and out.stopped is None:
            reason = rec.get("reason") or str(rec["action"]).replace("_", " ")
            out.stopped = StoppedAt(last_step, f"{reason} ({rec.get('source', 'operator')})")
        elif kind == ev.FAULT and out.stopped is None and rec.get("device") == "engine":
            out.stopped = StoppedAt(rec.get("step_id") or last_step, str(rec.get("message", "fault")))
        elif kind == ev.SESSION_END:
            out.outcome = str(rec.get("outcome", "incomplete"))
    if out.outcome not in ENDED_EARLY:
        out.stopped = None
    elif out.stopped is None:
        out.stopped = StoppedAt(last_step, out.outcome.replace("_", " "))
    return out


def _seconds(time: ColdTime) -> str:
    if time.seconds is None:
        return "n/a"
    text = f"{time.seconds:.1f} s"
    return text + (f" (censored at the {time.limit_s:g} s limit)" if time.censored and time.limit_s else "")


def format_results(results: RunResults) -> str:
    """Return the protocol results as text lines (empty when the run measured none of them)."""
    lines = []
    for cal in results.calibrations:
        name = cal.variable or "calibrated temperature"
        if cal.value_c is None:
            lines.append(f"calibration ({cal.method}): no temperature found ({cal.stopped_by or 'ended'})")
            continue
        text = f"calibrated {name}: {cal.value_c:.1f} °C"
        if cal.uncertainty_c is not None:
            text += f" ± {cal.uncertainty_c:.2f} °C ({cal.uncertainty_kind})"
        notes = [cal.method] + (["FALLBACK value"] if cal.fallback else []) + (["censored"] if cal.censored else [])
        lines.append(f"{text}  [{', '.join(notes)}]")
    if results.hpt_c is not None:
        valid = f" (mean of {results.hpt_valid} valid of {results.hpt_trials} trials)" if results.hpt_trials else ""
        lines.append(f"heat pain threshold: {results.hpt_c:.2f} °C{valid}")
    if results.pdt is not None:
        lines.append(f"cold pain detection time: {_seconds(results.pdt)}")
    if results.ptt is not None:
        lines.append(f"cold pain tolerance time: {_seconds(results.ptt)}")
    if results.stopped is not None:
        where = f" at step {results.stopped.step_id}" if results.stopped.step_id else ""
        lines.append(f"ENDED EARLY ({results.outcome.replace('_', ' ')}){where}: {results.stopped.reason}")
    return "\n".join(lines)


def format_run_summary(ratings: Any, records: Iterable[dict[str, Any]]) -> str:
    """Return the end-of-run summary: each protocol result, then the CPM lines when test stimuli were rated."""
    from cpmlab.scoring.summary import format_summary

    parts = [format_results(run_results(records))]
    has_ts = (
        ratings is not None and not ratings.empty and "role" in ratings and (ratings["role"] == "test_stimulus").any()
    )
    if has_ts:
        parts.append(format_summary(ratings))
    return "\n".join(p for p in parts if p)
