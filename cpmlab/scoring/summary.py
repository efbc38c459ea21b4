"""The short CPM summary shown after a run (CLI and console): test-stimulus ratings and the effect."""

from __future__ import annotations

import pandas as pd

from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.session import ts_cpm_scores


def cpm_summary(ratings: pd.DataFrame) -> dict[str, float | None]:
    """Mean test-stimulus rating per phase and the CPM effects (after/during - before; negative = inhibition)."""
    scores = ts_cpm_scores(ratings, ScoringOptions())
    out: dict[str, float | None] = {f"ts_{p}": scores[f"ts_{p}_mean"] for p in ("before", "during", "after")}
    out["cpm_during"] = scores["cpm_early"]
    out["cpm_after"] = scores["cpm_late"]
    return out


def format_summary(ratings: pd.DataFrame) -> str:
    """Return the summary as text lines."""
    s = cpm_summary(ratings)

    def f(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1f}"

    lines = [f"test stimulus rating before conditioning: {f(s['ts_before'])}"]
    if s["ts_during"] is not None:
        lines.append(f"test stimulus rating during conditioning: {f(s['ts_during'])}")
        lines.append(f"early (parallel) CPM effect: {f(s['cpm_during'])}")
    if s["ts_after"] is not None:
        lines.append(f"test stimulus rating after conditioning:  {f(s['ts_after'])}")
        lines.append(f"CPM effect (after - before): {f(s['cpm_after'])}  (negative = inhibition)")
    return "\n".join(lines)
