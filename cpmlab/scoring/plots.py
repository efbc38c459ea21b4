"""Report figures (matplotlib, Agg backend), each returned as PNG bytes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cpmlab.scoring.dataset import Run

COLOURS = {"active": "#c0392b", "sham": "#2e86c1", "none": "#7f8c8d"}
MAX_LINES = 60  # participants drawn individually; the group mean is always drawn


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def ts_phases(sessions: pd.DataFrame) -> bytes | None:
    """Plot each participant's mean test-stimulus rating before/during/after, one panel per condition."""
    phases = [p for p in ("before", "during", "after") if sessions[f"ts_{p}_mean"].notna().any()]
    data = sessions[sessions["ts_range"].notna()]
    if len(phases) < 2 or data.empty:
        return None
    rng = data["ts_range"].mode().iloc[0]
    data = data[data["ts_range"] == rng]
    conditions = [c for c in ("active", "sham", "none") if (data["condition"] == c).any()]
    fig, axes = plt.subplots(
        1, len(conditions), figsize=(4.2 * len(conditions), 3.8), sharey=True, squeeze=False, layout="constrained"
    )
    for ax, cond in zip(axes[0], conditions, strict=True):
        part = data[data["condition"] == cond]
        means = part.groupby("participant_id")[[f"ts_{p}_mean" for p in phases]].mean()
        x = np.arange(len(phases))
        for _, row in means.head(MAX_LINES).iterrows():
            ax.plot(x, row.to_numpy(dtype=float), color=COLOURS[cond], alpha=0.25, lw=1, marker="o", ms=2)
        ax.plot(x, means.mean().to_numpy(dtype=float), color="black", lw=2.5, marker="o", label="group mean")
        ax.set_xticks(x, phases)
        shown = min(len(means), MAX_LINES)
        ax.set_title(f"{cond}: {len(means)} participants" + (f" ({shown} drawn)" if shown < len(means) else ""))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"test-stimulus rating ({rng})")
    axes[0][0].legend(loc="best", fontsize=8)
    fig.suptitle("Test-stimulus ratings relative to the conditioning stimulus (participant means)")
    return _png(fig)


def session_traces(run: Run) -> bytes | None:
    """Plot one run's thermode zones and bath temperature with its rating onsets and values."""
    thermode = run.recording("thermode", "stim")
    bath = run.recording("bath", "stim")
    if thermode is None and bath is None:
        return None
    fig, ax = plt.subplots(figsize=(10, 4))
    if thermode is not None:
        t = thermode.times_s
        for c in thermode.data.columns:
            if c.startswith("zone") and thermode.data[c].notna().any():
                ax.plot(t, thermode.data[c], lw=1, label=f"thermode {c[:-2]}")
    if bath is not None:
        ax.plot(bath.times_s, bath.data["bath_c"], color="#2e86c1", lw=2, label="bath")
    ax.set_xlabel("time from session start (s)")
    ax.set_ylabel("temperature (°C)")
    ax.grid(alpha=0.3)
    r = run.ratings[run.ratings["rating"].notna() & run.ratings["scale"].isin(["vas", "nrs"])]
    ax2 = ax.twinx()
    if "onset" in r and not r.empty:
        for about, marker in (("heat", "v"), ("cold", "s")):
            rows = r[r["about"] == about]
            if rows.empty:
                continue
            values = rows["rating"].astype(float) * np.where(rows["scale"] == "nrs", 10.0, 1.0)
            ax2.scatter(
                rows["onset"],
                values,
                marker=marker,
                color="black" if about == "heat" else "#2e86c1",
                zorder=5,
                label=f"{about} rating (0-100; NRS x10)",
            )
            for x in rows["onset"]:
                ax.axvline(float(x), color="grey", lw=0.5, ls=":")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("rating (0-100)")
    lines2 = ax2.get_legend_handles_labels()
    imm = run.events[(run.events["trial_type"] == "cold_immersion") & run.events["duration"].notna()]
    for i, (_, e) in enumerate(imm.iterrows()):
        ax.axvspan(
            float(e["onset"]),
            float(e["onset"]) + float(e["duration"]),
            color="#aed6f1",
            alpha=0.35,
            label="hand in bath" if i == 0 else None,
        )
    lines = ax.get_legend_handles_labels()
    ax.legend(
        lines[0] + lines2[0],
        lines[1] + lines2[1],
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=5,
        frameon=False,
    )
    ses = f" ses-{run.session}" if run.session else ""
    ax.set_title(f"sub-{run.participant}{ses} task-{run.task}: temperatures and ratings")
    return _png(fig)


def effect_distributions(long: pd.DataFrame, sign_text: str) -> bytes | None:
    """Plot the distribution of the absolute early and late CPM effects per condition (participant means)."""
    measures = [m for m in ("cpm_early", "cpm_late") if (long["measure"] == m).any()]
    if not measures:
        return None
    rng = long["range"].mode().iloc[0]
    data = long[long["range"] == rng]
    fig, axes = plt.subplots(
        1, len(measures), figsize=(4.5 * len(measures), 4), squeeze=False, sharey=True, layout="constrained"
    )
    rand = np.random.default_rng(0)
    for ax, m in zip(axes[0], measures, strict=True):
        part = data[data["measure"] == m]
        conds = [c for c in ("active", "sham", "none") if (part["condition"] == c).any()]
        values = [part[part["condition"] == c].groupby("participant_id")["value"].mean().to_numpy() for c in conds]
        ax.boxplot(values, tick_labels=conds, showfliers=False, widths=0.5)
        for i, (c, v) in enumerate(zip(conds, values, strict=True), start=1):
            ax.scatter(i + rand.uniform(-0.15, 0.15, len(v)), v, s=8, alpha=0.5, color=COLOURS[c])
        ax.axhline(0, color="black", lw=0.8)
        ax.set_title(f"{m.replace('cpm_', '')} CPM effect")
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel(f"effect ({rng} scale points)")
    fig.suptitle("CPM effect by condition (participant means): " + sign_text.split(" (")[0], fontsize=10)
    return _png(fig)


def retest_scatter(pairs: pd.DataFrame) -> bytes | None:
    """Plot session 1 against session 2 of each participant for the absolute effects, per condition."""
    data = pairs[pairs["measure"].isin(["cpm_early", "cpm_late"])]
    if data.empty:
        return None
    measures = [m for m in ("cpm_early", "cpm_late") if (data["measure"] == m).any()]
    fig, axes = plt.subplots(1, len(measures), figsize=(5.2 * len(measures), 4.6), squeeze=False, layout="constrained")
    for ax, m in zip(axes[0], measures, strict=True):
        part = data[data["measure"] == m]
        for cond, rows in part.groupby("condition"):
            ax.scatter(
                rows["value_1"],
                rows["value_2"],
                s=10,
                alpha=0.6,
                color=COLOURS.get(str(cond), "grey"),
                label=f"{cond} (n={len(rows)})",
            )
        lo = float(min(part["value_1"].min(), part["value_2"].min()))
        hi = float(max(part["value_1"].max(), part["value_2"].max()))
        ax.plot([lo, hi], [lo, hi], color="black", lw=0.8, ls="--", label="identity")
        ax.set_xlabel("first session")
        ax.set_ylabel("second session")
        ax.set_title(f"test-retest: {m.replace('cpm_', '')} CPM effect")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return _png(fig)
