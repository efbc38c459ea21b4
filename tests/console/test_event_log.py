"""The run view's event log shows the bayesian calibration's running estimate and interval as it arrives."""

from __future__ import annotations

from cpmlab.console.event_log import describe_event
from cpmlab.console.run_view import RunView
from cpmlab.core import events as ev


def estimate_event() -> ev.Event:
    return ev.Event(
        ev.MEASURE,
        t=10.0,
        data={
            "measure": "calibration_estimate",
            "value": 46.31,
            "ci_low_c": 45.8,
            "ci_high_c": 46.9,
            "ci_level": 0.95,
            "trial": 3,
            "step_id": "pain60",
            "unit": "degC",
        },
    )


def test_estimate_line_states_trial_estimate_and_credible_interval() -> None:
    """The log line names the trial, the estimate and the 95% credible interval from the typed fields."""
    shown = describe_event(estimate_event())
    assert shown is not None
    text, _ = shown
    assert "trial 3" in text and "46.31 °C" in text and "95% CI 45.80–46.90" in text


def test_other_measures_stay_quiet() -> None:
    """Calibration trials (already shown as ratings) add no extra line."""
    trial = ev.Event(ev.MEASURE, t=1.0, data={"measure": "calibration_trial", "value": 44.0, "rating": 20.0})
    assert describe_event(trial) is None


def test_run_view_shows_the_estimate_live(qtbot) -> None:
    """Fed to the run view during a session, the estimate appears in its event log."""
    view = RunView()
    qtbot.addWidget(view)
    view.on_event(estimate_event())
    assert any("calibration estimate after trial 3" in line for line in view.log.lines)
