"""The report's sections: the answer first (CPM per paradigm, active versus sham, reliability), then quality.

Each section reads the group tables by the column names of the shared table schema (groups,
contrast, retest: per task and condition) and shows the headline measures only; the full
tables are linked.
"""

from __future__ import annotations

import html

import pandas as pd

from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.pipeline import ScoredDataset
from cpmlab.scoring.report_format import (
    HEADLINE_MEASURES,
    condition_label,
    html_table,
    integer,
    is_missing,
    measure_label,
    number,
    ordered,
    p_value,
    percent,
    sign_short,
    text,
    with_interval,
)

TABLE_LINK = "../{name}.tsv"  # from report/report.html to the tables in the group folder
FULL_TABLES = (
    ("cpm_groups", "group summaries: every measure, incl. percent of baseline, per task and condition"),
    ("cpm_participants", "each participant's summary per task, condition and measure"),
    ("cpm_contrast", "active minus sham per task and measure"),
    ("cpm_retest", "test-retest reliability per task, condition and measure"),
    ("cpm_retest_pairs", "the session pairs behind the reliability"),
    ("cpm_sessions", "every run's scores, flags and outcome"),
)


READS = {  # the columns of the shared table schema each part of the report reads
    "groups": (
        "task",
        "condition",
        "measure",
        "range",
        "n",
        "mean",
        "sd",
        "ci_low",
        "ci_high",
        "median",
        "prop_inhibition",
    ),
    "contrast": (
        "task",
        "measure",
        "range",
        "n",
        "mean_active",
        "mean_sham",
        "mean_diff",
        "diff_ci_low",
        "diff_ci_high",
        "t",
        "df",
        "p_t",
        "wilcoxon_w",
        "p_wilcoxon",
        "dz",
    ),
    "retest": (
        "task",
        "condition",
        "measure",
        "range",
        "n",
        "sessions",
        "icc_3_1",
        "icc_3_1_ci_low",
        "icc_3_1_ci_high",
        "icc_2_1",
        "icc_2_1_ci_low",
        "icc_2_1_ci_high",
        "sem_3_1",
        "srd_3_1",
    ),
    "participants": ("participant_id", "task", "condition", "measure", "range", "mean"),
    "retest_pairs": (
        "participant_id",
        "task",
        "condition",
        "measure",
        "range",
        "session_1",
        "session_2",
        "value_1",
        "value_2",
    ),
    "sessions": (
        "participant_id",
        "task",
        "condition",
        "outcome",
        "flags",
        "ts_range",
        "ts_before_mean",
        "ts_after_mean",
    ),
}


def check_tables(scored: ScoredDataset) -> None:
    """Raise CpmlabError naming the table and columns when a table lacks a column the report reads."""
    for name, columns in READS.items():
        df = getattr(scored, name)
        if df.empty and len(df.columns) == 0:
            continue  # never computed: the sections say there is nothing to show
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise CpmlabError(
                f"the {name} table has no column {', '.join(missing)}; the report needs the per-task tables "
                "of this cpmlab version (score the dataset again with it)"
            )


def link(name: str) -> str:
    """Return a relative link to one of the full tables."""
    href = html.escape(TABLE_LINK.format(name=name))
    return f'<a href="{href}">{html.escape(name)}.tsv</a>'


def _note(body: str) -> str:
    return f'<p class="note">{body}</p>'


