"""Report figures of the CPM effect: per-participant lines, effect distributions and one session's traces.

Figures are built with matplotlib's object API (no pyplot), so they can be drawn off the GUI thread.
Each function returns a Drawn figure, or None when there is nothing to draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cpmlab.scoring.dataset import Run
from cpmlab.scoring.distributions import t_ppf
from cpmlab.scoring.report_format import CONDITIONS, HEADLINE_MEASURES, condition_label, measure_label, measure_short

COLOURS = {"active": "#c0392b", "sham": "#2e86c1", "none": "#7f8c8d"}
PHASES = ("before", "during", "after")
PHASE_LABELS = {"before": "before", "during": "during CS", "after": "after CS"}
MAX_LINES = 80  # participants drawn individually; the group mean is always drawn


@dataclass
class Drawn:
    """A drawn figure, how many participants it shows, and how many per panel (for its caption)."""

    figure: Figure
    n: int
    counts: dict[str, int] = field(default_factory=dict)


def _mean_ci(values: np.ndarray) -> tuple[float, float]:
    """Return the mean and the half-width of its 95% t-interval (0 when n < 2)."""
    n = len(values)
    if n < 2:
        return float(values.mean()), 0.0
    half = float(t_ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return float(values.mean()), half


def participant_lines(sessions: pd.DataFrame, task: str, rating_range: str) -> Drawn | None:
    """Draw each participant's mean test-stimulus rating per phase, one panel per condition."""
    data = sessions[(sessions["task"] == task) & (sessions["ts_range"] == rating_range)]
    phases = [p for p in PHASES if data[f"ts_{p}_mean"].notna().any()]
    if len(phases) < 2:
        return None
    columns = [f"ts_{p}_mean" for p in phases]
    panels = []
    for cond in CONDITIONS:
        means = data[data["condition"] == cond].groupby("participant_id")[columns].mean().dropna(how="all")
        if not means.empty:
            panels.append((cond, means))
    if not panels:
        return None
    fig = Figure(figsize=(3.6 * len(panels) + 0.6, 3.8), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    x = np.arange(len(phases))
    counts = {}
    for ax, (cond, means) in zip(axes, panels, strict=True):
        for _, row in means.head(MAX_LINES).iterrows():
            ax.plot(x, row.to_numpy(dtype=float), color=COLOURS[cond], alpha=0.3, lw=1, marker="o", ms=2.5)
        centre, half = zip(*(_mean_ci(means[c].dropna().to_numpy(dtype=float)) for c in columns), strict=True)
        ax.errorbar(x, centre, yerr=half, color="black", lw=2.2, marker="o", capsize=4, label="group mean, 95% CI")
        ax.set_xticks(x, [PHASE_LABELS[p] for p in phases])
        ax.set_xlim(-0.3, len(phases) - 0.7)
        drawn = min(len(means), MAX_LINES)
        more = f", {drawn} drawn" if drawn < len(means) else ""
        ax.set_title(f"{condition_label(cond)} (n = {len(means)}{more})", fontsize=10)
        ax.grid(alpha=0.3)
        counts[condition_label(cond)] = len(means)
    axes[0].set_ylabel(f"test-stimulus rating ({rating_range})")
    axes[0].legend(loc="best", fontsize=8)
    fig.suptitle(f"{task}: test-stimulus ratings per participant", fontsize=11)
    n = len(set().union(*(set(m.index) for _, m in panels)))
    return Drawn(fig, n, counts)


def _strip(ax: Axes, groups: list[tuple[str, np.ndarray]], seed: int) -> None:
    rand = np.random.default_rng(seed)
    ax.boxplot([v for _, v in groups], widths=0.5, showfliers=False, medianprops={"color": "black"})
    for i, (cond, v) in enumerate(groups, start=1):
        ax.scatter(i + rand.uniform(-0.16, 0.16, len(v)), v, s=14, alpha=0.65, color=COLOURS.get(cond, "grey"))
    ax.set_xticks(range(1, len(groups) + 1), [f"{condition_label(c)}\n(n = {len(v)})" for c, v in groups])
    ax.axhline(0, color="black", lw=0.8)
    ax.grid(alpha=0.3, axis="y")


def effect_distributions(participants: pd.DataFrame, task: str, rating_range: str, sign: str) -> Drawn | None:
    """Draw the participants' mean CPM effects as box and dots per condition, one panel per measure."""
    data = participants[
        (participants["task"] == task)
        & (participants["range"] == rating_range)
        & participants["measure"].isin(HEADLINE_MEASURES)
        & participants["mean"].notna()
    ]
    measures = [m for m in HEADLINE_MEASURES if (data["measure"] == m).any()]
    if not measures:
        return None
    fig = Figure(figsize=(3.4 * len(measures) + 0.8, 4.0), layout="constrained")
    axes = fig.subplots(1, len(measures), sharey=True, squeeze=False)[0]
    counts = {}
    for i, (ax, m) in enumerate(zip(axes, measures, strict=True)):
        part = data[data["measure"] == m]
        groups = [
            (c, part.loc[part["condition"] == c, "mean"].to_numpy(dtype=float))
            for c in CONDITIONS
            if (part["condition"] == c).any()
        ]
        _strip(ax, groups, seed=i)
        ax.set_title(measure_label(m), fontsize=10)
        counts.update({f"{condition_label(c)}, {measure_short(m)}": len(v) for c, v in groups})
    axes[0].set_ylabel(f"CPM effect ({rating_range} rating points)")
    fig.suptitle(f"{task}: CPM effect per participant ({sign}, 0 = no change)", fontsize=10)
    return Drawn(fig, int(data["participant_id"].nunique()), counts)


def session_traces(run: Run) -> Drawn | None:
    """Draw one run's thermode zones and bath temperature with its ratings."""
    thermode = run.recording("thermode", "stim")
    bath = run.recording("bath", "stim")
    if thermode is None and bath is None:
        return None
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax = fig.subplots()
    if thermode is not None:
        for c in thermode.data.columns:
            if c.startswith("zone") and thermode.data[c].notna().any():
                ax.plot(thermode.times_s, thermode.data[c], lw=1, label=f"thermode {c.removesuffix('_c')}")
    if bath is not None:
        ax.plot(bath.times_s, bath.data["bath_c"], color="#2e86c1", lw=2, label="bath")
    imm = run.events[(run.events["trial_type"] == "cold_immersion") & run.events["duration"].notna()]
    for i, (_, e) in enumerate(imm.iterrows()):
        start = float(e["onset"])
        ax.axvspan(
            start, start + float(e["duration"]), color="#aed6f1", alpha=0.35, label="hand in bath" if not i else None
        )
    ax.set_xlabel("time from session start (s)")
    ax.set_ylabel("temperature (°C)")
    ax.grid(alpha=0.3)
    ax2 = ax.twinx()
    r = run.ratings[run.ratings["rating"].notna() & run.ratings["scale"].isin(["vas", "nrs"])]
    if "onset" in r and not r.empty:
        for about, marker in (("heat", "v"), ("cold", "s")):
            rows = r[r["about"] == about]
            if not rows.empty:
                values = rows["rating"].astype(float) * np.where(rows["scale"] == "nrs", 10.0, 1.0)
                colour = "black" if about == "heat" else "#2e86c1"
                ax2.scatter(rows["onset"], values, marker=marker, color=colour, zorder=5, label=f"{about} rating")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("rating (0-100; NRS x 10)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=5, frameon=False)
    ses = f" ses-{run.session}" if run.session else ""
    ax.set_title(f"sub-{run.participant}{ses} task-{run.task}: temperatures and ratings", fontsize=10)
    return Drawn(fig, 1, {})
