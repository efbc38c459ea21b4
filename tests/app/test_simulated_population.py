"""--simulate draws each participant from the seeded population and records its true parameters.

Two labels give two different people (different true parameters and ratings), the journal's
session start and the BIDS _beh.json carry the true parameters, a re-run with the same label
reproduces them, and a bad profile is refused before any file is written.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pandas as pd
import pytest
from bids_validator import validate

from cpmlab.app.session import PreparedSession, SessionSpec
from cpmlab.cli.main import main
from cpmlab.core.errors import CpmlabError
from cpmlab.participant.population import population_seed
from cpmlab.participant.simulated import ParticipantModel
from cpmlab.storage.journal import read_journal

PROTOCOL = Path(__file__).with_name("short_session.yaml")
STEM = "sub-{p}/ses-1/beh/sub-{p}_ses-1_task-shortsession_run-1"


def _run(data: Path, label: str, profile: str = "typical") -> None:
    spec = SessionSpec(
        PROTOCOL, label, "1", data, speed=50.0, simulate=True, emulate=True, simulate_profile=profile, lsl=False
    )
    spec.emulator_options = {"cold_pressor": {"start_c": 10.0, "setpoint_c": 10.0}}
    assert str(PreparedSession(spec).run().outcome) == "completed"


def _beh_json(data: Path, label: str) -> dict:
    return json.loads((data / f"{STEM.format(p=label)}_beh.json").read_text())


def _ratings(data: Path, label: str) -> list[float]:
    table = pd.read_csv(data / f"{STEM.format(p=label)}_beh.tsv", sep="\t", na_values="n/a")
    return list(table["rating"])


def test_two_labels_differ_carry_their_true_parameters_and_reproduce(tmp_path: Path) -> None:
    """Labels 01 and 02 differ; each file set holds its own true parameters; a re-run of 01 has the same ones."""
    data, again = tmp_path / "data", tmp_path / "again"
    _run(data, "01")
    _run(data, "02", "facilitator")
    _run(again, "01")
    for label, profile in (("01", "typical"), ("02", "facilitator")):
        truth = ParticipantModel.from_population(label, profile)
        recorded = _beh_json(data, label)["SimulatedParticipant"]
        assert recorded["profile"] == profile and recorded["pain60_c"] == pytest.approx(truth.pain60_c, abs=1e-3)
        assert recorded["cpm_effect_vas"] == truth.cpm_effect_vas
        assert recorded["population_seed"] == population_seed(label, profile) and recorded["drawn_from_population"]
        assert {k: recorded[k] for k in truth.true_parameters()} == truth.true_parameters()
        journal = next((data / "sourcedata/cpmlab" / f"sub-{label}" / "ses-1").glob("*_journal.jsonl"))
        session_start = next(r for r in read_journal(journal) if r["kind"] == "session_start")
        assert session_start["simulated_parameters"] == {k: v for k, v in recorded.items() if k != "Description"}
    first, second = _beh_json(data, "01")["SimulatedParticipant"], _beh_json(data, "02")["SimulatedParticipant"]
    assert first["pain60_c"] != second["pain60_c"] and first["slope_vas_per_c"] != second["slope_vas_per_c"]
    assert _ratings(data, "01") != _ratings(data, "02")
    assert _beh_json(again, "01")["SimulatedParticipant"] == first
    errors, _ = validate(data)
    assert errors == [], errors


def test_an_unknown_profile_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    """SessionSpec with an unknown profile: a CpmlabError naming the profiles, and no data folder."""
    spec = SessionSpec(PROTOCOL, "01", "1", tmp_path / "d", simulate=True, emulate=True, simulate_profile="stoic")
    with pytest.raises(CpmlabError, match="never-withdraws"):
        PreparedSession(spec)
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--simulate", "--simulate-profile", "stoic"], "invalid choice"), (["--simulate-profile", "no-cpm"], "needs")],
)
def test_the_cli_refuses_a_bad_profile_option_before_anything_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    """cpmlab run: an unknown profile, or a profile without --simulate, is an error and writes nothing."""
    args = ["run", str(PROTOCOL), "-p", "01", "-s", "1", "--data", str(tmp_path / "d"), "--emulate", *extra]
    with pytest.raises(SystemExit) if message == "invalid choice" else contextlib.nullcontext():
        assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "cpm_sequential", "-p", "01", "-s", "1", "--simulate"],
        ["demo"],
        ["study", "next", "cpm_active_sham", "-p", "01", "--simulate"],
    ],
)
def test_run_demo_and_study_next_take_the_profile(argv: list[str]) -> None:
    """--simulate-profile is offered wherever a simulated participant can answer; typical when not given."""
    from cpmlab.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args([*argv, "--simulate-profile", "never-detects"]).simulate_profile == "never-detects"
    assert parser.parse_args(argv).simulate_profile is None  # spec_from_args / demo then use typical
