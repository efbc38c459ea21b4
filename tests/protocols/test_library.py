"""Every shipped protocol validates, has a docs page, and runs end to end with emulated devices."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from bids_validator import validate

from cpmlab.cli.main import main
from cpmlab.protocol.loader import load_protocol
from cpmlab.protocol.timeline import build_timeline, format_clock, total_duration_s

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = sorted((ROOT / "protocols").glob("*.yaml"))


def test_the_standard_library_is_complete() -> None:
    """The protocols a lab expects are all shipped."""
    names = {p.stem for p in PROTOCOLS}
    assert {
        "cpm_sequential",
        "cpm_parallel",
        "cpm_sham_control",
        "pain60_calibration_cpm",
        "pain60_bayesian_cpm",
        "heat_pain_threshold",
        "cold_pressor_tolerance",
        "tonic_ts_continuous",
        "cpm_sequential_hot_water",
    } <= names


@pytest.mark.parametrize("path", PROTOCOLS, ids=lambda p: p.stem)
def test_protocol_header_and_docs_page(path: Path) -> None:
    """Each protocol states purpose, timings and references, and has its page in docs/protocols/."""
    text = path.read_text()
    for word in ("Purpose:", "Timings:", "Follows:"):
        assert word in text, f"{path.name} header lacks {word}"
    protocol = load_protocol(path)
    assert protocol.references
    page = ROOT / "docs" / "protocols" / f"{path.stem}.md"
    assert page.is_file(), f"missing {page.relative_to(ROOT)} (run scripts/protocol_docs.py)"
    assert protocol.title in page.read_text()


@pytest.mark.parametrize("path", PROTOCOLS, ids=lambda p: p.stem)
def test_protocol_header_says_where_it_deviates_and_its_page_repeats_it(path: Path) -> None:
    """Each header has a 'Deviates:' line (or 'Deviations: none'), and its docs page carries the same words."""
    header = [line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    found = [line for line in header if re.match(r"# (Deviates: \S|Deviations: none\b)", line)]
    assert len(found) == 1, f"{path.name}: state the deviations from the cited procedure (or 'Deviations: none')"
    page = (ROOT / "docs" / "protocols" / f"{path.stem}.md").read_text(encoding="utf-8")
    assert found[0][2:] in page, f"docs/protocols/{path.stem}.md is stale: run scripts/protocol_docs.py"


@pytest.mark.parametrize("path", PROTOCOLS, ids=lambda p: p.stem)
def test_protocol_runs_end_to_end_and_its_data_is_valid_bids(path: Path, tmp_path: Path, capsys) -> None:
    """cpmlab run --emulate --simulate at high speed completes and writes a dataset with zero validator errors."""
    data = tmp_path / "data"
    code = main(
        [
            "run",
            str(path),
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
            "--no-lsl",
            "--seed",
            "3",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.out[-3000:] + out.err[-3000:]
    protocol = load_protocol(path)
    beh = data / "sub-01" / "ses-1" / "beh"
    stem = f"sub-01_ses-1_task-{protocol.task}_run-1"
    events = pd.read_csv(beh / f"{stem}_events.tsv", sep="\t")
    kinds = set(events["trial_type"])
    if path.stem.startswith(("cpm_", "pain60")):
        ratings = pd.read_csv(beh / f"{stem}_beh.tsv", sep="\t")
        phases = set(ratings.loc[ratings["role"] == "test_stimulus", "phase"])
        assert {"before", "after"} <= phases
        assert "cold_immersion" in kinds
    if path.stem == "cpm_parallel":
        assert "during" in phases
    if path.stem in ("pain60_calibration_cpm", "pain60_bayesian_cpm"):
        assert "calibration_result" in kinds
        calibrated = events.loc[events["trial_type"] == "calibration_result", "value"].iloc[0]
        ts = events.loc[events["trial_type"] == "heat_stimulus", "stimulus_c"]
        assert (ts.iloc[-4:] == calibrated).all()
    if path.stem == "pain60_bayesian_cpm":  # the running estimate with its credible interval, as columns
        estimates = events.loc[events["trial_type"] == "calibration_estimate"]
        assert len(estimates) == (events["trial_type"] == "calibration_trial").sum() >= 2
        assert (estimates["ci_low_c"] <= estimates["value"]).all()
        assert (estimates["value"] <= estimates["ci_high_c"]).all()
    if path.stem == "heat_pain_threshold":
        assert {"threshold_trial", "threshold_result"} <= kinds
    if path.stem == "cold_pressor_tolerance":
        assert {"cold_pain_detection", "cold_pain_tolerance"} <= kinds
    if path.stem == "tonic_ts_continuous":
        assert (beh / f"{stem}_recording-covas_physio.tsv.gz").is_file()
    errors, _ = validate(data)
    assert errors == [], errors


def _comparable(value: object) -> object:
    """A step as data, without the words shown to the participant and the bath temperature."""
    if isinstance(value, dict):
        skip = {"text", "question", "anchors", "label", "setpoint_c"}
        return {k: _comparable(v) for k, v in value.items() if k not in skip}
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    return value


@pytest.mark.parametrize(("name", "setpoint_c"), [("cpm_sham_control", 32.0), ("cpm_sequential_hot_water", 46.5)])
def test_variant_has_the_active_timeline_step_for_step(name: str, setpoint_c: float) -> None:
    """The sham and hot-water protocols equal cpm_sequential step for step except the bath temperature."""
    active = load_protocol(ROOT / "protocols" / "cpm_sequential.yaml")
    variant = load_protocol(ROOT / "protocols" / f"{name}.yaml")
    active_steps = [_comparable(v.step.model_dump()) for v in active.walk()]
    variant_steps = [_comparable(v.step.model_dump()) for v in variant.walk()]
    assert variant_steps == active_steps
    active_timeline = [(e.start_s, e.duration_s) for e in build_timeline(active)]
    assert [(e.start_s, e.duration_s) for e in build_timeline(variant)] == active_timeline
    setpoints = [v.step.setpoint_c for v in variant.walk() if v.step.type == "immersion"]
    assert setpoints == [setpoint_c] and [v.step.setpoint_c for v in active.walk() if v.step.type == "immersion"] == [
        10.0
    ]


@pytest.mark.parametrize("path", PROTOCOLS, ids=lambda p: p.stem)
def test_header_duration_is_the_timeline_total(path: Path) -> None:
    """A protocol header that states a duration states the timeline's own total (never a guess)."""
    header = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    assert not re.search(r"\babout [\d.]+ min", header, re.IGNORECASE), "state 'At most M:SS by the timeline'"
    stated = re.findall(r"At most (\d+:\d\d) by the timeline", header)
    total = format_clock(total_duration_s(build_timeline(load_protocol(path))))
    assert stated in ([], [total]), f"header says {stated}, the timeline totals {total}"


