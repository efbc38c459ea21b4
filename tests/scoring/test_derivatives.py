"""The derivatives: layout, sidecars, BIDS validity (bids-validator-deno -r), replacement, raw data untouched."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from bids_validator import validator_command
from report_fixtures import scored_with_schema
from scoring_helpers import raw_snapshot

from cpmlab import __version__
from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.derivatives import (
    derivative_root,
    group_root,
    previous_options,
    report_path,
    write_derivatives,
)
from cpmlab.scoring.options import ScoringOptions
from cpmlab.scoring.pipeline import score_dataset
from cpmlab.scoring.report import write_report
from cpmlab.scoring.synthetic import generate_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three participants x four sessions (active, sham, active, sham) with recordings."""
    root = tmp_path_factory.mktemp("deriv") / "ds"
    generate_dataset(root, 3, 4, seed=5)
    return root


def _all_errors(root: Path) -> list[tuple[str, str, str]]:
    proc = subprocess.run(
        [*validator_command(), str(root), "-r", "--format", "json"], capture_output=True, text=True, timeout=300
    )
    report = json.loads(proc.stdout)
    summaries = {"raw": report, **report.get("derivativesSummary", {})}
    return [
        (name, i["code"], i.get("location", ""))
        for name, r in summaries.items()
        for i in r["issues"]["issues"]
        if i["severity"] == "error"
    ]


def test_derivatives_and_report_pass_the_bids_validator_recursively(dataset: Path) -> None:
    """bids-validator-deno -r reports zero errors for the raw dataset and derivatives/ with the report written."""
    path = write_report(scored_with_schema(dataset))
    assert path.is_file() and any(path.parent.joinpath("figures").glob("*.svg"))
    assert _all_errors(dataset) == []


def test_no_derivatives_inside_derivatives_and_a_findable_report(dataset: Path) -> None:
    """Tables in derivatives/cpmlab-group, the report in its report/ folder; no derivatives/.../derivatives/."""
    path = write_report(scored_with_schema(dataset))
    assert path == dataset / "derivatives" / "cpmlab-group" / "report" / "report.html"
    assert path == report_path(dataset) and (group_root(dataset) / "cpm_groups.tsv").is_file()
    nested = [p for p in dataset.rglob("*") if p.relative_to(dataset).parts.count("derivatives") > 1]
    assert nested == []
    assert (derivative_root(dataset) / "README").read_text().count("../cpmlab-group/") == 1


def test_layout_description_and_sidecars(dataset: Path) -> None:
    """Per-run desc-cpm files sit at the BIDS path; every column is described; sign stated."""
    scored = score_dataset(dataset, ScoringOptions(sign="inhibition-positive"))
    write_derivatives(scored)
    out = derivative_root(dataset)
    desc = json.loads((out / "dataset_description.json").read_text())
    assert desc["DatasetType"] == "derivative" and desc["GeneratedBy"][0] == {
        "Name": "cpmlab",
        "Version": __version__,
        "Description": "cpmlab score",
    }
    tsv = out / "sub-001/ses-2/beh/sub-001_ses-2_task-cpm_run-1_desc-cpm_beh.tsv"
    # one sidecar per task at the root describes every run's file (BIDS inheritance), none beside each run
    side = json.loads((out / "task-cpm_desc-cpm_beh.json").read_text())
    row = pd.read_csv(tsv, sep="\t", na_values="n/a")
    assert len(row) == 1 and all(c in side for c in row.columns)
    assert "positive = inhibition" in side["SignConvention"] and side["cpm_late"]["Units"].startswith("rating")
    plateaus = tsv.parent / tsv.name.replace("desc-cpm", "desc-plateaus")
    plateau_side = json.loads((out / "task-cpm_desc-plateaus_beh.json").read_text())
    assert all(c in plateau_side for c in pd.read_csv(plateaus, sep="\t").columns)
    assert not list(out.glob("sub-*/**/*.json"))
    group = group_root(dataset)
    for name in ("cpm_sessions", "cpm_participants", "cpm_groups", "cpm_contrast", "cpm_retest", "cpm_retest_pairs"):
        table = pd.read_csv(group / f"{name}.tsv", sep="\t")
        sidecar = json.loads((group / f"{name}.json").read_text())
        assert all(c in sidecar for c in table.columns), name
    assert len(pd.read_csv(group / "cpm_retest.tsv", sep="\t")) > 0
    assert previous_options(dataset) == {"sign": "inhibition-positive", "normalise_nrs": False, "retest_sessions": None}


