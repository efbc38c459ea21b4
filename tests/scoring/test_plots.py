"""Figure functions on hand-built tables in the shared schema: what they draw, and None when there is nothing."""

from __future__ import annotations

import pandas as pd
from report_fixtures import PAIR_COLUMNS, PARTICIPANT_COLUMNS, RETEST_COLUMNS

from cpmlab.scoring.plots import effect_distributions, participant_lines
from cpmlab.scoring.plots_retest import bland_altman, retest_scatter


def _sessions(phases: dict[str, list[float | None]]) -> pd.DataFrame:
    n = len(next(iter(phases.values())))
    data = {
        "participant_id": [f"sub-{i}" for i in range(n)],
        "task": ["cpmsequential"] * n,
        "condition": ["active"] * n,
        "ts_range": ["0-100"] * n,
    }
    for p in ("before", "during", "after"):
        data[f"ts_{p}_mean"] = phases.get(p, [None] * n)
    return pd.DataFrame(data)


def _pairs(values: list[tuple[float, float]], condition: str = "active") -> pd.DataFrame:
    rows = [
        [f"sub-{i}", "cpmsequential", condition, "cpm_late", "0-100", "1", "2", a, b] for i, (a, b) in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def test_participant_lines_need_two_phases_and_count_participants() -> None:
    """One line per participant per condition; None with a single rated phase or another task."""
    drawn = participant_lines(
        _sessions({"before": [50.0, 60.0, 40.0], "after": [40.0, None, 30.0]}), "cpmsequential", "0-100"
    )
    assert drawn is not None and drawn.n == 3 and drawn.counts == {"active": 3}
    assert len(drawn.figure.axes) == 1 and len(drawn.figure.axes[0].get_lines()) >= 3
    assert participant_lines(_sessions({"before": [50.0, 60.0]}), "cpmsequential", "0-100") is None
    assert participant_lines(_sessions({"before": [1.0], "after": [2.0]}), "cpmparallel", "0-100") is None


def test_effect_distributions_draw_the_headline_measures_only() -> None:
    """Absolute effects get a panel each; a table with only percent effects draws nothing."""
    rows = [
        ["sub-1", "cpmsequential", "active", "cpm_late", "0-100", 2, -10.0, 1.0, -10.0, "inhibition-negative"],
        ["sub-2", "cpmsequential", "sham", "cpm_late", "0-100", 2, -1.0, 1.0, -1.0, "inhibition-negative"],
        ["sub-1", "cpmsequential", "active", "cpm_late_pct", "0-100", 2, -20.0, 1.0, -20.0, "inhibition-negative"],
    ]
    table = pd.DataFrame(rows, columns=PARTICIPANT_COLUMNS)
    drawn = effect_distributions(table, "cpmsequential", "0-100", "negative = inhibition")
    assert drawn is not None and drawn.n == 2 and drawn.counts == {"active, late CPM": 1, "sham, late CPM": 1}
    assert len(drawn.figure.axes) == 1
    only_pct = table[table["measure"] == "cpm_late_pct"]
    assert effect_distributions(only_pct, "cpmsequential", "0-100", "negative = inhibition") is None


def test_bland_altman_draws_limits_of_agreement_only_from_two_pairs() -> None:
    """Bias and the zero line always; the two 95% limits only when the SD of the differences exists."""
    one = bland_altman(_pairs([(-10.0, -8.0)]), "cpmsequential", "0-100")
    many = bland_altman(_pairs([(-10.0, -8.0), (-5.0, -9.0), (-12.0, -11.0)]), "cpmsequential", "0-100")
    assert one is not None and many is not None and one.n == 1 and many.n == 3
    assert len(one.figure.axes[0].get_lines()) == 2 and len(many.figure.axes[0].get_lines()) == 4
    assert many.figure.axes[0].get_ylabel() == "ses-2 - ses-1"
    assert bland_altman(_pairs([]), "cpmsequential", "0-100") is None


def test_retest_scatter_titles_carry_the_icc_when_the_table_has_it() -> None:
    """One panel per condition and measure; ICC(3,1) with its CI in the title when the retest row exists."""
    pairs = pd.concat([_pairs([(-10.0, -8.0), (-5.0, -6.0)]), _pairs([(-1.0, 0.0), (1.0, 2.0)], "sham")])
    row = ["cpmsequential", "active", "cpm_late", "0-100", 2, "1 | 2", 0.81, 0.2, 0.95, 0.8, 0.1, 0.9]
    retest = pd.DataFrame([[*row, 3.0, 1.0, 2.8, 1.1, 3.0, "inhibition-negative"]], columns=RETEST_COLUMNS)
    drawn = retest_scatter(pairs, retest, "cpmsequential", "0-100")
    assert drawn is not None and drawn.counts == {"active, late CPM": 2, "sham, late CPM": 2}
    titles = [ax.get_title() for ax in drawn.figure.axes if ax.get_visible()]
    assert "ICC(3,1) 0.81 [0.20, 0.95]" in titles[0] and "ICC" not in titles[1]
    plain = retest_scatter(pairs, retest.iloc[0:0], "cpmsequential", "0-100")
    assert plain is not None and not any("ICC" in ax.get_title() for ax in plain.figure.axes)