@pytest.mark.parametrize(
    ("path", "setpoint_c"),
    [
        (ROOT / "protocols" / "pain60_calibration_cpm.yaml", 10.0),
        (ROOT / "protocols" / "pain60_bayesian_cpm.yaml", 10.0),
        (ROOT / "studies" / "protocols" / "pain60_calibration_sham.yaml", 32.0),
    ],
    ids=lambda p: p.stem if isinstance(p, Path) else str(p),
)
def test_calibrated_cpm_is_cpm_sequential_after_its_calibration(path: Path, setpoint_c: float) -> None:
    """After the calibration and its pause, a calibrated protocol is cpm_sequential step for step, so it
    shares cpm_sequential's task label and its scores group, pair and contrast with it (never pooled
    with another paradigm)."""
    active = load_protocol(ROOT / "protocols" / "cpm_sequential.yaml")
    calibrated = load_protocol(path)
    assert calibrated.task == active.task == "cpmsequential"
    walked = [v.step for v in calibrated.walk()]
    first = next(i for i, s in enumerate(walked) if s.type == "calibration")
    assert walked[first + 1].type == "wait"  # the pause between the calibration and the CPM part
    tail = [_comparable(s.model_dump()) for s in walked[first + 2 :]]
    expected = [_comparable(v.step.model_dump()) for v in active.walk()][1:]  # after the welcome
    assert tail == expected
    assert [s.setpoint_c for s in walked if s.type == "immersion"] == [setpoint_c]
