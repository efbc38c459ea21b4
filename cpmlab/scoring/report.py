"""The HTML report: the answer first, then figures per paradigm (also PNG and SVG files), then links.

The page embeds its figures, so it reads on its own; beside it, report/figures/ holds each figure
as PNG and SVG with figures.tsv (file names, paradigm, n and caption), and the full tables are
linked relative to the page.
"""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from cpmlab import __version__
from cpmlab.scoring import report_sections as sections
from cpmlab.scoring.derivatives import FIGURE_DIR, REPORT_DIR, REPORT_FILE, report_path, tsv_bytes, write_derivatives
from cpmlab.scoring.figures import ProgressCallback, ReportFigure, make_figures
from cpmlab.scoring.pipeline import ScoredDataset
from cpmlab.scoring.report_format import task_labels
from cpmlab.scoring.report_results import results_section

FIGURE_INDEX = FIGURE_DIR / "figures.tsv"
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;color:#222;
max-width:1100px;padding:0 1em}h1{font-size:1.6em}h2{font-size:1.3em;border-bottom:1px solid #ccc;
padding-bottom:.2em;margin-top:2em}h3{font-size:1.1em;margin-top:1.6em}table{border-collapse:collapse;
font-size:.85em;margin:.5em 0}th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#f3f3f3}.l{text-align:left}img{max-width:100%;border:1px solid #eee}
figure{margin:1.2em 0}figcaption{font-size:.88em;color:#333;max-width:60em}.note{color:#555;font-size:.9em}
.meta{color:#555;font-size:.9em;line-height:1.5}
"""


def _relative(path: Path) -> str:
    return html.escape(path.relative_to(REPORT_DIR).as_posix())


def _figure_html(number: int, fig: ReportFigure) -> str:
    png = FIGURE_DIR / f"{fig.name}.png"
    svg = FIGURE_DIR / f"{fig.name}.svg"
    data = base64.b64encode(fig.png).decode("ascii")
    return (
        f'<figure id="{html.escape(fig.name)}"><img alt="{html.escape(fig.caption)}" '
        f'src="data:image/png;base64,{data}"><figcaption><b>Figure {number}.</b> {html.escape(fig.caption)} '
        f'(<a href="{_relative(png)}">PNG</a>, <a href="{_relative(svg)}">SVG</a>)</figcaption></figure>'
    )


def _figures_html(scored: ScoredDataset, figures: list[ReportFigure], empty: list[tuple[str, str]]) -> str:
    parts = ["<h2>Figures per paradigm</h2>"]
    number = 0
    for task in task_labels(scored.sessions):
        parts.append(f"<h3>{html.escape(task)}</h3>")
        mine = [f for f in figures if f.task == task and f.kind != "session"]
        notes = [sentence for t, sentence in empty if t == task]
        if not mine and not notes:
            notes = ["no test-stimulus ratings before and with conditioning, so no CPM figures."]
        for fig in mine:
            number += 1
            parts.append(_figure_html(number, fig))
        parts += [f'<p class="note">{html.escape(task)}: {html.escape(n)}</p>' for n in notes]
    example = [f for f in figures if f.kind == "session"]
    if example:
        parts.append("<h3>One session</h3>" + _figure_html(number + 1, example[0]))
    return "".join(parts)


def _summary(scored: ScoredDataset) -> str:
    s = scored.sessions
    n_participants = s["participant_id"].nunique() if not s.empty else 0
    per_task = "; ".join(
        f"{html.escape(t)}: {int((s['task'] == t).sum())} run{'s' if (s['task'] == t).sum() != 1 else ''}"
        for t in task_labels(scored.sessions)
    )
    return (
        f"<p class='meta'>{n_participants} participant{'s' if n_participants != 1 else ''}, "
        f"{len(s)} run{'s' if len(s) != 1 else ''} ({per_task or 'no tasks'}).<br>"
        f"Sign convention: {html.escape(scored.options.sign_text())}.<br>"
        f"Scales: {html.escape(scored.options.scale_text())}.</p>"
    )


def render_html(scored: ScoredDataset, figures: list[ReportFigure], empty: list[tuple[str, str]]) -> str:
    """Return the report page: headline tables, figures with captions, quality counts and table links."""
    name = html.escape(scored.root.name)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>cpmlab report: {name}</title><style>{STYLE}</style></head><body>",
        f"<h1>CPM report: {name}</h1>",
        _summary(scored),
        sections.groups_section(scored),
        sections.contrast_section(scored),
        sections.retest_section(scored),
        results_section(scored),
        _figures_html(scored, figures, empty),
        sections.quality_section(scored),
        sections.tables_section(),
        f"<p class='note'>Dataset {html.escape(str(scored.root))}; generated {stamp} by cpmlab "
        f"{html.escape(__version__)} (cpmlab report).</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _index(figures: list[ReportFigure]) -> bytes:
    rows = [
        {
            "figure": i,
            "png": f"{f.name}.png",
            "svg": f"{f.name}.svg",
            "task": f.task,
            "kind": f.kind,
            "n": f.n,
            "caption": f.caption,
        }
        for i, f in enumerate(figures, start=1)
    ]
    columns = ["figure", "png", "svg", "task", "kind", "n", "caption"]
    return tsv_bytes(pd.DataFrame(rows, columns=columns))


def build_report(scored: ScoredDataset, on_step: ProgressCallback | None = None) -> dict[Path, bytes]:
    """Return the report's files (page, figures as PNG and SVG, figure index), relative to the group folder.

    on_step is called with each planned figure's name once it is done (see figures.figure_names).
    """
    sections.check_tables(scored)
    figures, empty = make_figures(scored, on_step)
    files = {REPORT_FILE: render_html(scored, figures, empty).encode("utf-8"), FIGURE_INDEX: _index(figures)}
    for fig in figures:
        files[FIGURE_DIR / f"{fig.name}.png"] = fig.png
        files[FIGURE_DIR / f"{fig.name}.svg"] = fig.svg
    return files


def write_report(scored: ScoredDataset, on_step: ProgressCallback | None = None) -> Path:
    """Write the derivatives with the report beside the group tables; return the report's path."""
    write_derivatives(scored, build_report(scored, on_step))
    return report_path(scored.root)
