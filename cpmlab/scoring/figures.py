"""Which figures the report shows per paradigm, their captions, and their PNG and SVG files."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import matplotlib

from cpmlab.scoring import plots, plots_retest
from cpmlab.scoring.pipeline import ScoredDataset
from cpmlab.scoring.plots import Drawn
from cpmlab.scoring.report_format import is_missing, sign_short, slug, task_labels

ProgressCallback = Callable[[str], None]
KINDS = ("lines", "effects", "blandaltman", "retest", "session")


@dataclass(frozen=True)
class FigureStep:
    """One planned figure: its file name, paradigm, kind, how to draw it and what to say when it is empty."""

    name: str
    task: str
    kind: str
    rating_range: str
    draw: Callable[[], Drawn | None]
    empty: str


@dataclass(frozen=True)
class ReportFigure:
    """A drawn figure: file name (no suffix), paradigm, kind, participants shown, caption and its files."""

    name: str
    task: str
    kind: str
    n: int
    caption: str
    png: bytes
    svg: bytes


def _ranges(scored: ScoredDataset, task: str) -> list[str]:
    s = scored.sessions
    return sorted({str(r) for r in s.loc[s["task"] == task, "ts_range"] if not is_missing(r)})


NO_PAIRS = "no participant has two sessions with a CPM effect in one condition, so there is no {what}."


def plan(scored: ScoredDataset) -> list[FigureStep]:
    """Return the figures the report will try to draw, in order (a progress bar's total is its length)."""
    sign = sign_short(scored.options)
    s, pairs = scored.sessions, scored.retest_pairs
    steps = []
    for task in task_labels(scored.sessions):
        ranges = _ranges(scored, task)
        for rng in ranges:
            tail = f"_task-{slug(task)}" + (f"_range-{slug(rng)}" if len(ranges) > 1 else "")
            steps += [
                FigureStep(
                    f"lines{tail}",
                    task,
                    "lines",
                    rng,
                    partial(plots.participant_lines, s, task, rng),
                    "no participant has test-stimulus ratings in two phases, so there are no per-participant lines.",
                ),
                FigureStep(
                    f"effects{tail}",
                    task,
                    "effects",
                    rng,
                    partial(plots.effect_distributions, scored.participants, task, rng, sign.split(" (")[0]),
                    "no CPM effect could be computed, so there is no distribution of effects.",
                ),
                FigureStep(
                    f"blandaltman{tail}",
                    task,
                    "blandaltman",
                    rng,
                    partial(plots_retest.bland_altman, pairs, task, rng),
                    NO_PAIRS.format(what="Bland-Altman plot"),
                ),
                FigureStep(
                    f"retest{tail}",
                    task,
                    "retest",
                    rng,
                    partial(plots_retest.retest_scatter, pairs, scored.retest, task, rng),
                    NO_PAIRS.format(what="test-retest scatter"),
                ),
            ]
    if scored.runs:
        steps.append(FigureStep("session_example", "", "session", "", partial(_first_session, scored), ""))
    return steps


def _first_session(scored: ScoredDataset) -> Drawn | None:
    """Draw the traces of the first run that has thermode or bath recordings."""
    for run in scored.runs:
        drawn = plots.session_traces(run)
        if drawn is not None:
            return drawn
    return None


def figure_names(scored: ScoredDataset) -> list[str]:
    """Return the names of the planned figures (for a progress bar)."""
    return [step.name for step in plan(scored)]


def _counts_text(drawn: Drawn) -> str:
    if not drawn.counts or set(drawn.counts.values()) == {drawn.n}:
        return ""
    return " (" + "; ".join(f"{k}: {v}" for k, v in drawn.counts.items()) + ")"


def caption(step: FigureStep, drawn: Drawn, scored: ScoredDataset) -> str:
    """Return the caption of a drawn figure: what it shows, the paradigm, n and the sign convention."""
    sign = f"Sign convention of the CPM effect: {sign_short(scored.options)}."
    where = f"Paradigm (task) {step.task}, ratings on the {step.rating_range} range."
    n = f"n = {drawn.n} participant{'s' if drawn.n != 1 else ''}{_counts_text(drawn)}."
    what = {
        "lines": "Test-stimulus ratings before and with the conditioning stimulus (CS): one line per "
        "participant (the mean of their sessions); black: group mean with its 95% CI.",
        "effects": "CPM effect per participant (the mean of their sessions): boxes show the median and "
        "quartiles, 0 is no change.",
        "blandaltman": "Bland-Altman plot of test-retest agreement: the difference between the two sessions "
        "against their mean, one dot per participant; solid line: mean difference (bias); dashed: 95% "
        "limits of agreement (bias ± 1.96 SD).",
        "retest": "Test-retest scatter: the CPM effect in the first session against the second, one dot per "
        "participant; dashed: identity line; ICC(3,1) with its 95% CI in the panel title.",
    }
    if step.kind == "session":
        return (
            "Temperatures and ratings of one session (the first with recordings; its labels are in the "
            "title): thermode zones, bath temperature and the ratings on a common 0-100 axis (NRS x 10); "
            "shaded: hand in the bath."
        )
    return " ".join((what[step.kind], where, n, sign))


def _render(drawn: Drawn) -> tuple[bytes, bytes]:
    fig = drawn.figure
    out = []
    rc = {"svg.fonttype": "none", "svg.hashsalt": "cpmlab"}  # editable text; stable ids
    with matplotlib.rc_context(rc):
        for fmt, extra in (("png", {"dpi": 130}), ("svg", {"metadata": {"Date": None}})):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, bbox_inches="tight", **extra)
            out.append(buf.getvalue())
    return out[0], out[1]


def make_figures(
    scored: ScoredDataset, on_step: ProgressCallback | None = None
) -> tuple[list[ReportFigure], list[tuple[str, str]]]:
    """Draw every planned figure; return the figures and (task, sentence) for each one without data.

    on_step is called with each planned figure's name once it is done (drawn or found empty).
    """
    figures, empty = [], []
    for step in plan(scored):
        drawn = step.draw()
        if drawn is None:
            if step.empty:
                empty.append((step.task, step.empty))
        else:
            png, svg = _render(drawn)
            figures.append(
                ReportFigure(step.name, step.task, step.kind, drawn.n, caption(step, drawn, scored), png, svg)
            )
        if on_step is not None:
            on_step(step.name)
    return figures, empty
