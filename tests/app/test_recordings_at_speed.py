"""Recordings as recorded, at every dry-run speed.

The thermode and bath recordings have no n/a at speeds 1, 5, 20, 50 and 100 (their streams tick
in real time, so at high speed their samples lie far apart in protocol seconds: that is not a
gap), and the continuous rating is written at the rate it was sampled (30 per protocol second
here), one sample per row, never interpolated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cpmlab.app.session import PreparedSession, SessionSpec
from cpmlab.storage.journal import read_journal

PROTOCOL = Path(__file__).with_name("short_session.yaml")
BEH = "sub-01/ses-1/beh/sub-01_ses-1_task-shortsession_run-1"


def _recording(data: Path, label: str, suffix: str) -> tuple[pd.DataFrame, dict]:
    sidecar = json.loads((data / f"{BEH}_recording-{label}_{suffix}.json").read_text())
    table = pd.read_csv(
        data / f"{BEH}_recording-{label}_{suffix}.tsv.gz",
        sep="\t",
        header=None,
        names=sidecar["Columns"],
        na_values=["n/a"],
        keep_default_na=False,
    )
    return table, sidecar


@pytest.mark.parametrize("speed", [1, 5, 20, 50, 100])
def test_device_recordings_have_no_gaps_and_ratings_keep_their_rate(tmp_path: Path, speed: float) -> None:
    """No n/a in the thermode and bath files; the rating file holds every sample at 30 Hz, in its own row."""
    data = tmp_path / "data"
    spec = SessionSpec(PROTOCOL, "01", "1", data, speed=float(speed), simulate=True, emulate=True, lsl=False)
    spec.emulator_options = {"cold_pressor": {"start_c": 10.0, "setpoint_c": 10.0}}
    assert str(PreparedSession(spec).run().outcome) == "completed"

    for label, hz in (("thermode", 10.0), ("bath", 1.0)):
        table, sidecar = _recording(data, label, "stim")
        assert sidecar["SamplingFrequency"] == hz and sidecar["cpmlab"]["Resampled"] is True
        assert len(table) > 5, label
        assert not table.isna().any().any(), f"{label} has n/a at speed {speed}"

    table, sidecar = _recording(data, "covas", "physio")
    assert sidecar["SamplingFrequency"] == pytest.approx(30.0)
    assert sidecar["cpmlab"]["Resampled"] is False
    journal = next((data / "sourcedata/cpmlab/sub-01/ses-1").glob("*_journal.jsonl"))
    samples = [r for r in read_journal(journal) if r["kind"] == "continuous_sample"]
    assert sidecar["cpmlab"]["RecordedSamples"] == len(samples) and sidecar["cpmlab"]["shared_slots"] == 0
    assert len(samples) == pytest.approx(4 * 30, abs=2)  # a 4 s window at 30 Hz
    assert len(table) == pytest.approx(len(samples), abs=1)
    touched = [r["value"] for r in samples if r["value"] is not None]
    assert list(table["rating"].dropna()) == pytest.approx(touched, abs=1e-3)  # the values, not interpolated
