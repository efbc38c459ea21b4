"""The bulk path (batches of runs, grouped array operations) gives exactly the per-run reference's results."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from scoring_helpers import simple_session, write_specs

from cpmlab.scoring import batches
from cpmlab.scoring.derivatives import build_outputs, tsv_bytes
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.pipeline import score_dataset
from cpmlab.scoring.reference import score_dataset_reference
from cpmlab.scoring.synthetic import session_spec

OPTIONS = (ScoringOptions(), ScoringOptions(sign="inhibition-positive", normalise_nrs=True))


def _legacy(root: Path, participant: str) -> None:
    """Rewrite a run's _events.tsv without the structured columns (as versions before them wrote it)."""
    path = next(root.glob(f"sub-{participant}/ses-*/beh/*_events.tsv"))
    events = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    events.drop(columns=["censored", "discarded", "fallback", "limit_s"]).to_csv(path, sep="\t", index=False)


def _mix_scales(root: Path, participant: str) -> None:
    """Make the first test-stimulus rating of a run an NRS rating among VAS ones."""
    path = next(root.glob(f"sub-{participant}/ses-*/beh/*_beh.tsv"))
    beh = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    first = beh.index[beh["about"] == "heat"][0]
    beh.loc[first, ["scale", "rating"]] = ["nrs", "7"]
    beh.to_csv(path, sep="\t", index=False)


def _off_grid_recording(root: Path, participant: str) -> None:
    """Start a run's continuous rating between two grid points and blank every 7th sample (edges interpolate)."""
    data = next(root.glob(f"sub-{participant}/ses-*/beh/*_recording-covas_physio.tsv.gz"))
    side = data.with_name(data.name.replace(".tsv.gz", ".json"))
    meta = json.loads(side.read_text())
    meta["StartTime"] = 90.037
    side.write_text(json.dumps(meta))
    lines = gzip.decompress(data.read_bytes()).decode().splitlines()
    values = [("n/a" if i % 7 == 3 else str(float(v) + (i % 5) * 0.3)) for i, v in enumerate(lines)]
    data.write_bytes(gzip.compress(("\n".join(values) + "\n").encode()))


def _calibration_as_variable(root: Path, participant: str) -> None:
    """Drop a run's calibration_result rows and name its variable calib_c: the temperature comes from it."""
    path = next(root.glob(f"sub-{participant}/ses-*/beh/*_events.tsv"))
    events = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    events.loc[events["trial_type"] == "variable", "variable"] = "calib_c"
    events[events["trial_type"] != "calibration_result"].to_csv(path, sep="\t", index=False)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs that exercise every score: missing values, mixed scales, censored times, legacy events, recordings."""
    root = tmp_path_factory.mktemp("mixed") / "ds"
    trials = [42.0, 43.1, 42.6]
    specs = [
        simple_session("01", "1", "active", [50, 60], [40, 30], hpt_trials_c=trials, pdt_s=8.0, ptt_s=60.0),
        simple_session("01", "2", "sham", [50, None], [45, None], during=[48, 52], recordings=["covas"]),
        simple_session("01", "10", "active", [0, 0], [10, 20], pdt_s=200.0, ptt_s=200.0),  # zero baseline, censored
        simple_session("02", "1", "active", [70, 60], [50, 50], ts_scale="nrs", cs_scale="vas", task="cpmparallel"),
        simple_session("02", "1", "sham", [70, 60], [55, 65], run=2, outcome="aborted", recovered=True),
        simple_session("03", "1", "active", [55, 45], [60, 65], recordings=["covas", "thermode"], hpt_trials_c=trials),
        simple_session("04", "1", "active", [40, 42], [30, 31], hpt_trials_c=trials, pdt_s=5.0, ptt_s=30.0),
        simple_session("05", "1", "active", [30, 32], [20, 25]),
        simple_session("06", "1", "active", [], [], cs=[], outcome="incomplete"),
        session_spec("07", "1", "active", {"before": [None, None], "after": [None]}, [None, 3.0], recordings=["covas"]),
    ]
    write_specs(root, specs)
    _legacy(root, "04")
    _mix_scales(root, "05")
    _off_grid_recording(root, "03")
    _calibration_as_variable(root, "05")
    return root


@pytest.mark.parametrize("options", OPTIONS, ids=["default", "positive-normalised"])
def test_bulk_scores_equal_the_per_run_reference_exactly(mixed: Path, options: ScoringOptions) -> None:
    """Every session column and every plateau summary is identical, value for value and type for type."""
    reference, reference_plateaus = score_dataset_reference(mixed, options)
    scored = score_dataset(mixed, options)
    pd.testing.assert_frame_equal(scored.sessions, reference, check_exact=True)
    assert set(scored.plateaus) == set(reference_plateaus) and len(reference_plateaus) == 3
    for i, plateaus in reference_plateaus.items():
        pd.testing.assert_frame_equal(scored.plateaus[i], plateaus, check_exact=True)


def test_the_mixed_dataset_covers_what_it_claims(mixed: Path) -> None:
    """The fixture really has legacy events, mixed scales, censored times, NRS, recovered and incomplete runs."""
    s = score_dataset(mixed).sessions.set_index(["participant_id", "session_id", "task", "run"])
    flags = s["flags"].fillna("")
    assert flags.str.contains("old_events_format").sum() == 1 and flags.str.contains("mixed_scales").sum() == 1
    assert flags.str.contains("zero_baseline").sum() == 1 and flags.str.contains("incomplete").sum() == 1
    assert s["ptt_censored"].fillna(False).sum() == 1 and s["pdt_censored"].fillna(False).sum() == 1
    assert (s["ts_range"] == "0-10").sum() == 1 and s["recovered"].sum() == 1
    assert s["hpt_c"].notna().sum() == 2 and s["covas_n_plateaus"].sum() > 0
    assert (s["calibration_method"] == "variable calib_c").sum() == 1
    assert not flags.str.contains("facilitation").any()  # a result (cpm_*_direction), not a flag


def test_batches_and_processes_give_the_same_tables(mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 3 runs, scored in 2 processes, give the same sessions and derivative files as one batch."""
    whole = score_dataset(mixed)
    monkeypatch.setattr(batches, "BATCH_RUNS", 3)
    split = score_dataset(mixed, jobs=2)
    pd.testing.assert_frame_equal(split.sessions, whole.sessions, check_exact=True)
    assert build_outputs(split) == build_outputs(whole)


def test_per_run_files_are_cut_from_one_table_byte_for_byte(mixed: Path) -> None:
    """Each run's desc-cpm and desc-plateaus TSV equals formatting that run's rows alone."""
    scored = score_dataset(mixed)
    files = build_outputs(scored)
    for i, run in enumerate(scored.runs):
        stem = run.stem_path.name
        assert files[Path("cpmlab") / run.rel_dir / f"{stem}_desc-cpm_beh.tsv"] == tsv_bytes(scored.sessions.iloc[[i]])
        if i in scored.plateaus:
            assert files[Path("cpmlab") / run.rel_dir / f"{stem}_desc-plateaus_beh.tsv"] == tsv_bytes(
                scored.plateaus[i]
            )
