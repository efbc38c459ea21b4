"""Per-session test-stimulus CPM effects and conditioning-stimulus ratings from the ratings table."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.scales import scaled_ratings

PHASES = ("before", "during", "after")
EFFECTS = {"early": "during", "late": "after"}  # early = parallel (during CS), late = after CS


def _num(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def phase_means(ratings: pd.DataFrame, options: ScoringOptions | None = None) -> dict[str, Any]:
    """Return mean, n and missing count of test-stimulus ratings per phase, on one scale."""
    options = options or ScoringOptions()
    ts = ratings[(ratings["about"] == "heat") & (ratings["role"] == "test_stimulus")]
    scaled = scaled_ratings(ts, options)
    out: dict[str, Any] = {"ts_scale": scaled.scale, "ts_range": scaled.range, "ts_mixed_scales": scaled.mixed}
    phase = ts.loc[scaled.values.index, "phase"]
    for p in PHASES:
        values = scaled.values[phase == p]
        valid = values.dropna()
        out[f"ts_{p}_n"] = len(valid)
        out[f"ts_{p}_missing"] = len(values) - len(valid)
        out[f"ts_{p}_mean"] = None if scaled.mixed or valid.empty else float(valid.mean())
    return out


def effect(before: float | None, x: float | None, options: ScoringOptions) -> tuple[float | None, float | None]:
    """Return the (absolute, percent) CPM effect of x against before in the chosen sign convention."""
    if before is None or x is None:
        return None, None
    absolute = options.factor * (x - before)
    percent = None if before == 0 else options.factor * 100.0 * (x - before) / before
    return absolute, percent


def direction(before: float | None, x: float | None) -> str | None:
    """Return inhibition (less pain with conditioning), facilitation, none, or None if unknown."""
    if before is None or x is None:
        return None
    return "inhibition" if x < before else "facilitation" if x > before else "none"


def ts_cpm_scores(ratings: pd.DataFrame, options: ScoringOptions | None = None) -> dict[str, Any]:
    """Return test-stimulus phase means and early/late CPM effects (absolute and percent)."""
    options = options or ScoringOptions()
    out = phase_means(ratings, options)
    before = out["ts_before_mean"]
    for name, p in EFFECTS.items():
        x = out[f"ts_{p}_mean"]
        out[f"cpm_{name}"], out[f"cpm_{name}_pct"] = effect(before, x, options)
        out[f"cpm_{name}_direction"] = direction(before, x)
    return out


def cs_scores(ratings: pd.DataFrame, options: ScoringOptions | None = None) -> dict[str, Any]:
    """Return mean, peak, n and missing count of conditioning-stimulus (cold) ratings."""
    options = options or ScoringOptions()
    cs = ratings[ratings["about"] == "cold"]
    scaled = scaled_ratings(cs, options)
    valid = scaled.values.dropna()
    ok = not scaled.mixed and not valid.empty
    return {
        "cs_scale": scaled.scale,
        "cs_range": scaled.range,
        "cs_mixed_scales": scaled.mixed,
        "cs_n": len(valid),
        "cs_missing": len(scaled.values) - len(valid),
        "cs_mean": float(valid.mean()) if ok else None,
        "cs_peak": float(valid.max()) if ok else None,
    }
