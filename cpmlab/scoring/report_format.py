"""Text for the report: numbers, p-values, intervals and labels that never read "None" or "nan"."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from cpmlab.scoring.options import ScoringOptions

MISSING = "n/a"
HEADLINE_MEASURES = ("cpm_early", "cpm_late")  # absolute effects; percent effects stay in the linked tables
CONDITIONS = ("active", "sham", "none")
MEASURE_LABELS = {
    "cpm_early": "early CPM (during CS)",
    "cpm_early_pct": "early CPM, % of baseline",
    "cpm_late": "late CPM (after CS)",
    "cpm_late_pct": "late CPM, % of baseline",
}
CONDITION_LABELS = {"active": "active", "sham": "sham", "none": "no conditioning"}


def is_missing(value: Any) -> bool:
    """Return True for None, NaN, infinity, pd.NA, NaT and empty or "nan"/"None" text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):  # "none" is a condition, never missing; "None" is a None turned into text
        return value.strip() in ("", "nan", "NaN", "None", "<NA>", "NaT", "n/a")
    try:
        v = float(value)
    except (TypeError, ValueError):
        return False
    return math.isnan(v) or math.isinf(v)  # an infinite statistic is not a value to report


def number(value: Any, digits: int = 2) -> str:
    """Return value with a fixed number of decimals, or n/a when it is missing or not a number."""
    if is_missing(value):
        return MISSING
    try:
        v = float(value)
    except (TypeError, ValueError):
        return MISSING
    text = f"{v:.{digits}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text  # no "-0.00"


def integer(value: Any) -> str:
    """Return a count as an integer, or n/a."""
    return MISSING if is_missing(value) else str(int(float(value)))


def p_value(value: Any) -> str:
    """Return a p-value with three decimals, "<0.001" below that, or n/a."""
    if is_missing(value):
        return MISSING
    v = float(value)
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def interval(low: Any, high: Any, digits: int = 2) -> str:
    """Return "[low, high]", or n/a when either bound is missing."""
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"[{number(low, digits)}, {number(high, digits)}]"


def with_interval(value: Any, low: Any, high: Any, digits: int = 2) -> str:
    """Return "value [low, high]", just the value when the interval is missing, or n/a."""
    if is_missing(value):
        return MISSING
    ci = interval(low, high, digits)
    return number(value, digits) if ci == MISSING else f"{number(value, digits)} {ci}"


def percent(value: Any) -> str:
    """Return a proportion 0-1 as a whole percentage, or n/a."""
    return MISSING if is_missing(value) else f"{100 * float(value):.0f}%"


def text(value: Any) -> str:
    """Return a label as text, or n/a when it is missing."""
    return MISSING if is_missing(value) else str(value)


def task_labels(sessions: pd.DataFrame) -> list[str]:
    """Return every task (paradigm) label of the per-run table, sorted."""
    if "task" not in sessions.columns:
        return []
    return sorted({str(t) for t in sessions["task"] if not is_missing(t)})


def measure_label(measure: Any) -> str:
    """Return the reader's name of a score (its column name when unknown)."""
    return MEASURE_LABELS.get(str(measure), text(measure))


def measure_short(measure: Any) -> str:
    """Return a score's name without its explanation (for counts in captions)."""
    return measure_label(measure).split(" (")[0]


def condition_label(condition: Any) -> str:
    """Return the reader's name of a condition (no conditioning for none)."""
    return CONDITION_LABELS.get(str(condition), text(condition))


def sign_short(options: ScoringOptions) -> str:
    """Return the sign convention in a few words, for captions and table notes."""
    if options.sign == "inhibition-negative":
        return "negative = inhibition (less pain with conditioning)"
    return "positive = inhibition (less pain with conditioning)"


def ordered(df: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Return df sorted by task, condition (active, sham, none) and measure (headline order) where present."""
    ranks = {
        "condition": {c: i for i, c in enumerate(CONDITIONS)},
        "measure": {m: i for i, m in enumerate(MEASURE_LABELS)},
    }
    sort = {}
    for key in keys:
        if key in ranks:
            sort[f"_{key}"] = df[key].map(lambda v, r=ranks[key]: r.get(str(v), len(r)))
        else:
            sort[f"_{key}"] = df[key].astype(str)
    return df.assign(**sort).sort_values(list(sort), kind="stable").drop(columns=list(sort)).reset_index(drop=True)


def html_table(header: Sequence[str], rows: Sequence[Sequence[str]], labels: int = 1) -> str:
    """Return an HTML table of already formatted cells (every cell escaped; the first `labels` columns are text)."""

    def cell(tag: str, i: int, value: str) -> str:
        cls = ' class="l"' if i < labels else ""
        return f"<{tag}{cls}>{html.escape(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def slug(value: str) -> str:
    """Return value with only letters, digits and hyphens (for figure file names)."""
    return "".join(c if c.isalnum() else "-" for c in value).strip("-") or "x"
