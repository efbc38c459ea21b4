"""The console runs a study: participant list, enrolment form, a visit with its carried variables, the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from console_helpers import fill_setup

from cpmlab.console.main_window import MainWindow
from cpmlab.console.study_forms import AddParticipantDialog, SessionOptions, SessionOptionsDialog, VariablesDialog
from cpmlab.protocol.loader import effective_limits, load_protocol
from cpmlab.study.loader import load_study

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "console"
FAST = 60.0


def shot(win: MainWindow, name: str) -> Path:
    """Save a screenshot of the whole window."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    win.stall_monitor.suspend()
    assert win.grab().save(str(path))
    return path


def open_study(qtbot, win: MainWindow, data: Path | None = None) -> None:
    """Show the study view and wait until it has re-read the data folder."""
    if data is not None:
        win.study.view.data_edit.setText(str(data))
        win.study.view.study_edit.setText("cpm_active_sham")
    old = win.study.view.snapshot
    win.study.show_study()
    qtbot.waitUntil(lambda: win.study.view.snapshot is not None and win.study.view.snapshot is not old, timeout=15_000)


def select(qtbot, win: MainWindow, label: str) -> None:
    view = win.study.view
    qtbot.waitUntil(lambda: view.snapshot is not None and label in view.snapshot.next, timeout=15_000)
    labels = [row[0] for row in view.snapshot.rows]
    view.table.selectRow(labels.index(f"sub-{label}"))
    assert view.selected == label


def run_visit(qtbot, win: MainWindow) -> None:
    """Press 'Start this visit' and wait for the summary."""
    view = win.study.view
    assert view.start_button.isEnabled(), view.visit_problem.text()
    view.start_button.click()
    qtbot.waitUntil(lambda: win.state != "setup" or "not ready" in view.visit_problem.text(), timeout=20_000)
    assert win.state != "setup", view.visit_problem.text()
    qtbot.waitUntil(lambda: win.state == "finished", timeout=120_000)
    assert win.last_report is not None and win.last_report.outcome == "completed", win.last_report


