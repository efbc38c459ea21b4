"""Enrolment: fields checked, participants.tsv/.json written as BIDS asks, existing rows never changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from study_helpers import STUDY

from cpmlab.core.errors import CpmlabError
from cpmlab.study.loader import parse_study
from cpmlab.study.participants import enrol, participants, read_table

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def study():
    return parse_study(STUDY, str(ROOT / "studies" / "x.yaml")).study


def test_enrolment_writes_fields_and_the_counterbalanced_order(study, tmp_path: Path) -> None:
    """Each participant gets a row with their fields and the next order of the scheme; the sidecar describes every column."""
    enrol(study, tmp_path, "01", {"age": "34", "sex": "F"})
    enrol(study, tmp_path, "02", {})
    columns, rows = read_table(tmp_path)
    assert columns == ["participant_id", "age", "sex", "condition_order"]
    assert rows[0] == {
        "participant_id": "sub-01",
        "age": "34",
        "sex": "F",
        "condition_order": rows[0]["condition_order"],
    }
    assert rows[1]["age"] == "n/a"
    assert {rows[0]["condition_order"], rows[1]["condition_order"]} == {"active-sham", "sham-active"}
    sidecar = json.loads((tmp_path / "participants.json").read_text())
    assert sidecar["age"]["Units"] == "years"
    assert sidecar["sex"]["Levels"] == {"F": "female", "M": "male"}
    assert set(sidecar["condition_order"]["Levels"]) == {"active-sham", "sham-active"}
    assert [p.order for p in participants(study, tmp_path)] == [tuple(r["condition_order"].split("-")) for r in rows]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"age": "17"}, "outside 18-99"),
        ({"age": "thirty"}, "not a whole number"),
        ({"sex": "X"}, "not one of F"),
        ({"height": "180"}, "unknown participant field"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(study, tmp_path: Path, values, message) -> None:
    """A value outside its range or levels, or an unknown field, is refused before any file is written."""
    with pytest.raises(CpmlabError, match=message):
        enrol(study, tmp_path, "01", values)
    assert not (tmp_path / "participants.tsv").exists()


def test_existing_rows_and_columns_are_kept(study, tmp_path: Path) -> None:
    """A participants.tsv from plain runs keeps its rows and columns; enrolling twice is refused."""
    (tmp_path / "participants.tsv").write_text("participant_id\tsite\nsub-09\tBerlin\nsub-01\tn/a\n")
    (tmp_path / "participants.json").write_text(json.dumps({"site": {"Description": "Lab site"}}))
    enrol(study, tmp_path, "01", {"age": "40"})
    columns, rows = read_table(tmp_path)
    assert columns == ["participant_id", "site", "age", "sex", "condition_order"]
    assert rows[0] == {
        "participant_id": "sub-09",
        "site": "Berlin",
        "age": "n/a",
        "sex": "n/a",
        "condition_order": "n/a",
    }
    assert rows[1]["age"] == "40" and rows[1]["condition_order"] in ("active-sham", "sham-active")
    assert json.loads((tmp_path / "participants.json").read_text())["site"] == {"Description": "Lab site"}
    before = (tmp_path / "participants.tsv").read_bytes()
    with pytest.raises(CpmlabError, match="already enrolled"):
        enrol(study, tmp_path, "01", {})
    assert (tmp_path / "participants.tsv").read_bytes() == before
    assert [p.label for p in participants(study, tmp_path) if p.order is not None] == ["01"]
