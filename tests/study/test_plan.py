"""The next visit follows from the data folder: order, repeats after an early end, carried values and their checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from study_helpers import STUDY, write_journal

from cpmlab.study.loader import parse_study
from cpmlab.study.participants import enrol
from cpmlab.study.plan import StudyStateError, next_visit
from cpmlab.study.status import status_rows

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def loaded():
    return parse_study(STUDY, str(ROOT / "studies" / "x.yaml"))


def _first(loaded, root: Path) -> tuple[str, str]:
    p = enrol(loaded.study, root, "01", {})
    return p.order[0], p.order[1]


def test_unenrolled_participants_are_told_how_to_enrol(loaded, tmp_path: Path) -> None:
    """next_visit for a label not in participants.tsv names the enrol command."""
    with pytest.raises(StudyStateError, match="cpmlab study add"):
        next_visit(loaded, tmp_path, "01")


def test_visits_follow_the_participant_order_and_carry_the_calibration(loaded, tmp_path: Path) -> None:
    """Visit 1 runs the first condition; after it completes, visit 2 runs the second with visit 1's ts_target_c."""
    first, second = _first(loaded, tmp_path)
    nv = next_visit(loaded, tmp_path, "01")
    assert (nv.visit.id, nv.condition, nv.run, nv.carried) == ("v1", first, 1, [])
    write_journal(tmp_path, "01", "1", nv.protocol.task, 1, condition=first, variables={"ts_target_c": 45.3})
    nv = next_visit(loaded, tmp_path, "01")
    assert (nv.visit.id, nv.condition, nv.run) == ("v2", second, 1)
    assert nv.variables == {"ts_target_c": 45.3}
    assert nv.metadata("s")["study"]["carried"][0]["from_visit"] == "v1"
    write_journal(tmp_path, "01", "2", nv.protocol.task, 1, condition=second)
    assert next_visit(loaded, tmp_path, "01") is None
    header, rows = status_rows(loaded, tmp_path)
    assert header == ["participant", "order", "age", "sex", "v1", "v2", "next"]
    assert rows[0][4].startswith("done") and rows[0][5].startswith("done") and rows[0][6] == "all done"


def test_a_visit_that_ended_early_is_repeated_as_the_next_run(loaded, tmp_path: Path) -> None:
    """An aborted visit 1 is offered again as run 2; the status says where it stopped and why."""
    _first(loaded, tmp_path)
    nv = next_visit(loaded, tmp_path, "01")
    stop = [
        {"kind": "step_start", "t": 1.5, "step_id": "cs"},
        {"kind": "control", "t": 1.6, "action": "abort", "source": "operator", "reason": "participant asked to stop"},
    ]
    write_journal(tmp_path, "01", "1", nv.protocol.task, 1, outcome="aborted", records=stop)
    nv = next_visit(loaded, tmp_path, "01")
    assert (nv.visit.id, nv.run, nv.repeats) == ("v1", 2, [1])
    row = status_rows(loaded, tmp_path)[1][0]
    assert row[4].startswith("aborted at cs") and row[6].startswith("v1")


def test_a_run_without_an_end_blocks_the_participant(loaded, tmp_path: Path) -> None:
    """A journal with no session_end (running, or crashed) stops next_visit and names cpmlab recover."""
    _first(loaded, tmp_path)
    write_journal(tmp_path, "01", "1", "cpmsequential", 1, outcome=None)
    with pytest.raises(StudyStateError, match="cpmlab recover"):
        next_visit(loaded, tmp_path, "01")


def test_a_missing_carried_value_stops_before_anything_opens(loaded, tmp_path: Path) -> None:
    """Visit 1 completed without setting ts_target_c: visit 2 cannot start and says which value is missing."""
    first, _ = _first(loaded, tmp_path)
    write_journal(tmp_path, "01", "1", "cpmsequential", 1, condition=first)
    with pytest.raises(StudyStateError, match="recorded no value of ts_target_c"):
        next_visit(loaded, tmp_path, "01")


def test_a_carried_value_outside_the_limits_stops_before_anything_opens(loaded, tmp_path: Path) -> None:
    """A carried 51.5 C is above the visit-2 protocol's 50 C limit: refused with the step and the limit named."""
    first, _ = _first(loaded, tmp_path)
    write_journal(tmp_path, "01", "1", "cpmsequential", 1, condition=first, variables={"ts_target_c": 51.5})
    with pytest.raises(StudyStateError) as info:
        next_visit(loaded, tmp_path, "01")
    message = str(info.value)
    assert "ts_target_c = 51.5 (from visit v1)" in message
    assert "target_c 51.5 C is outside the allowed range" in message
    assert "nothing was opened" in message
    assert not (tmp_path / "sourcedata" / "cpmlab" / "sub-01" / "ses-2").exists()
