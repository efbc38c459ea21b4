"""The short CPM summary printed after a run: test-stimulus ratings before/after and the effect."""

from __future__ import annotations

import pandas as pd


def cpm_summary(ratings: pd.DataFrame) -> dict[str, float | None]:
    """Mean test-stimulus rating per phase and the CPM effects (after/during - before; negative = inhibition)."""
    ts = ratings[(ratings["about"] == "heat") & (ratings["role"] == "test_stimulus")]
    means: dict[str, float | None] = {}
    for phase in ("before", "during", "after"):
        values = pd.to_numeric(ts.loc[ts["phase"] == phase, "rating"], errors="coerce").dropna()
        means[phase] = float(values.mean()) if len(values) else None
    out: dict[str, float | None] = {f"ts_{p}": v for p, v in means.items()}
    for phase in ("during", "after"):
        b, x = means["before"], means[phase]
        out[f"cpm_{phase}"] = None if b is None or x is None else x - b
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
