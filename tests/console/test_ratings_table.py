"""An empty ratings table shows its column names and a plain 'no ratings' line, never numbered headers."""

from __future__ import annotations

import pandas as pd

from cpmlab.console.run_view import RunView
from cpmlab.console.summary_view import RATING_COLUMNS, SummaryView
from cpmlab.console.worker import SessionReport
from cpmlab.core import events as ev


def header_texts(table) -> list[str]:  # type: ignore[no-untyped-def]
    """Return the horizontal header's texts ('' where Qt would number the column)."""
    out = []
    for col in range(table.columnCount()):
        item = table.horizontalHeaderItem(col)
        out.append("" if item is None else item.text())
    return out


def test_summary_without_ratings_names_its_columns_and_says_so(qtbot) -> None:
    """No ratings: named columns, no row numbers, the note shown; ratings: the table; none again: the note."""
    view = SummaryView()
    qtbot.addWidget(view)
    assert header_texts(view.ratings) == list(RATING_COLUMNS.values())
    view.show_report(SessionReport(outcome="aborted", ratings=pd.DataFrame()), scoring_available=False)
    assert header_texts(view.ratings) == list(RATING_COLUMNS.values())
    assert not view.ratings.verticalHeader().isVisible() and view.ratings.rowCount() == 0
    assert view.ratings_area.showing_note and view.ratings_area.note.text() == "No ratings in this session."

    ratings = pd.DataFrame({"trial": [1], "onset": [12.5], "scale": ["vas"], "rating": [40.0]})
    view.show_report(SessionReport(outcome="completed", ratings=ratings), scoring_available=False)
    assert not view.ratings_area.showing_note and view.ratings.rowCount() == 1
    assert header_texts(view.ratings) == ["trial", "onset (s)", "scale", "rating"]

    view.show_report(SessionReport(outcome="aborted", ratings=None), scoring_available=False)
    assert view.ratings_area.showing_note
    assert header_texts(view.ratings) == list(RATING_COLUMNS.values())  # not the last session's columns


def test_run_view_says_no_ratings_yet_until_the_first(qtbot) -> None:
    """The run view's ratings tab shows 'No ratings yet.' until a rating arrives, and again for a new session."""
    view = RunView()
    qtbot.addWidget(view)
    assert view.ratings_area.showing_note and view.ratings_area.note.text() == "No ratings yet."
    assert all(header_texts(view.ratings)) and not view.ratings.verticalHeader().isVisible()
    view.on_event(ev.Event(ev.RATING, 5.0, {"scale": "vas", "value": 30.0, "rates": "ts", "rt_s": 1.2}))
    assert not view.ratings_area.showing_note and view.ratings.rowCount() == 1
    view.begin([], 1.0, {})
    assert view.ratings_area.showing_note
