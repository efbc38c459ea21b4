"""Whole sessions through the CLI: demo, BIDS validity, refusal to overwrite, kill -9 and recover."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from bids_validator import validate

from cpmlab.cli.main import main
from cpmlab.storage.journal import read_journal

CPMLAB = [sys.executable, "-m", "cpmlab"]


def test_demo_prints_the_cpm_summary_and_writes_a_valid_bids_dataset(tmp_path: Path, capsys) -> None:
    """cpmlab demo runs cpm_sequential through drivers and emulators and leaves a dataset with zero validator errors."""
    data = tmp_path / "demo"
    assert main(["demo", "--data", str(data), "--speed", "40"]) == 0
    out = capsys.readouterr().out
    assert "test stimulus rating before conditioning:" in out
    assert "CPM effect (after - before):" in out and "(negative = inhibition)" in out
    beh = data / "sub-demo" / "ses-01" / "beh"
    ratings = pd.read_csv(beh / "sub-demo_ses-01_task-cpmsequential_run-1_beh.tsv", sep="\t")
    assert list(ratings["phase"]) == ["before", "before", "none", "none", "after", "after"]
    assert ratings["rating"].notna().all()
    events = pd.read_csv(beh / "sub-demo_ses-01_task-cpmsequential_run-1_events.tsv", sep="\t")
    assert (events["trial_type"] == "heat_plateau").sum() == 4
    assert (events["trial_type"] == "cold_immersion").sum() == 1
    errors, _ = validate(data)
    assert errors == [], errors


def test_existing_session_is_refused_and_left_untouched(tmp_path: Path, capsys) -> None:
    """Running the same participant/session/run twice is refused with a clear message; files are unchanged."""
    data = tmp_path / "d"
    args = [
        "run",
        "cpm_sequential",
        "-p",
        "01",
        "-s",
        "1",
        "--data",
        str(data),
        "--emulate",
        "--simulate",
        "--speed",
        "60",
    ]
    assert main(args) == 0
    files = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "never overwritten" in err
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == files


def test_bad_labels_are_refused_before_anything_is_written(tmp_path: Path, capsys) -> None:
    """A label with a path separator or dash is refused; no folder is created."""
    for label in ("../evil", "sub-01", "a b", ""):
        assert (
            main(
                [
                    "run",
                    "cpm_sequential",
                    "-p",
                    label,
                    "-s",
                    "1",
                    "--data",
                    str(tmp_path / "d"),
                    "--emulate",
                    "--simulate",
                    "--speed",
                    "60",
                ]
            )
            == 2
        )
        assert "invalid participant label" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_speed_other_than_one_needs_simulate_and_emulate(tmp_path: Path, capsys) -> None:
    """A real participant or real devices always run at speed 1."""
    assert (
        main(["run", "cpm_sequential", "-p", "01", "-s", "1", "--data", str(tmp_path), "--emulate", "--speed", "10"])
        == 2
    )
    assert "speed" in capsys.readouterr().err


def test_kill_9_mid_session_then_recover_keeps_every_journaled_event(tmp_path: Path) -> None:
    """A session killed with SIGKILL mid-run is rebuilt by cpmlab recover with every journaled event in it."""
    data = tmp_path / "crash"
    proc = subprocess.Popen(
        [
            *CPMLAB,
            "run",
            "cpm_sequential",
            "-p",
            "07",
            "-s",
            "2",
            "--data",
            str(data),
            "--emulate",
            "--simulate",
            "--speed",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    journal = data / "sourcedata/cpmlab/sub-07/ses-2/sub-07_ses-2_task-cpmsequential_run-1_journal.jsonl"
    deadline = time.monotonic() + 60
    # kill once the first test stimulus has been rated, in the middle of the session
    while time.monotonic() < deadline:
        if journal.exists() and '"kind":"rating"' in journal.read_text():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError(f"session never got going: {proc.communicate()[0]}")
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    records = list(read_journal(journal))
    assert not any(r["kind"] == "session_end" for r in records)
    ratings = [r for r in records if r["kind"] == "rating"]
    stimuli = [r for r in records if r["kind"] == "stimulus" and r["stage"] == "ramp_start"]

    out = subprocess.run([*CPMLAB, "recover", str(journal)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "recovered sub-07 ses-2 run-1 (session incomplete)" in out.stdout
    beh = data / "sub-07" / "ses-2" / "beh"
    beh_tsv = pd.read_csv(beh / "sub-07_ses-2_task-cpmsequential_run-1_beh.tsv", sep="\t")
    assert len(beh_tsv) == len(ratings) >= 1
    assert list(beh_tsv["rating"]) == [r["value"] for r in ratings]
    events = pd.read_csv(beh / "sub-07_ses-2_task-cpmsequential_run-1_events.tsv", sep="\t")
    assert (events["trial_type"] == "heat_stimulus").sum() == len(stimuli)
    assert (events["trial_type"] == "rating").sum() == len(ratings)
    sidecar = (beh / "sub-07_ses-2_task-cpmsequential_run-1_beh.json").read_text()
    assert '"recovered_from_journal": true' in sidecar and '"outcome": "incomplete"' in sidecar
    errors, _ = validate(data)
    assert errors == [], errors
    # recovering again never overwrites what is there
    again = subprocess.run([*CPMLAB, "recover", str(journal)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "never overwrites" in again.stderr