def test_rescoring_replaces_the_earlier_run_and_never_touches_raw_data(dataset: Path) -> None:
    """Stale files in derivatives/cpmlab and cpmlab-group disappear on a fresh score; raw files are unchanged."""
    before = raw_snapshot(dataset)
    write_derivatives(score_dataset(dataset))
    stale = [derivative_root(dataset) / "sub-999_stale.tsv", group_root(dataset) / "report" / "old.html"]
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
    write_derivatives(score_dataset(dataset))
    assert not any(p.exists() for p in stale)
    assert raw_snapshot(dataset) == before


def test_hand_edited_and_deleted_derivatives_are_restored(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited per-run TSV (same size and time) and a deleted one are rewritten; the manifest lives in the cache."""
    from cpmlab.scoring import file_sync
    from cpmlab.scoring.derivatives import build_outputs, written_manifest

    monkeypatch.setattr(file_sync, "RACY_S", 0.0)  # as if the racy window had passed since the last write
    scored = score_dataset(dataset)
    write_derivatives(scored)
    assert written_manifest(dataset, "cpmlab").is_file() and written_manifest(dataset, "cpmlab-group").is_file()
    tsvs = sorted(derivative_root(dataset).rglob("*_desc-cpm_beh.tsv"))
    edited, deleted = tsvs[0], tsvs[1]
    old = edited.stat()
    data = edited.read_bytes()
    edited.write_bytes(data.replace(b"\t", b" ", 1))
    os.utime(edited, ns=(old.st_atime_ns, old.st_mtime_ns))
    deleted.unlink()
    write_derivatives(scored)
    expected = build_outputs(scored)
    for path in (edited, deleted):
        assert path.read_bytes() == expected[path.relative_to(dataset / "derivatives")]


def test_a_foreign_folder_named_cpmlab_is_not_replaced(tmp_path: Path) -> None:
    """derivatives/cpmlab written by something else is left alone with a clear error."""
    root = tmp_path / "ds"
    generate_dataset(root, 1, 1, recordings=())
    foreign = derivative_root(root)
    foreign.mkdir(parents=True)
    (foreign / "mine.txt").write_text("keep")
    with pytest.raises(CpmlabError, match="not written by cpmlab"):
        write_derivatives(score_dataset(root))
    assert (foreign / "mine.txt").read_text() == "keep"


def test_a_foreign_group_folder_is_not_replaced_and_nothing_is_removed(tmp_path: Path) -> None:
    """derivatives/cpmlab-group written by someone else: refused before derivatives/cpmlab is touched."""
    root = tmp_path / "ds"
    generate_dataset(root, 1, 1, recordings=())
    write_derivatives(score_dataset(root))
    own = sorted(p for p in derivative_root(root).rglob("*") if p.is_file())
    (group_root(root) / "generated_by.json").unlink()
    (group_root(root) / "notes.txt").write_text("mine")
    with pytest.raises(CpmlabError, match="cpmlab-group exists but was not written by cpmlab"):
        write_derivatives(score_dataset(root))
    assert (group_root(root) / "notes.txt").read_text() == "mine"
    assert sorted(p for p in derivative_root(root).rglob("*") if p.is_file()) == own


def test_options_of_a_dataset_scored_by_an_earlier_version_are_still_found(tmp_path: Path) -> None:
    """previous_options reads derivatives/cpmlab/derivatives/group/cpm_sessions.json when it is all there is."""
    old = derivative_root(tmp_path) / "derivatives" / "group" / "cpm_sessions.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"ScoringOptions": {"sign": "inhibition-positive"}}))
    assert previous_options(tmp_path) == {"sign": "inhibition-positive"}
    assert previous_options(tmp_path / "nothing") == {}


def test_synthetic_truth_matches_the_scores(dataset: Path) -> None:
    """The generator's known phase means, CS mean, HPT and censored PTT come back from the files."""
    truth = generate_dataset(dataset.parent / "again", 3, 4, seed=5, recordings=())
    s = score_dataset(dataset.parent / "again").sessions
    merged = truth.merge(s, on=["participant_id", "session_id"], suffixes=("_true", ""))
    for col in ("ts_before_mean", "ts_during_mean", "ts_after_mean", "cs_mean", "hpt_c", "ptt_s"):
        assert merged[col].to_numpy() == pytest.approx(merged[f"{col}_true"].to_numpy()), col
    assert (merged["ptt_censored"].astype(bool) == merged["ptt_censored_true"]).all()
    assert (merged["cpm_late"] == merged["ts_after_mean"] - merged["ts_before_mean"]).all()
