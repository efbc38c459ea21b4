"""scripts/simulate_study.py: a stated, seeded profile mix, and runs that resume instead of repeating."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "simulate_study.py"


@pytest.fixture(scope="module")
def study() -> ModuleType:
    spec = importlib.util.spec_from_file_location("simulate_study", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_assignment_is_the_stated_mix_in_a_seeded_order(study: ModuleType) -> None:
    """12 participants get exactly the MIX; the same seed gives the same order, another seed another."""
    first = study.assign_profiles(12, 2026)
    assert sorted(p for _, p in first) == sorted(study.MIX)
    assert [label for label, _ in first] == [f"{i:02d}" for i in range(1, 13)]
    assert study.assign_profiles(12, 2026) == first and study.assign_profiles(12, 7) != first
    assert len(study.assign_profiles(30, 1)) == 30


def test_a_run_in_the_dataset_is_skipped_and_a_run_with_only_a_journal_is_rebuilt(
    study: ModuleType, tmp_path: Path
) -> None:
    """Second call: skipped; with the BIDS files gone but the journal kept: rebuilt from it, never rerun."""
    assert study.run_one(tmp_path, "01", "typical", "1", "cold_pressor_tolerance", 100.0) == "completed"
    assert study.run_one(tmp_path, "01", "typical", "1", "cold_pressor_tolerance", 100.0).startswith("skipped")
    beh = tmp_path / "sub-01" / "ses-1" / "beh"
    for path in beh.iterdir():
        path.unlink()
    assert study.run_one(tmp_path, "01", "typical", "1", "cold_pressor_tolerance", 100.0).startswith("rebuilt")
    assert (beh / "sub-01_ses-1_task-coldpressor_run-1_beh.json").exists()
    assert len(list((tmp_path / "sourcedata/cpmlab/sub-01/ses-1").glob("*_journal.jsonl"))) == 1


def test_protocols_sharing_a_task_get_their_own_runs(study: ModuleType) -> None:
    """cpm_sequential and cpm_sham_control share task cpmsequential: runs 1 and 2, never the same file."""
    assert study.run_number("1", "cpm_sequential") == 1
    assert study.run_number("1", "cpm_sham_control") == 2
    assert study.run_number("1", "cpm_parallel") == 1
    assert study.run_number("2", "cold_pressor_tolerance") == 1
