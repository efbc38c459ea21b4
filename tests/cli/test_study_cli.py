"""cpmlab study: four simulated participants, two visits each, in counterbalanced order with the calibration carried."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from bids_validator import validate

from cpmlab.cli.main import main
from cpmlab.scoring.pipeline import score_dataset
from cpmlab.study.counterbalance import order_for
from cpmlab.study.loader import load_study

FAST = ["--emulate", "--simulate", "--speed", "150", "--no-lsl"]
TASKS = {
    "v1": {"active": "cpmsequential", "sham": "cpmsequential"},
    "v2": {"active": "cpmsequential", "sham": "cpmsequential"},
}


@pytest.mark.slow
def test_four_participants_two_visits_each_follow_the_study(tmp_path: Path, capsys) -> None:
    """study next x2 for four participants: counterbalanced order, visit 2 at visit 1's calibrated temperature, status shows it, valid BIDS."""
    data = tmp_path / "data"
    study = load_study("cpm_active_sham").study
    labels = ["01", "02", "03", "04"]
    for i, label in enumerate(labels):
        assert (
            main(["study", "add", "cpm_active_sham", "-p", label, "--data", str(data), "--field", f"age={30 + i}"]) == 0
        )
    for label in labels:
        for _ in range(2):
            assert main(["study", "next", "cpm_active_sham", "-p", label, "--data", str(data), *FAST]) == 0
    out = capsys.readouterr().out
    assert "carried:   ts_target_c = " in out
    assert len({line for line in out.splitlines() if line.startswith("calibrated ts_target_c:")}) > 1  # own seeds
    assert main(["study", "next", "cpm_active_sham", "-p", "01", "--data", str(data), *FAST]) == 0
    assert "has done every visit" in capsys.readouterr().out

    orders = [order_for(study, i) for i in range(4)]
    assert sorted(orders) == sorted([("active", "sham"), ("sham", "active")] * 2)  # balanced
    for label, order in zip(labels, orders, strict=True):
        v1 = data / f"sub-{label}" / "ses-1" / "beh" / f"sub-{label}_ses-1_task-{TASKS['v1'][order[0]]}_run-1"
        v2 = data / f"sub-{label}" / "ses-2" / "beh" / f"sub-{label}_ses-2_task-{TASKS['v2'][order[1]]}_run-1"
        events = pd.read_csv(f"{v1}_events.tsv", sep="\t")
        calibrated = float(events.loc[events["trial_type"] == "calibration_result", "value"].iloc[-1])
        for stem in (v1, v2):
            ratings = pd.read_csv(f"{stem}_beh.tsv", sep="\t")
            ts = ratings.loc[ratings["role"] == "test_stimulus", "stimulus_c"]
            assert len(ts) == 4 and (ts == calibrated).all(), (stem, calibrated, list(ts))
        meta = pd.read_json(f"{v2}_beh.json", typ="series")["cpmlab"]
        assert meta["condition"] == order[1]
        assert meta["study"]["visit"] == "v2" and meta["study"]["carried"][0]["value"] == calibrated

    assert main(["study", "status", "cpm_active_sham", "--data", str(data)]) == 0
    table = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in table if line.startswith("sub-")}
    assert set(rows) == {f"sub-{label}" for label in labels}
    for label, order in zip(labels, orders, strict=True):
        row = rows[f"sub-{label}"]
        assert "-".join(order) in row
        assert f"done {order[0]} run 1" in row and f"done {order[1]} run 1" in row and row.endswith("all done")
    participants = pd.read_csv(data / "participants.tsv", sep="\t", dtype=str)
    assert list(participants["condition_order"]) == ["-".join(o) for o in orders]
    assert list(participants["age"]) == ["30", "31", "32", "33"]
    errors, _ = validate(data)
    assert errors == [], errors

    # both visits run the sequential paradigm (task cpmsequential), so the scores pair every
    # participant's active visit with their sham visit
    contrast = score_dataset(data).contrast
    late = contrast[(contrast["task"] == "cpmsequential") & (contrast["measure"] == "cpm_late")]
    assert len(late) == 1 and int(late["n"].iloc[0]) == 4


def test_next_refuses_an_unenrolled_participant_and_opens_nothing(tmp_path: Path, capsys) -> None:
    """study next for a new label without --enrol exits 2, names the enrol command and writes no file."""
    data = tmp_path / "data"
    assert main(["study", "next", "cpm_active_sham", "-p", "07", "--data", str(data), *FAST]) == 2
    assert "cpmlab study add" in capsys.readouterr().err
    assert not data.exists()


def test_check_reports_problems_with_their_lines(tmp_path: Path, capsys) -> None:
    """study check prints OK and the visits for the example, and file:line problems for a broken study."""
    assert main(["study", "check", "cpm_active_sham"]) == 0
    assert "v2 (ses-2)" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("cpmlab_study: 1\nname: b\ntitle: B\nvisits:\n  - {id: v1, session: '1', protocol: nope}\n")
    assert main(["study", "check", str(bad)]) == 1
    assert f"{bad}:5: visits[0].protocol: no shipped protocol 'nope'" in capsys.readouterr().err
