"""Continuous ratings over heat plateaus: mean, peak and trapezoid AUC on known traces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scoring_helpers import events

from cpmlab.scoring.continuous import plateau_summaries, window_summary
from cpmlab.scoring.dataset import Recording


def test_auc_mean_and_peak_of_a_linear_ramp() -> None:
    """Rating rising 0 -> 10 over 10 s at 10 Hz: AUC 50 rating*s, mean 5, peak 10."""
    t = np.arange(0, 101) / 10.0
    s = window_summary(t, t.copy(), 0.0, 10.0)
    assert s["auc"] == pytest.approx(50.0)
    assert s["mean"] == pytest.approx(5.0)
    assert s["peak"] == pytest.approx(10.0)
    assert s["covered_s"] == pytest.approx(10.0)


def test_window_edges_between_samples_are_interpolated() -> None:
    """Constant 20 sampled at 1 Hz, window 0.5-3.5 s: AUC exactly 60 over 3 s."""
    t = np.arange(0.0, 6.0)
    s = window_summary(t, np.full_like(t, 20.0), 0.5, 3.5)
    assert s["auc"] == pytest.approx(60.0) and s["covered_s"] == pytest.approx(3.0) and s["mean"] == 20.0


def test_missing_samples_are_left_out() -> None:
    """n/a samples do not count as 0: a 30-rated window with gaps keeps mean 30."""
    t = np.arange(0, 11.0)
    v = np.full_like(t, 30.0)
    v[[3, 4]] = np.nan
    s = window_summary(t, v, 0.0, 10.0)
    assert s["mean"] == pytest.approx(30.0) and s["n_samples"] == 9
    assert window_summary(t, np.full_like(t, np.nan), 0.0, 10.0)["auc"] is None


def test_one_summary_per_heat_plateau_inside_the_recording() -> None:
    """Two plateaus (10-20 s at rating 40, 30-40 s at 60) and one outside the recording."""
    hz, start = 10.0, 5.0
    t = start + np.arange(0, 400) / hz
    v = np.where((t >= 10) & (t <= 20), 40.0, np.where((t >= 30) & (t <= 40), 60.0, 0.0))
    rec = Recording(start, hz, pd.DataFrame({"rating": v}))
    ev = events(
        [
            {"onset": 10.0, "duration": 10.0, "trial_type": "heat_plateau", "phase": "before", "rep": 1},
            {"onset": 30.0, "duration": 10.0, "trial_type": "heat_plateau", "phase": "after", "rep": 1},
            {"onset": 100.0, "duration": 10.0, "trial_type": "heat_plateau", "phase": "after", "rep": 2},
            {"onset": 10.0, "duration": 30.0, "trial_type": "heat_stimulus"},
        ]
    )
    out = plateau_summaries(ev, rec)
    assert list(out["phase"]) == ["before", "after"]
    assert list(out["mean"]) == pytest.approx([40.0, 60.0])
    assert list(out["auc"]) == pytest.approx([400.0, 600.0])
    assert list(out["peak"]) == [40.0, 60.0]
    assert plateau_summaries(ev, None).empty
