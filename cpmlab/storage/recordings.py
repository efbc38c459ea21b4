"""The run's continuous recordings as BIDS ``_stim``/``_physio`` files: thermode, bath, continuous ratings.

BIDS wants each recording on a regular grid (``SamplingFrequency`` from ``StartTime``).

- Continuous ratings are sampled on a regular clock by the participant channel; they are
  written at the rate they were sampled (journaled with the window, in samples per protocol
  second), one row per sampling slot, each sample at the slot nearest its time and never
  interpolated; a slot without a sample (between windows, or a frame the display missed) is n/a.
- The device temperature streams are irregular by nature (the TCS II sends 1 record/s between
  stimuli and 100/s during them; the bath is polled): they are linearly interpolated onto a
  regular grid. The streams tick in real time, so at ``--speed N`` their samples lie N times
  further apart in protocol seconds; a gap is judged in the device's own (real) time, and only a
  stream that really stopped for ``MAX_GAP_S`` becomes n/a. The raw samples stay in the journal.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cpmlab.core import events as ev
from cpmlab.storage import bids_meta as meta
from cpmlab.storage.bids_tables import JournalSession

THERMODE_HZ = 10.0  # grid of the interpolated thermode stream, samples per protocol second
BATH_HZ = 1.0  # grid of the interpolated bath readings
MAX_GAP_S = 2.5  # a device stream silent this long (real seconds) is a gap: n/a, never interpolated


@dataclass(frozen=True)
class RecordingFile:
    """One recording's gzipped TSV and its sidecar."""

    label: str
    suffix: str
    data: bytes
    sidecar: dict[str, Any]


def _samples(
    s: JournalSession, records: list[dict[str, Any]], getter: Callable[[dict[str, Any]], list[float] | None]
) -> tuple[np.ndarray, np.ndarray] | None:
    """Return (protocol times, values) of the records sorted by time, one sample per time, or None if < 2."""
    pairs = [(s.onset(r["t"]), getter(r)) for r in records]
    pairs = sorted(((t, v) for t, v in pairs if v is not None), key=lambda p: p[0])
    if len(pairs) < 2:
        return None
    times = np.array([p[0] for p in pairs])
    values = np.array([p[1] for p in pairs], dtype=float)
    last_of_each = len(times) - 1 - np.unique(times[::-1], return_index=True)[1]  # the later sample wins a tie
    return times[last_of_each], values[last_of_each]


def interpolate(times: np.ndarray, values: np.ndarray, hz: float, max_gap_s: float) -> np.ndarray:
    """Return values linearly interpolated onto a grid from times[0] at hz; gaps over max_gap_s are NaN."""
    grid = np.arange(times[0], times[-1] + 1e-9, 1.0 / hz)
    out = np.empty((len(grid), values.shape[1]))
    for c in range(values.shape[1]):
        out[:, c] = np.interp(grid, times, values[:, c])
    idx = np.searchsorted(times, grid, side="right")
    prev_t = times[np.clip(idx - 1, 0, len(times) - 1)]
    next_t = times[np.clip(idx, 0, len(times) - 1)]
    out[(next_t - prev_t) > max_gap_s] = np.nan
    return out


def place_on_slots(times: np.ndarray, values: np.ndarray, hz: float) -> tuple[np.ndarray, int]:
    """Return (one row per slot of 1/hz from times[0] holding the sample nearest it, samples sharing a slot).

    Nothing is interpolated: a slot without a sample is NaN; of two samples in one slot the later stays.
    """
    slots = np.rint((times - times[0]) * hz).astype(int)
    out = np.full((int(slots[-1]) + 1, values.shape[1]), np.nan)
    out[slots] = values  # in time order, so the later of two samples in a slot stays
    return out, len(slots) - len(np.unique(slots))


def _gzip_rows(rows: np.ndarray, columns: list[str]) -> bytes:
    buf = io.StringIO()
    pd.DataFrame(np.round(rows, 3), columns=columns).to_csv(
        buf, sep="\t", index=False, header=False, na_rep="n/a", lineterminator="\n"
    )
    return gzip.compress(buf.getvalue().encode("utf-8"), mtime=0)  # mtime=0: same journal, same bytes


def rating_rate_hz(s: JournalSession, times: np.ndarray) -> float:
    """Return the rate the continuous ratings were sampled at, samples per protocol second.

    The journal states it with each window; a journal from before that is read from the samples.
    """
    rates = [
        float(r["rate_hz"])
        for r in s.of(ev.DISPLAY)
        if r.get("screen") == "continuous" and isinstance(r.get("rate_hz"), int | float) and r["rate_hz"] > 0
    ]
    if rates:
        return max(rates)
    steps = np.diff(times)
    return round(1.0 / float(np.median(steps[steps > 0])), 3)


def _device_file(
    s: JournalSession,
    records: list[dict[str, Any]],
    getter: Callable[[dict[str, Any]], list[float] | None],
    label: str,
    columns: list[str],
    hz: float,
    what: str,
) -> RecordingFile | None:
    found = _samples(s, records, getter)
    if found is None:
        return None
    times, values = found
    max_gap_s = MAX_GAP_S * s.speed  # the stream ticks in real time
    rows = interpolate(times, values, hz, max_gap_s)
    how = meta.recording_method(
        resampled=True,
        samples=len(times),
        method="linear interpolation of the device stream onto a regular grid",
        max_gap_s=round(max_gap_s, 3),
    )
    sidecar = meta.recording_sidecar(columns, hz, float(times[0]), what, "degC", how)
    return RecordingFile(label, "stim", _gzip_rows(rows, columns), sidecar)


def _ratings_file(s: JournalSession) -> RecordingFile | None:
    found = _samples(s, s.of(ev.CONTINUOUS_SAMPLE), lambda r: [np.nan if r.get("value") is None else float(r["value"])])
    if found is None or np.isnan(found[1]).all():
        return None
    times, values = found
    hz = rating_rate_hz(s, times)
    rows, shared = place_on_slots(times, values, hz)
    how = meta.recording_method(
        resampled=False,
        samples=len(times),
        method="each sample as recorded, in the slot nearest its time; n/a where no sample was taken "
        "or the slider was not yet touched",
        shared_slots=shared,
    )
    sidecar = meta.recording_sidecar(
        meta.CONTINUOUS_COLUMNS, hz, float(times[0]), "continuous pain rating", "rating units", how
    )
    return RecordingFile("covas", "physio", _gzip_rows(rows, meta.CONTINUOUS_COLUMNS), sidecar)


def recording_files(s: JournalSession) -> list[RecordingFile]:
    """Return the run's recordings (thermode, bath, continuous ratings) that have at least two samples."""
    readings = s.of(ev.READING)
    files = [
        _device_file(
            s,
            [r for r in readings if r.get("device") == "thermode"],
            lambda r: [r["neutral_c"], *(list(r["zones_c"]) + [np.nan] * 5)[:5]],
            "thermode",
            meta.THERMODE_COLUMNS,
            THERMODE_HZ,
            "thermode probe temperatures",
        ),
        _device_file(
            s,
            [r for r in readings if r.get("device") == "cold_pressor"],
            lambda r: [r["bath_c"]],
            "bath",
            meta.BATH_COLUMNS,
            BATH_HZ,
            "cold-pressor bath temperature",
        ),
        _ratings_file(s),
    ]
    return [f for f in files if f is not None]
