"""Write the scores as a BIDS derivative dataset in DATASET/derivatives/cpmlab/ (and nowhere else)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from cpmlab import __version__
from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.columns import (
    PLATEAU_COLUMNS,
    RETEST_PAIR_COLUMNS,
    contrast_columns,
    retest_columns,
    session_columns,
    summary_columns,
)
from cpmlab.scoring.dataset import read_json
from cpmlab.scoring.file_sync import sync_folder
from cpmlab.scoring.pipeline import ScoredDataset
from cpmlab.scoring.run_tables import group_tsvs, row_tsvs

PIPELINE = "cpmlab"
BIDS_VERSION = "1.10.0"
# Group tables and the HTML report are not BIDS files. They go in a nested derivatives/ folder
# (BIDS lets a derivative dataset hold derivatives of its own; validators skip it as opaque): a
# .bidsignore in derivatives/cpmlab/ would be spec-correct too, but bids-validator-deno 3.0.2 prunes
# dot-files of sub-datasets in `-r` mode, so it never reads that file.
GROUP_DIR = Path("derivatives", "group")
OPTIONS_FILE = GROUP_DIR / "cpm_sessions.json"
REPORT_FILE = GROUP_DIR / "cpm_report.html"


def derivative_root(dataset: Path) -> Path:
    """Return DATASET/derivatives/cpmlab."""
    return dataset / "derivatives" / PIPELINE


def tsv_bytes(df: pd.DataFrame) -> bytes:
    """Return a BIDS TSV (n/a for missing values, floats rounded to 6 decimals)."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(6)
        elif out[c].dtype == object:
            out[c] = out[c].map(lambda v: round(v, 6) if isinstance(v, float) else v)
    buf = io.StringIO()
    out.to_csv(buf, sep="\t", index=False, na_rep="n/a", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
    return buf.getvalue().encode("utf-8")


def json_bytes(obj: Any) -> bytes:
    """Return indented UTF-8 JSON."""
    return (json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


def _description() -> dict[str, Any]:
    return {
        "Name": "cpmlab scores: CPM effects, thresholds, group tables and test-retest",
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "derivative",
        "GeneratedBy": [{"Name": "cpmlab", "Version": __version__, "Description": "cpmlab score"}],
    }


def _readme(scored: ScoredDataset) -> str:
    o = scored.options
    return (
        "Scores computed by cpmlab score from the BIDS files of the raw dataset (../..).\n\n"
        "Per run (sub-*/[ses-*/]beh/):\n"
        "- *_desc-cpm_beh.tsv: test-stimulus ratings before/during/after conditioning, early and late CPM\n"
        "  effects (absolute and percent), conditioning-stimulus ratings, calibration, heat pain threshold,\n"
        "  cold-pressor detection/tolerance times, flags\n"
        "- *_desc-plateaus_beh.tsv: continuous ratings summarised over each heat plateau (mean, peak, AUC)\n\n"
        "Dataset level, in derivatives/group/ (tables of all runs; not BIDS files, so kept in the\n"
        "nested derivatives folder that BIDS validators skip):\n"
        "- cpm_sessions.tsv: every run's scores in one table\n"
        "- cpm_participants.tsv, cpm_groups.tsv: n, mean, SD, median, proportion with inhibition\n"
        "- cpm_contrast.tsv: active minus sham, paired within participants\n"
        "- cpm_retest.tsv, cpm_retest_pairs.tsv: ICC(3,1), ICC(2,1), SEM, SRD across sessions\n"
        "- cpm_report.html: the report (cpmlab report)\n\n"
        f"Sign convention: {o.sign_text()}.\nScales: {o.scale_text()}.\n"
        "Everything here is recomputed by a fresh `cpmlab score`; edit nothing by hand.\n"
    )


def _sidecar(columns: dict[str, dict[str, Any]], scored: ScoredDataset, what: str) -> dict[str, Any]:
    return {
        "Description": what,
        "SignConvention": scored.options.sign_text(),
        "ScaleHandling": scored.options.scale_text(),
        "ScoringOptions": scored.options.as_dict(),
        **columns,
    }


def build_outputs(scored: ScoredDataset) -> dict[Path, bytes]:
    """Return every derivative file (path relative to derivatives/cpmlab) and its content."""
    o = scored.options
    files: dict[Path, bytes] = {
        Path("dataset_description.json"): json_bytes(_description()),
        Path("README"): _readme(scored).encode("utf-8"),
    }
    scols = session_columns(o)
    run_sidecar = json_bytes(_sidecar(scols, scored, "CPM scores of one run (one row)"))
    plateau_sidecar = json_bytes(
        _sidecar(PLATEAU_COLUMNS, scored, "Continuous ratings summarised over each heat plateau window")
    )
    row_files = row_tsvs(scored.sessions, tsv_bytes)  # formatted once for all runs, then cut per run
    plateau_files = group_tsvs(scored.plateaus, tsv_bytes)
    for i, run in enumerate(scored.runs):
        stem = run.stem_path.name
        files[run.rel_dir / f"{stem}_desc-cpm_beh.tsv"] = row_files[i]
        files[run.rel_dir / f"{stem}_desc-cpm_beh.json"] = run_sidecar
        if i in plateau_files:
            files[run.rel_dir / f"{stem}_desc-plateaus_beh.tsv"] = plateau_files[i]
            files[run.rel_dir / f"{stem}_desc-plateaus_beh.json"] = plateau_sidecar
    tables = [
        ("cpm_sessions", scored.sessions, scols, "Every run's scores (one row per run)"),
        (
            "cpm_participants",
            scored.participants,
            summary_columns(o, "participant"),
            "Per participant: summaries of the CPM effects over their sessions, per condition and overall",
        ),
        (
            "cpm_groups",
            scored.groups,
            summary_columns(o, "group"),
            "Per group (active, sham, overall): each participant contributes the mean of their sessions",
        ),
        ("cpm_contrast", scored.contrast, contrast_columns(o), "Active minus sham, paired within participants"),
        (
            "cpm_retest",
            scored.retest,
            retest_columns(o),
            "Test-retest reliability: same participant, same condition, first two sessions",
        ),
        ("cpm_retest_pairs", scored.retest_pairs, RETEST_PAIR_COLUMNS, "The session pairs behind cpm_retest"),
    ]
    for name, df, cols, what in tables:
        files[GROUP_DIR / f"{name}.tsv"] = tsv_bytes(df)
        files[GROUP_DIR / f"{name}.json"] = json_bytes(_sidecar(cols, scored, what))
    return files


def previous_options(dataset: Path) -> dict[str, Any]:
    """Return the scoring options of the last `cpmlab score` run, or {} if there is none."""
    path = derivative_root(dataset) / OPTIONS_FILE
    if not path.is_file():
        return {}
    try:
        return dict(read_json(path).get("ScoringOptions") or {})
    except CpmlabError:
        return {}


def _check_replaceable(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise CpmlabError(f"{out} is not a plain folder; refusing to replace it")
    if not out.exists() or not any(out.iterdir()):
        return
    desc = out / "dataset_description.json"
    generated = read_json(desc).get("GeneratedBy", []) if desc.is_file() else []
    if not any(isinstance(g, dict) and g.get("Name") == "cpmlab" for g in generated):
        raise CpmlabError(f"{out} exists but was not written by cpmlab score; move it away first")


def write_derivatives(scored: ScoredDataset, extra: dict[Path, bytes] | None = None) -> list[Path]:
    """Replace DATASET/derivatives/cpmlab with freshly computed files; return the paths written."""
    out = derivative_root(scored.root)
    files = {**build_outputs(scored), **(extra or {})}
    _check_replaceable(out)
    # derivatives are recomputable: the folder ends up holding exactly these files (stale ones are
    # deleted), and a file whose content is unchanged is not rewritten (re-scoring a large dataset)
    return sync_folder(out, files)
