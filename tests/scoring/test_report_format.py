"""The report's text formatting: missing values read n/a, p-values and intervals, ordering, labels."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cpmlab.scoring.report_format import (
    MISSING,
    condition_label,
    html_table,
    integer,
    interval,
    is_missing,
    number,
    ordered,
    p_value,
    percent,
    slug,
    task_labels,
    text,
    with_interval,
)

MISSING_VALUES = [None, float("nan"), pd.NA, pd.NaT, math.inf, -math.inf, "", "nan", "None", "<NA>"]


@pytest.mark.parametrize("value", MISSING_VALUES, ids=repr)
def test_every_kind_of_missing_value_reads_n_a(value: object) -> None:
    """None, NaN, pd.NA, NaT, infinity and their text forms are missing and print n/a in every formatter."""
    assert is_missing(value)
    assert number(value) == MISSING and p_value(value) == MISSING and percent(value) == MISSING
    assert with_interval(value, 1.0, 2.0) == MISSING
    assert interval(value, 1.0) == MISSING and interval(1.0, value) == MISSING


def test_none_the_condition_is_a_value_not_a_missing_one() -> None:
    """'none' (no conditioning) is a label; 'None' is a None turned into text."""
    assert not is_missing("none") and is_missing("None")
    assert condition_label("none") == "no conditioning" and condition_label("active") == "active"
    assert text("none") == "none" and text(None) == MISSING


def test_numbers_intervals_and_p_values() -> None:
    """Fixed decimals without -0.00, p below 0.001 as <0.001, the CI dropped when a bound is missing."""
    assert number(-12.345) == "-12.35" and number(-0.001) == "0.00" and number(3, 1) == "3.0"
    assert number("abc") == MISSING
    assert p_value(0.0004) == "<0.001" and p_value(0.0123) == "0.012" and p_value(1.0) == "1.000"
    assert with_interval(-9.3, -13.5, -5.2) == "-9.30 [-13.50, -5.20]"
    assert with_interval(-9.3, None, -5.2) == "-9.30"
    assert integer(12.0) == "12" and integer(None) == MISSING
    assert percent(0.9166) == "92%" and percent(float("nan")) == MISSING


def test_ordered_puts_conditions_and_measures_in_reading_order() -> None:
    """Rows sort by task, then active, sham, none, then early before late, percent after absolute."""
    df = pd.DataFrame(
        {
            "task": ["b", "a", "a", "a", "a"],
            "condition": ["active", "none", "sham", "active", "active"],
            "measure": ["cpm_late", "cpm_late", "cpm_late", "cpm_late_pct", "cpm_early"],
        }
    )
    out = ordered(df, ["task", "condition", "measure"])
    assert list(zip(out["task"], out["condition"], out["measure"], strict=True)) == [
        ("a", "active", "cpm_early"),
        ("a", "active", "cpm_late_pct"),
        ("a", "sham", "cpm_late"),
        ("a", "none", "cpm_late"),
        ("b", "active", "cpm_late"),
    ]


def test_html_table_escapes_every_cell_and_slug_keeps_names_safe() -> None:
    """Cell text cannot inject markup; figure names hold only letters, digits and hyphens."""
    table = html_table(["<b>h</b>", "n"], [["<script>x</script>", "1"]])
    assert "<script>" not in table and "&lt;script&gt;" in table and "&lt;b&gt;" in table
    assert slug("0-100") == "0-100" and slug("a/b c") == "a-b-c" and slug("///") == "x"


def test_task_labels_skip_missing_and_sort() -> None:
    """Tasks of the per-run table, sorted, without missing labels; none without a task column."""
    assert task_labels(pd.DataFrame({"task": ["b", None, "a", "b"]})) == ["a", "b"]
    assert task_labels(pd.DataFrame()) == []
