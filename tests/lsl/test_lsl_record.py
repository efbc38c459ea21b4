"""`cpmlab run --record` writes an XDF file that pyxdf reads, aligned with the BIDS events."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pylsl
import pytest
import pyxdf
from lsl_helpers import SHORT_PROTOCOL, SPEED

from cpmlab.app.session import PreparedSession, SessionSpec
from cpmlab.cli.main import build_parser, main
from cpmlab.core.errors import CpmlabError
from cpmlab.labconfig import LabConfig
from cpmlab.lsl.vocabulary import parse_marker

# events.tsv trial types and the marker that carries their onset
ONSET_MARKERS = {
    "heat_ramp": "ts_ramp_start",
    "heat_plateau": "ts_plateau_start",
    "heat_return": "ts_return_start",
    "cold_immersion": "cs_immersion_start",
    "rating": "rating_onset",
    "marker": "marker",
    "variable": "variable",
}


class FakeEeg:
    """Another lab device on LSL: 4 channels at 200 Hz, as an EEG amplifier would publish."""

    def __init__(self, name: str) -> None:
        info = pylsl.StreamInfo(name, "EEG", 4, 200.0, "float32", f"{name}-amp")
        self.outlet = pylsl.StreamOutlet(info)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        k = 0
        while not self.stop.wait(0.05):
            self.outlet.push_chunk([[float(k + i)] * 4 for i in range(10)])
            k += 10


def test_record_option_parsing() -> None:
    """--no-lsl, --record and repeatable --record-stream reach the run command's arguments."""
    args = build_parser().parse_args(
        [
            "run",
            "x.yaml",
            "-p",
            "01",
            "-s",
            "1",
            "--no-lsl",
            "--record",
            "--record-stream",
            "EEG",
            "--record-stream",
            "Eyes",
        ]
    )
    assert (args.lsl, args.record, args.record_stream) == (False, True, ["EEG", "Eyes"])
    args = build_parser().parse_args(["run", "x.yaml", "-p", "01", "-s", "1"])
    assert (args.lsl, args.record, args.record_stream) == (True, False, [])


def test_record_writes_xdf_with_all_streams_aligned_to_events(
    tmp_path: Path, lab_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The XDF holds markers, thermode, bath, rating and a selected EEG; its markers match events.tsv onsets."""
    config = tmp_path / "lab.yaml"
    config.write_text(f"lab: {lab_name}\n", encoding="utf-8")
    monkeypatch.setenv("CPMLAB_CONFIG", str(config))
    eeg = FakeEeg(f"{lab_name}-eeg")
    data = tmp_path / "data"
    try:
        code = main(
            [
                "run",
                str(SHORT_PROTOCOL),
                "-p",
                "01",
                "-s",
                "1",
                "--data",
                str(data),
                "--simulate",
                "--emulate",
                "--speed",
                str(SPEED),
                "--record",
                "--record-stream",
                f"{lab_name}-eeg",
            ]
        )
    finally:
        eeg.stop.set()
    assert code == 0
    source = data / "sourcedata" / "cpmlab" / "sub-01" / "ses-1"
    xdf = source / "sub-01_ses-1_task-lslshort_run-1_lsl.xdf"
    streams, header = pyxdf.load_xdf(str(xdf))
    assert header["info"]["version"] == ["1.0"]
    by_name = {s["info"]["name"][0]: s for s in streams}
    assert set(by_name) == {"cpmlab-markers", "cpmlab-thermode", "cpmlab-bath", "cpmlab-rating", f"{lab_name}-eeg"}
    for s in streams:
        assert s["clock_times"], f"{s['info']['name']} has no clock offsets"
        assert s["footer"]["info"]["sample_count"] == [str(len(s["time_stamps"]))]
    assert by_name["cpmlab-thermode"]["time_series"].shape[1] == 6
    assert len(by_name["cpmlab-thermode"]["time_stamps"]) > 50
    assert len(by_name["cpmlab-bath"]["time_stamps"]) >= 1
    assert len(by_name["cpmlab-rating"]["time_stamps"]) >= 1  # a 4 s CoVAS lasts 0.1 s at speed 40
    assert len(by_name[f"{lab_name}-eeg"]["time_stamps"]) > 100
    channels = by_name["cpmlab-thermode"]["info"]["desc"][0]["channels"][0]["channel"]
    assert [c["label"][0] for c in channels] == ["neutral", "zone1", "zone2", "zone3", "zone4", "zone5"]
    session = by_name["cpmlab-markers"]["info"]["desc"][0]["session"][0]
    assert session["participant"] == ["01"] and session["task"] == ["lslshort"]

    markers = [
        (float(t), *parse_marker(v[0]))
        for t, v in zip(by_name["cpmlab-markers"]["time_stamps"], by_name["cpmlab-markers"]["time_series"], strict=True)
    ]
    start = next(m for m in markers if m[1] == "session_start")
    t0, speed = start[0], start[2]["speed"]
    assert speed == SPEED
    assert any(m[1] == "session_end" for m in markers)
    beh = data / "sub-01" / "ses-1" / "beh"
    events = pd.read_csv(beh / "sub-01_ses-1_task-lslshort_run-1_events.tsv", sep="\t", na_values="n/a")
    checked = 0
    for row in events.itertuples():
        name = ONSET_MARKERS.get(str(row.trial_type))
        if name is None:
            continue
        t_expected = t0 + float(row.onset) / speed
        assert any(m[1] == name and abs(m[0] - t_expected) < 0.001 for m in markers), (row, t_expected)
        checked += 1
    assert checked >= 12

    meta = json.loads((beh / "sub-01_ses-1_task-lslshort_run-1_beh.json").read_text())["cpmlab"]["lsl"]
    assert meta["recording"]["file"] == os.path.relpath(xdf, data)
    uids = {s["info"]["uid"][0] for s in streams}
    assert {s["uid"] for s in meta["streams"]} <= uids
    assert {s["uid"] for s in meta["recording"]["streams"]} == uids
    assert all(s["source_id"].startswith(f"cpmlab.{lab_name}.") for s in meta["streams"])
    assert np.all(np.diff(by_name["cpmlab-thermode"]["time_stamps"]) > 0)


def test_no_lsl_creates_no_streams_and_record_needs_streams(tmp_path: Path, lab_name: str) -> None:
    """With lsl=False there is no bridge and no 'lsl' metadata; --record then needs --record-stream."""
    spec = SessionSpec(
        protocol_path=SHORT_PROTOCOL,
        participant="01",
        session="1",
        data_root=tmp_path,
        speed=SPEED,
        simulate=True,
        emulate=True,
        lab=LabConfig(lab=lab_name),
        lsl=False,
        record=True,
    )
    prepared = PreparedSession(spec)
    assert prepared.lsl is None and "lsl" not in prepared.metadata
    with pytest.raises(CpmlabError, match="--record-stream"):
        prepared.run()