def _headline(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if df.empty or "measure" not in df.columns:
        return df.iloc[0:0]
    return ordered(df[df["measure"].isin(HEADLINE_MEASURES)], keys)


def groups_section(scored: ScoredDataset) -> str:
    """Return the CPM effect per paradigm and condition: mean with 95% CI, SD, median, share inhibited."""
    g = _headline(scored.groups, ["task", "condition", "measure", "range"])
    intro = (
        "<h2>CPM effect per paradigm and condition</h2>"
        f"<p>Mean over participants (each the mean of their sessions) with its 95% CI; "
        f"{html.escape(sign_short(scored.options))}. CS: conditioning stimulus.</p>"
    )
    if g.empty:
        return intro + _note(
            "No CPM effect could be computed: no run has test-stimulus ratings both before and with conditioning."
        )
    header = ["Paradigm", "Condition", "Measure", "Range", "n", "Mean [95% CI]", "SD", "Median", "Inhibition"]
    rows = [
        [
            text(r["task"]),
            condition_label(r["condition"]),
            measure_label(r["measure"]),
            text(r["range"]),
            integer(r["n"]),
            with_interval(r["mean"], r["ci_low"], r["ci_high"]),
            number(r["sd"]),
            number(r["median"]),
            percent(r["prop_inhibition"]),
        ]
        for _, r in g.iterrows()
    ]
    more = f"Every measure, including percent of baseline: {link('cpm_groups')}; per participant: " + link(
        "cpm_participants"
    )
    more += ". Inhibition: share of participants with inhibition."
    return intro + html_table(header, rows, labels=4) + _note(more)


def _t_df(t: object, df: object) -> str:
    if is_missing(t) or is_missing(df):
        return number(t)
    return f"{number(t)} ({integer(df)})"


def contrast_section(scored: ScoredDataset) -> str:
    """Return active minus sham per paradigm: means, difference with 95% CI, paired t, Wilcoxon, dz."""
    c = _headline(scored.contrast, ["task", "measure", "range"])
    intro = "<h2>Active versus sham</h2>"
    if c.empty:
        return intro + _note(
            "No paradigm has participants with both an active and a sham session, so there is no contrast."
        )
    header = [
        "Paradigm",
        "Measure",
        "Range",
        "n pairs",
        "Active",
        "Sham",
        "Difference [95% CI]",
        "t (df)",
        "p (t)",
        "Wilcoxon W",
        "p (W)",
        "dz",
    ]
    rows = [
        [
            text(r["task"]),
            measure_label(r["measure"]),
            text(r["range"]),
            integer(r["n"]),
            number(r["mean_active"]),
            number(r["mean_sham"]),
            with_interval(r["mean_diff"], r["diff_ci_low"], r["diff_ci_high"]),
            _t_df(r["t"], r["df"]),
            p_value(r["p_t"]),
            number(r["wilcoxon_w"], 1),
            p_value(r["p_wilcoxon"]),
            number(r["dz"]),
        ]
        for _, r in c.iterrows()
    ]
    note = (
        "Active minus sham within participants of the same paradigm (paired t-test and Wilcoxon "
        f"signed-rank test; dz = mean difference / SD of the differences). Full table: {link('cpm_contrast')}."
    )
    return intro + html_table(header, rows, labels=3) + _note(note)


def retest_section(scored: ScoredDataset) -> str:
    """Return ICC(3,1) and ICC(2,1) with 95% CIs, SEM and SRD per paradigm and condition."""
    t = _headline(scored.retest, ["task", "condition", "measure", "range"])
    intro = "<h2>Test-retest reliability</h2>"
    if t.empty:
        return intro + _note(
            "No paradigm has at least two participants with two sessions in one condition, so reliability "
            "is not computed."
        )
    header = [
        "Paradigm",
        "Condition",
        "Measure",
        "Range",
        "n",
        "Sessions",
        "ICC(3,1) [95% CI]",
        "ICC(2,1) [95% CI]",
        "SEM (3,1)",
        "SRD (3,1)",
    ]
    rows = [
        [
            text(r["task"]),
            condition_label(r["condition"]),
            measure_label(r["measure"]),
            text(r["range"]),
            integer(r["n"]),
            text(r["sessions"]),
            with_interval(r["icc_3_1"], r["icc_3_1_ci_low"], r["icc_3_1_ci_high"]),
            with_interval(r["icc_2_1"], r["icc_2_1_ci_low"], r["icc_2_1_ci_high"]),
            number(r["sem_3_1"]),
            number(r["srd_3_1"]),
        ]
        for _, r in t.iterrows()
    ]
    note = (
        "ICC(3,1): consistency; ICC(2,1): absolute agreement; 95% CIs from the F distribution (McGraw & "
        "Wong 1996). SEM and SRD (from ICC(3,1)) in rating points of the range; those from ICC(2,1) are in "
        f"{link('cpm_retest')}; the pairs: {link('cpm_retest_pairs')}."
    )
    return intro + html_table(header, rows, labels=4) + _note(note)


def quality_section(scored: ScoredDataset) -> str:
    """Return how the runs ended and which flags they carry, counted (the runs are in the sessions table)."""
    s = scored.sessions
    parts = ["<h2>Runs and data quality</h2>"]
    if s.empty:
        return parts[0] + _note("The dataset has no runs.")
    outcomes = s["outcome"].map(text).value_counts()
    rows = [[str(k), str(v)] for k, v in outcomes.items()]
    parts.append(html_table(["Outcome", "Runs"], rows))
    flags = s["flags"].dropna().map(str).str.split(";").explode().str.strip()
    flags = flags[flags != ""].value_counts()
    if flags.empty:
        parts.append(_note("No run carries a flag."))
    else:
        parts.append(html_table(["Flag", "Runs"], [[str(k), str(v)] for k, v in flags.items()]))
    parts.append(_note(f"Which runs, and why: the flags column of {link('cpm_sessions')}."))
    return "".join(parts)


def tables_section() -> str:
    """Return the list of full tables, linked."""
    items = "".join(f"<li>{link(name)}: {html.escape(what)}</li>" for name, what in FULL_TABLES)
    return f"<h2>Full tables</h2><ul>{items}</ul>" + _note(
        "Each table has a .json sidecar beside it describing every column; missing values are n/a."
    )
