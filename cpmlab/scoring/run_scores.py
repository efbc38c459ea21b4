"""Score one run: CPM effects, CS ratings, calibration, thresholds, continuous ratings and flags."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cpmlab.scoring.continuous import plateau_summaries
from cpmlab.scoring.dataset import Run
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.session import cs_scores, ts_cpm_scores
from cpmlab.scoring.thresholds import calibration, cold_pressor_times, heat_pain_threshold


def _flags(run: Run, s: dict[str, Any]) -> list[str]:
    flags = []
    if run.outcome != "completed":
        flags.append(run.outcome)  # aborted, emergency_stopped, failed, incomplete: scored as far as possible
    if run.recovered:
        flags.append("recovered")
    has_ts = any(s[f"ts_{p}_n"] + s[f"ts_{p}_missing"] for p in ("before", "during", "after"))
    if (sum(s[f"ts_{p}_missing"] for p in ("before", "during", "after")) + s["cs_missing"]) > 0:
        flags.append("missing_ratings")
    if s["ts_mixed_scales"]:
        flags.append("mixed_scales")
    if s["cs_mixed_scales"]:
        flags.append("cs_mixed_scales")
    if has_ts and not s["ts_mixed_scales"]:
        if s["ts_before_mean"] is None:
            flags.append("no_baseline")
        if s["ts_during_mean"] is None and s["ts_after_mean"] is None:
            flags.append("no_conditioned_ratings")
        if s["ts_before_mean"] == 0 and (s["ts_during_mean"] is not None or s["ts_after_mean"] is not None):
            flags.append("zero_baseline")
    if s["hpt_result_mismatch"]:
        flags.append("threshold_result_mismatch")
    if run.legacy_events:
        flags.append("old_events_format")
    return flags


def score_run(run: Run, options: ScoringOptions | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Return the run's score row and its per-plateau continuous rating summaries."""
    options = options or ScoringOptions()
    ts_c = pd.to_numeric(
        run.ratings.loc[(run.ratings["about"] == "heat") & (run.ratings["role"] == "test_stimulus"), "stimulus_c"]
        if "stimulus_c" in run.ratings
        else pd.Series(dtype=float),
        errors="coerce",
    ).dropna()
    plateaus = plateau_summaries(run.events, run.recording("covas", "physio"))
    s: dict[str, Any] = {
        "participant_id": f"sub-{run.participant}",
        "session_id": f"ses-{run.session}" if run.session else None,
        "task": run.task,
        "run": run.run,
        "condition": run.condition,
        "outcome": run.outcome,
        "recovered": run.recovered,
        "protocol": run.meta.get("protocol"),
        **ts_cpm_scores(run.ratings, options),
        **cs_scores(run.ratings, options),
        "ts_stimulus_c": float(ts_c.median()) if len(ts_c) else None,
        **calibration(run.events),
        **heat_pain_threshold(run.events),
        **cold_pressor_times(run.events),
        "covas_n_plateaus": len(plateaus),
    }
    if run.legacy_events:  # which trials were censored or discarded is not in the file: do not guess
        s.update(hpt_c=None, hpt_n_trials=None, hpt_n_invalid=None, hpt_result_mismatch=None)
        s.update(pdt_censored=None, ptt_censored=None, calibration_fallback=None)
    s["flags"] = ";".join(_flags(run, s)) or None
    s["sign_convention"] = options.sign
    return s, plateaus