def test_a_participant_does_both_visits_from_the_study_view(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Enrol two participants, run sub-01's visit 1, see the calibration in the summary, then visit 2 carries it."""
    data = tmp_path / "data"
    fill_setup(qtbot, window, data)
    window.setup_view.speed_spin.setValue(FAST)
    open_study(qtbot, window, data)
    view = window.study.view
    view.enrol("01", {"age": "34", "sex": "F", "handedness": "R"})
    qtbot.waitUntil(lambda: view.snapshot is not None and "01" in view.snapshot.next, timeout=15_000)
    view.enrol("02", {"age": "29"})
    select(qtbot, window, "02")
    select(qtbot, window, "01")
    assert [r[0] for r in view.snapshot.rows] == ["sub-01", "sub-02"]
    assert "Visit v1" in view.visit_text.text()
    shot(window, "study-participants.png")

    run_visit(qtbot, window)
    assert "calibrated ts_target_c:" in window.summary_view.summary.toPlainText()
    shot(window, "study-summary-calibration.png")
    v1 = data / "sub-01" / "ses-1" / "beh"
    events = pd.read_csv(next(v1.glob("*_events.tsv")), sep="\t")
    calibrated = float(events.loc[events["trial_type"] == "calibration_result", "value"].iloc[-1])

    open_study(qtbot, window)
    select(qtbot, window, "01")
    nv = view.current_visit()
    assert nv is not None and nv.visit.id == "v2" and nv.variables == {"ts_target_c": calibrated}
    assert view.carried.edits["ts_target_c"].text() == f"{calibrated:g}"
    shot(window, "study-visit-carried-variables.png")

    # changing a carried value needs a reason; a value above the limit is refused
    view.carried.edits["ts_target_c"].setText("55")
    assert not view.start_button.isEnabled() and "outside the allowed range" in view.visit_problem.text()
    view.carried.edits["ts_target_c"].setText(f"{calibrated - 0.5:g}")
    assert not view.start_button.isEnabled() and "give the reason" in view.visit_problem.text()
    view.reason.setText("participant reported the visit-1 heat as too strong")
    assert view.start_button.isEnabled()
    run_visit(qtbot, window)

    v2 = next((data / "sub-01" / "ses-2" / "beh").glob("*_beh.tsv"))
    ratings = pd.read_csv(v2, sep="\t")
    assert (ratings.loc[ratings["role"] == "test_stimulus", "stimulus_c"] == calibrated - 0.5).all()
    meta = json.loads(v2.with_name(v2.name.replace("_beh.tsv", "_beh.json")).read_text())["cpmlab"]["study"]
    assert meta["visit"] == "v2" and meta["carried"][0]["value"] == calibrated
    assert meta["overrides"] == [
        {
            "name": "ts_target_c",
            "carried": calibrated,
            "value": calibrated - 0.5,
            "reason": "participant reported the visit-1 heat as too strong",
        }
    ]
    open_study(qtbot, window)
    assert view.snapshot.rows[0][-1] == "all done"


def test_forms_refuse_bad_values(qtbot, window: MainWindow) -> None:
    """The enrolment form checks label and fields; the variables form knows only the protocol's names and limits."""
    study = load_study("cpm_active_sham").study
    dialog = AddParticipantDialog(study, {"01"})
    qtbot.addWidget(dialog)
    dialog.label_edit.setText("01")
    assert any("already" in p for p in dialog.problems())
    dialog.label_edit.setText("05")
    dialog.inputs["age"].setText("12")
    assert dialog.problems() == ["age: 12 is outside 18-99 years"]
    dialog.inputs["age"].setText("40")
    assert dialog.problems() == []

    protocol = load_protocol(ROOT / "protocols" / "cpm_sequential.yaml")
    form = VariablesDialog(protocol, effective_limits(protocol, None), {})
    qtbot.addWidget(form)
    assert list(form.editor.edits) == ["ts_target_c"]
    form.editor.edits["ts_target_c"].setText("51")
    assert form.editor.problems() and not form.buttons.buttons()[0].isEnabled()
    form.editor.edits["ts_target_c"].setText("45.5")
    assert form.values() == {"ts_target_c": 45.5}

    options = SessionOptionsDialog(SessionOptions(), ["de", "en"])
    qtbot.addWidget(options)
    options.address.setText("localhost:5557")
    assert "tcp://HOST:PORT" in options.error.text()
    options.address.setText("tcp://0.0.0.0:5557")
    options.language.setCurrentIndex(1)
    options.streams.setText("EEG, BioSemi")
    assert options.options() == SessionOptions("tcp://0.0.0.0:5557", "de", ["EEG", "BioSemi"])


def test_operator_buttons_are_journaled_while_a_session_runs(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """The operator bar is disabled in the setup; during a session 'Pain detected' is journaled with its source."""
    from console_helpers import start_and_wait_running

    from cpmlab.storage.journal import read_journal

    bar = window.study.operator_bar
    assert not bar.actions_by_event["pain_detected"].isEnabled()
    fill_setup(qtbot, window, tmp_path / "data")
    start_and_wait_running(qtbot, window)
    qtbot.waitUntil(lambda: bar.actions_by_event["pain_detected"].isEnabled(), timeout=5_000)
    bar.actions_by_event["pain_detected"].trigger()
    journal = window.prepared.session.paths.journal
    qtbot.waitUntil(lambda: any(r.get("name") == "operator_response" for r in read_journal(journal)), timeout=5_000)
    record = next(r for r in read_journal(journal) if r.get("name") == "operator_response")
    assert (record["event"], record["source"], record["accepted"]) == ("pain_detected", "operator", False)
    qtbot.waitUntil(lambda: window.state == "finished", timeout=60_000)
    qtbot.waitUntil(lambda: not bar.actions_by_event["pain_detected"].isEnabled(), timeout=2_000)
