"""The self-contained HTML report: figures as embedded PNG, tables inline, no network assets."""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime

import pandas as pd

from cpmlab import __version__
from cpmlab.scoring import plots
from cpmlab.scoring.group import long_scores
from cpmlab.scoring.pipeline import ScoredDataset

MAX_TABLE_ROWS = 200
SESSION_COLUMNS = [
    "participant_id",
    "session_id",
    "task",
    "run",
    "condition",
    "outcome",
    "ts_range",
    "ts_before_mean",
    "ts_during_mean",
    "ts_after_mean",
    "cpm_early",
    "cpm_early_pct",
    "cpm_late",
    "cpm_late_pct",
    "cs_mean",
    "calibrated_c",
    "hpt_c",
    "pdt_s",
    "ptt_s",
    "ptt_censored",
    "flags",
]
STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.82em;margin:.5em 0}th,td{border:1px solid #ddd;padding:3px 6px;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee}.note{color:#555;font-size:.9em}
"""


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return f'<p class="note">No data for: {html.escape(alt)}.</p>'
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _table(df: pd.DataFrame, name: str, file: str) -> str:
    if df.empty:
        return f'<p class="note">{html.escape(name)}: nothing to show.</p>'
    shown = df.head(MAX_TABLE_ROWS)
    note = (
        f'<p class="note">First {MAX_TABLE_ROWS} of {len(df)} rows; the full table is {html.escape(file)}.</p>'
        if len(df) > MAX_TABLE_ROWS
        else f'<p class="note">Also in {html.escape(file)}.</p>'
    )
    body = shown.to_html(
        index=False,
        na_rep="n/a",
        float_format=lambda v: f"{v:.3g}" if abs(v) < 1e-3 and v else f"{v:.2f}",
        escape=True,
        border=0,
    )
    return body + note


def figures(scored: ScoredDataset) -> dict[str, bytes | None]:
    """Return the report figures as PNG bytes (None where there is no data)."""
    long = long_scores(scored.sessions)
    traced = next(
        (
            r
            for r in scored.runs
            if r.recording("thermode", "stim") is not None or r.recording("bath", "stim") is not None
        ),
        None,
    )
    return {
        "ts_phases": plots.ts_phases(scored.sessions),
        "session_traces": plots.session_traces(traced) if traced is not None else None,
        "effects": plots.effect_distributions(long, scored.options.sign_text()) if not long.empty else None,
        "retest": plots.retest_scatter(scored.retest_pairs) if not scored.retest_pairs.empty else None,
    }


def render_html(scored: ScoredDataset, figs: dict[str, bytes | None] | None = None) -> str:
    """Return the report as one self-contained HTML document."""
    figs = figs if figs is not None else figures(scored)
    s = scored.sessions
    flagged = s[s["flags"].notna()]
    g = "derivatives/cpmlab/derivatives/group/"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>cpmlab report: {html.escape(scored.root.name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>CPM report: {html.escape(scored.root.name)}</h1>",
        f"<p class='note'>Dataset {html.escape(str(scored.root))}; generated "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by cpmlab {html.escape(__version__)}.<br>"
        f"{s['participant_id'].nunique()} participants, {len(s)} runs "
        f"({int((s['condition'] == 'active').sum())} active, {int((s['condition'] == 'sham').sum())} sham); "
        f"{len(flagged)} runs carry flags.<br>Sign convention: {html.escape(scored.options.sign_text())}.<br>"
        f"Scales: {html.escape(scored.options.scale_text())}.</p>",
        "<h2>Test-stimulus ratings before, during and after conditioning</h2>",
        _img(figs.get("ts_phases"), "test-stimulus ratings per phase"),
        "<h2>CPM effect by condition</h2>",
        _img(figs.get("effects"), "CPM effect distributions"),
        _table(scored.groups, "group summary", g + "cpm_groups.tsv"),
        "<h2>Active versus sham (paired)</h2>",
        _table(scored.contrast, "contrast", g + "cpm_contrast.tsv"),
        "<h2>Test-retest reliability</h2>",
        _img(figs.get("retest"), "repeat sessions"),
        _table(scored.retest, "test-retest", g + "cpm_retest.tsv"),
        "<h2>One session's temperatures and ratings</h2>",
        _img(figs.get("session_traces"), "temperature traces"),
        "<h2>Runs with flags</h2>",
        _table(
            flagged[["participant_id", "session_id", "task", "run", "condition", "outcome", "flags"]],
            "flagged runs",
            g + "cpm_sessions.tsv",
        ),
        "<h2>Per-run scores</h2>",
        _table(s[SESSION_COLUMNS], "runs", g + "cpm_sessions.tsv"),
        "<h2>Per-participant summaries</h2>",
        _table(scored.participants, "participants", g + "cpm_participants.tsv"),
        "</body></html>",
    ]
    return "\n".join(parts)
