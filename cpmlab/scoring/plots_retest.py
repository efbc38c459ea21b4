"""Report figures of test-retest agreement per paradigm: Bland-Altman plots and session-1-versus-2 scatter."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cpmlab.scoring.plots import COLOURS, Drawn
from cpmlab.scoring.report_format import (
    CONDITIONS,
    HEADLINE_MEASURES,
    condition_label,
    is_missing,
    measure_label,
    measure_short,
    number,
    with_interval,
)

Panel = tuple[str, str, pd.DataFrame]  # condition, measure, its pairs


def _panels(pairs: pd.DataFrame, task: str, rating_range: str) -> list[Panel]:
    data = pairs[
        (pairs["task"] == task)
        & (pairs["range"] == rating_range)
        & pairs["measure"].isin(HEADLINE_MEASURES)
        & pairs["value_1"].notna()
        & pairs["value_2"].notna()
    ]
    return [
        (c, m, data[(data["condition"] == c) & (data["measure"] == m)])
        for c in CONDITIONS
        for m in HEADLINE_MEASURES
        if ((data["condition"] == c) & (data["measure"] == m)).any()
    ]


def _grid(n_panels: int, width: float, height: float) -> tuple[Figure, list[Axes]]:
    cols = min(n_panels, 2)
    rows = -(-n_panels // cols)
    fig = Figure(figsize=(width * cols + 0.4, height * rows + 0.5), layout="constrained")
    axes = list(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def _session_names(rows: pd.DataFrame) -> tuple[str, str]:
    names = []
    for col, default in (("session_1", "first session"), ("session_2", "second session")):
        labels = {str(v) for v in rows[col] if not is_missing(v)}
        label = labels.pop() if len(labels) == 1 else None
        names.append(default if label is None else label if label.startswith("ses-") else f"ses-{label}")
    return names[0], names[1]


def _counts(panels: list[Panel]) -> dict[str, int]:
    return {f"{condition_label(c)}, {measure_short(m)}": len(rows) for c, m, rows in panels}


def _n(panels: list[Panel]) -> int:
    return len({p for _, _, rows in panels for p in rows["participant_id"]})


def bland_altman(pairs: pd.DataFrame, task: str, rating_range: str) -> Drawn | None:
    """Draw the difference between the two sessions against their mean, per condition and measure."""
    panels = _panels(pairs, task, rating_range)
    if not panels:
        return None
    fig, axes = _grid(len(panels), 4.4, 3.6)
    for ax, (cond, m, rows) in zip(axes, panels, strict=False):
        v1, v2 = rows["value_1"].to_numpy(dtype=float), rows["value_2"].to_numpy(dtype=float)
        mean, diff = (v1 + v2) / 2, v2 - v1
        ax.scatter(mean, diff, s=16, alpha=0.7, color=COLOURS.get(cond, "grey"))
        bias = float(diff.mean())
        ax.axhline(bias, color="black", lw=1.2, label=f"bias {number(bias, 1)}")
        if len(diff) > 1:
            half = 1.96 * float(diff.std(ddof=1))
            ax.axhline(bias + half, color="black", lw=0.9, ls="--", label=f"95% limits ±{number(half, 1)}")
            ax.axhline(bias - half, color="black", lw=0.9, ls="--")
        ax.axhline(0, color="grey", lw=0.6, ls=":")
        first, second = _session_names(rows)
        ax.set_xlabel(f"mean of {first} and {second} ({rating_range})")
        ax.set_ylabel(f"{second} - {first}")
        ax.set_title(f"{condition_label(cond)}, {measure_label(m)} (n = {len(rows)})", fontsize=9)
        ax.legend(fontsize=7, loc="best")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{task}: test-retest agreement (Bland-Altman)", fontsize=10)
    return Drawn(fig, _n(panels), _counts(panels))


def _icc_text(retest: pd.DataFrame, task: str, cond: str, measure: str, rating_range: str) -> str:
    if retest.empty:
        return ""
    row = retest[
        (retest["task"] == task)
        & (retest["condition"] == cond)
        & (retest["measure"] == measure)
        & (retest["range"] == rating_range)
    ]
    if row.empty or is_missing(row["icc_3_1"].iloc[0]):
        return ""
    r = row.iloc[0]
    return "\nICC(3,1) " + with_interval(r["icc_3_1"], r["icc_3_1_ci_low"], r["icc_3_1_ci_high"])


def retest_scatter(pairs: pd.DataFrame, retest: pd.DataFrame, task: str, rating_range: str) -> Drawn | None:
    """Draw the first session's effect against the second's, with the identity line and ICC(3,1)."""
    panels = _panels(pairs, task, rating_range)
    if not panels:
        return None
    fig, axes = _grid(len(panels), 4.0, 4.0)
    for ax, (cond, m, rows) in zip(axes, panels, strict=False):
        v1, v2 = rows["value_1"].to_numpy(dtype=float), rows["value_2"].to_numpy(dtype=float)
        ax.scatter(v1, v2, s=16, alpha=0.7, color=COLOURS.get(cond, "grey"))
        lo, hi = float(min(v1.min(), v2.min())), float(max(v1.max(), v2.max()))
        pad = max((hi - lo) * 0.08, 1.0)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="black", lw=0.8, ls="--", label="identity")
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal")
        first, second = _session_names(rows)
        ax.set_xlabel(f"{first} ({rating_range})")
        ax.set_ylabel(f"{second} ({rating_range})")
        icc = _icc_text(retest, task, cond, m, rating_range)
        ax.set_title(f"{condition_label(cond)}, {measure_label(m)} (n = {len(rows)}){icc}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{task}: CPM effect in two sessions", fontsize=10)
    return Drawn(fig, _n(panels), _counts(panels))
