"""Recording files from journal records: device streams interpolated with gaps judged in real time,
continuous ratings written at their journaled rate, one sample per slot, never interpolated."""

from __future__ import annotations

import gzip
from typing import Any

import numpy as np
import pytest

from cpmlab.storage.bids_tables import JournalSession
from cpmlab.storage.recordings import MAX_GAP_S, place_on_slots, recording_files


def _session(speed: float, records: list[dict[str, Any]]) -> JournalSession:
    start = {"kind": "session_start", "t": 100.0, "speed": speed, "seq": 0}
    return JournalSession([start, *records])


def _bath(ts: list[float]) -> list[dict[str, Any]]:
    return [{"kind": "reading", "t": 100.0 + t, "device": "cold_pressor", "bath_c": 10.0 + i} for i, t in enumerate(ts)]


def _rows(data: bytes) -> list[str]:
    return gzip.decompress(data).decode().splitlines()


@pytest.mark.parametrize("speed", [1.0, 20.0, 100.0])
def test_a_device_stream_at_its_real_rate_has_no_gaps_at_any_speed(speed: float) -> None:
    """Bath readings 1 real second apart: at speed N they are N protocol s apart, still no n/a."""
    (bath,) = recording_files(_session(speed, _bath([0.0, 1.0, 2.0, 3.0])))
    rows = _rows(bath.data)
    assert len(rows) == int(3 * speed) + 1 and "n/a" not in rows
    assert float(rows[0]) == 10.0 and float(rows[-1]) == 13.0
    assert bath.sidecar["cpmlab"]["max_gap_s"] == pytest.approx(MAX_GAP_S * speed)


def test_a_stream_that_really_stopped_is_a_gap_not_a_line() -> None:
    """A bath silent for 5 real seconds (over MAX_GAP_S) is n/a in between, at speed 1 and at speed 20."""
    for speed in (1.0, 20.0):
        (bath,) = recording_files(_session(speed, _bath([0.0, 0.5, 5.5, 6.0])))
        rows = _rows(bath.data)
        assert rows[0] != "n/a" and rows[-1] != "n/a" and "n/a" in rows


def test_continuous_ratings_keep_their_journaled_rate_and_values() -> None:
    """Samples every 1/30 s (with jitter) at the journaled 30 Hz: one row each, exact values, no interpolation."""
    rng = np.random.default_rng(1)
    times = np.arange(60) / 30.0 + rng.uniform(-0.008, 0.008, 60)
    samples = [
        {"kind": "continuous_sample", "t": 110.0 + t, "value": None if i < 3 else float(i)} for i, t in enumerate(times)
    ]
    window = {"kind": "display", "t": 110.0, "screen": "continuous", "stage": "screen_onset", "rate_hz": 30.0}
    (covas,) = recording_files(_session(1.0, [*samples, window]))
    assert covas.label == "covas" and covas.sidecar["SamplingFrequency"] == 30.0
    rows = _rows(covas.data)
    assert rows[:3] == ["n/a"] * 3 and [float(r) for r in rows[3:]] == [float(i) for i in range(3, 60)]
    assert covas.sidecar["cpmlab"] == {**covas.sidecar["cpmlab"], "Resampled": False, "RecordedSamples": 60}


def test_a_missed_sample_is_an_empty_slot_and_time_does_not_drift() -> None:
    """A sample the display missed leaves its slot n/a; the samples after it stay at their own times."""
    times = np.array([0.0, 0.1, 0.3, 0.4])
    rows, shared = place_on_slots(times, np.array([[1.0], [2.0], [3.0], [4.0]]), 10.0)
    assert shared == 0 and rows[:, 0][[0, 1, 3, 4]].tolist() == [1.0, 2.0, 3.0, 4.0] and np.isnan(rows[2, 0])


def test_an_old_journal_without_the_rate_reads_it_from_the_samples() -> None:
    """Without rate_hz in the journal, the rate is the one the samples were taken at."""
    samples = [{"kind": "continuous_sample", "t": 100.0 + i / 20.0, "value": 5.0} for i in range(40)]
    (covas,) = recording_files(_session(1.0, samples))
    assert covas.sidecar["SamplingFrequency"] == pytest.approx(20.0)
