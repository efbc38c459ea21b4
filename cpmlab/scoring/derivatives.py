"""Write the scores: per run as the BIDS derivative DATASET/derivatives/cpmlab/, dataset tables beside it."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from cpmlab import __version__
from cpmlab.core.errors import CpmlabError
from cpmlab.scoring.background import Background
from cpmlab.scoring.block_lines import format_blocks
from cpmlab.scoring.columns import (
    PLATEAU_COLUMNS,
    RETEST_PAIR_COLUMNS,
    contrast_columns,
    retest_columns,
    session_columns,
    summary_columns,
)
from cpmlab.scoring.dataset import read_json
from cpmlab.scoring.file_sync import SyncedPaths, TreeScan, sync_folder
from cpmlab.scoring.formatted_tables import RunTables, format_with_store
from cpmlab.scoring.layout import GROUP_FOLDER, PIPELINE, derivative_root, group_root, written_manifest
from cpmlab.scoring.pipeline import ScoredDataset

BIDS_VERSION = "1.10.0"
PARTICIPANT_LINES = "participant-lines.parquet"  # in the cache folder: cpm_participants.tsv by participant
GROUP_MARKER = Path("generated_by.json")  # says cpmlab wrote the group folder (it may be replaced)
OPTIONS_FILE = Path("cpm_sessions.json")
REPORT_DIR = Path("report")
REPORT_FILE = REPORT_DIR / "report.html"
FIGURE_DIR = REPORT_DIR / "figures"
# where earlier versions kept the options, inside derivatives/cpmlab
_OLD_OPTIONS_FILE = Path("derivatives", "group", "cpm_sessions.json")


def report_path(dataset: Path) -> Path:
    """Return where `cpmlab report` writes the HTML report of the dataset."""
    return group_root(dataset) / REPORT_FILE


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
        "GeneratedBy": _generated_by(),
    }


def _generated_by() -> list[dict[str, str]]:
    return [{"Name": "cpmlab", "Version": __version__, "Description": "cpmlab score"}]


def _readme(scored: ScoredDataset) -> str:
    o = scored.options
    return (
        "Scores computed by cpmlab score from the BIDS files of the raw dataset (../..).\n\n"
        "Per run (sub-*/[ses-*/]beh/):\n"
        "- *_desc-cpm_beh.tsv: test-stimulus ratings before/during/after conditioning, early and late CPM\n"
        "  effects (absolute and percent), conditioning-stimulus ratings, calibration, heat pain threshold,\n"
        "  cold-pressor detection/tolerance times, flags\n"
        "- *_desc-plateaus_beh.tsv: continuous ratings summarised over each heat plateau (mean, peak, AUC)\n"
        "Their columns are described once per task, at the top: task-<label>_desc-cpm_beh.json and\n"
        "task-<label>_desc-plateaus_beh.json apply to every run of that task (BIDS inheritance).\n\n"
        "Tables of the whole dataset (groups, active versus sham, test-retest) and the report are in\n"
        f"../{GROUP_FOLDER}/ (they are not BIDS files).\n\n"
        f"Sign convention: {o.sign_text()}.\nScales: {o.scale_text()}.\n"
        "Everything here is recomputed by a fresh `cpmlab score`; edit nothing by hand.\n"
    )


def _group_readme(scored: ScoredDataset) -> str:
    o = scored.options
    return (
        "Dataset-level results computed by cpmlab score from the raw dataset (../..); the per-run\n"
        f"scores are the BIDS derivative dataset ../{PIPELINE}/. Every table is per task (paradigm)\n"
        "and condition; each .tsv has a .json sidecar describing its columns.\n\n"
        "- cpm_sessions.tsv: every run's scores in one table\n"
        "- cpm_participants.tsv, cpm_groups.tsv: n, mean, SD, 95% CI, median, proportion with inhibition\n"
        "- cpm_contrast.tsv: active minus sham, paired within participants\n"
        "- cpm_retest.tsv, cpm_retest_pairs.tsv: ICC(3,1), ICC(2,1) with 95% CIs, SEM, SRD across sessions\n"
        f"- {REPORT_FILE.as_posix()}: the report (cpmlab report), with its figures as PNG and SVG in\n"
        f"  {FIGURE_DIR.as_posix()}/ (captions in {FIGURE_DIR.as_posix()}/figures.tsv)\n\n"
        f"Sign convention: {o.sign_text()}.\nScales: {o.scale_text()}.\n"
        "Everything here is replaced by a fresh `cpmlab score` or `cpmlab report`; edit nothing by hand.\n"
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
    """Return every file cpmlab score writes (path relative to DATASET/derivatives) and its content."""
    return {Path(rel): data for rel, data in _outputs(scored).items()}


def _outputs(scored: ScoredDataset) -> dict[str, bytes]:
    """Return every file cpmlab score writes as 'folder/relative/path' (with '/') -> content."""
    run_files, sessions_tsv = _run_outputs(scored)
    files = {f"{PIPELINE}/{rel}": data for rel, data in run_files.items()}
    return files | {f"{GROUP_FOLDER}/{rel}": data for rel, data in _group_outputs(scored, sessions_tsv).items()}


def _run_outputs(scored: ScoredDataset, tables: RunTables | None = None) -> tuple[dict[str, bytes], bytes]:
    """Return the files of derivatives/cpmlab (relative to it) and the formatted session table.

    Needs only the runs and their scores, not the group tables. tables: the formatted session and
    plateau tables (_run_tables), when already made.
    """
    files: dict[str, bytes] = {
        "dataset_description.json": json_bytes(_description()),
        "README": _readme(scored).encode("utf-8"),
    }
    run_sidecar = json_bytes(_sidecar(session_columns(scored.options), scored, "CPM scores of one run (one row)"))
    plateau_sidecar = json_bytes(
        _sidecar(PLATEAU_COLUMNS, scored, "Continuous ratings summarised over each heat plateau window")
    )
    tables = tables or _run_tables(scored)
    row_files, plateau_files = tables.rows, tables.plateaus
    # every run's sidecar would be the same bytes: one per task at the root applies to all of that
    # task's files (the BIDS inheritance principle), rather than 20,000 copies at 10,000 runs
    for i, run in enumerate(scored.runs):
        folder = f"sub-{run.participant}/ses-{run.session}/beh" if run.session else f"sub-{run.participant}/beh"
        stem = f"{folder}/{run.stem_name}"
        files[f"{stem}_desc-cpm_beh.tsv"] = row_files[i]
        files[f"task-{run.task}_desc-cpm_beh.json"] = run_sidecar
        if i in plateau_files:
            files[f"{stem}_desc-plateaus_beh.tsv"] = plateau_files[i]
            files[f"task-{run.task}_desc-plateaus_beh.json"] = plateau_sidecar
    return files, tables.sessions_tsv


def _run_tables(scored: ScoredDataset, save: bool = True) -> RunTables:
    """Format cpm_sessions.tsv and the per-run tables; runs whose key is unchanged take their stored lines.

    save: save newly formatted lines now; False leaves it to the tables' save_lines().
    """
    return format_with_store(scored.sessions, scored.plateaus, tsv_bytes, scored.cache_keys, scored.cache_dir, save)


def _participant_keys(scored: ScoredDataset) -> dict[str, str] | None:
    """Return each participant's key: a hash of their runs' cache keys (None when scored without the cache)."""
    if scored.cache_keys is None or len(scored.cache_keys) != len(scored.runs):
        return None
    by_participant: dict[str, list[str]] = {}
    for run, key in zip(scored.runs, scored.cache_keys, strict=True):
        by_participant.setdefault(f"sub-{run.participant}", []).append(key)
    return {pid: hashlib.sha256("\0".join(sorted(k)).encode()).hexdigest() for pid, k in by_participant.items()}


def _group_outputs(scored: ScoredDataset, sessions_tsv: bytes) -> dict[str, bytes]:
    """Return the files of derivatives/cpmlab-group (relative to it), the report aside."""
    o = scored.options
    files: dict[str, bytes] = {
        GROUP_MARKER.as_posix(): json_bytes({"GeneratedBy": _generated_by(), "ScoringOptions": o.as_dict()}),
        "README": _group_readme(scored).encode("utf-8"),
    }
    lines = scored.cache_dir / PARTICIPANT_LINES if scored.cache_dir is not None else None
    group_tables = [
        ("cpm_sessions", None, session_columns(o), "Every run's scores (one row per run)"),
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
    for name, df, cols, what in group_tables:
        if df is None:
            files[f"{name}.tsv"] = sessions_tsv
        elif name == "cpm_participants":  # 40,000 rows at 10,000 runs: unchanged participants keep their lines
            files[f"{name}.tsv"] = format_blocks(df, "participant_id", _participant_keys(scored), tsv_bytes, lines)
        else:
            files[f"{name}.tsv"] = tsv_bytes(df)
        files[f"{name}.json"] = json_bytes(_sidecar(cols, scored, what))
    return files


def previous_options(dataset: Path) -> dict[str, Any]:
    """Return the scoring options of the last `cpmlab score` run, or {} if there is none."""
    for path in (group_root(dataset) / OPTIONS_FILE, derivative_root(dataset) / _OLD_OPTIONS_FILE):
        if path.is_file():
            try:
                return dict(read_json(path).get("ScoringOptions") or {})
            except CpmlabError:
                return {}
    return {}


def _check_replaceable(out: Path, marker: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise CpmlabError(f"{out} is not a plain folder; refusing to replace it")
    if not out.exists() or not any(out.iterdir()):
        return
    path = out / marker
    generated = read_json(path).get("GeneratedBy", []) if path.is_file() else []
    if not any(isinstance(g, dict) and g.get("Name") == "cpmlab" for g in generated):
        raise CpmlabError(f"{out} exists but was not written by cpmlab score; move it away first")


def _check_folders(dataset: Path) -> None:
    """Refuse to touch either output folder unless both may be replaced (checked before either is touched)."""
    _check_replaceable(derivative_root(dataset), Path("dataset_description.json"))
    _check_replaceable(group_root(dataset), GROUP_MARKER)


def _sync(dataset: Path, name: str, files: dict[str, bytes], scan: TreeScan | None) -> tuple[str, list[str]]:
    """Sync derivatives/<name> to exactly these files; return the folder and the files' relative paths."""
    out = dataset / "derivatives" / name
    manifest = written_manifest(dataset, name)
    # derivatives are recomputable: the folder ends up holding exactly these files (stale ones are
    # deleted), and a file whose content is unchanged is not rewritten (re-scoring a large dataset)
    synced = sync_folder(out, files, manifest=manifest, scan=scan)
    manifest.with_suffix(".json").unlink(missing_ok=True)  # the JSON manifest earlier builds kept
    return os.fspath(out), synced.relative_paths()


def _write_run_folder(
    scored: ScoredDataset, scan: TreeScan | None, tables: RunTables | None = None
) -> tuple[str, list[str]]:
    files, _ = _run_outputs(scored, tables)
    return _sync(scored.root, PIPELINE, files, scan)


class RunFolderWriter:
    """Writes derivatives/cpmlab (the per-run files) in a forked process while the group tables are computed.

    Start it once the runs are scored; write_derivatives takes its result. Where no child can be
    forked, or the child fails, write_derivatives writes the folder itself (background.py).
    run_scan: returns what derivatives/cpmlab holds (prescan.Prescan.run_scan), called in the child.
    """

    def __init__(self, scored: ScoredDataset, run_scan: Callable[[], TreeScan | None] | None = None) -> None:
        _check_folders(scored.root)
        self.root = scored.root
        save_cache = scored.take_cache_save()  # the cache rows are saved in the background too
        scan = run_scan or (lambda: None)
        root = os.fspath(derivative_root(scored.root))
        made: list[RunTables] = []

        def tables() -> RunTables:  # once per process: made in the child, or here for a step that failed there
            if not made:
                made.append(_run_tables(scored, save=False))  # the new lines are saved with the cache
            return made[0]

        def save() -> None:
            save_cache()
            tables().save_lines()

        def write() -> tuple[str, list[str]]:
            files, _ = _run_outputs(scored, tables())
            found = scan()  # what the folder holds: by now the background scan has usually found it
            return _sync(scored.root, PIPELINE, files, found if found is not None and found.root == root else None)

        # the session table is formatted in the child too: the group folder needs it only at the end
        self._work = Background([lambda: tables().sessions_tsv, save, write])

    @property
    def forked(self) -> bool:
        """Whether the folder is being written in a child process."""
        return self._work.forked

    @property
    def sessions_tsv(self) -> bytes:
        """Return cpm_sessions.tsv as formatted for the per-run files."""
        return self._work.result(0)  # type: ignore[no-any-return]

    def result(self) -> tuple[str, list[str]]:
        """Return the folder and its files' relative paths once written (and the cache saved)."""
        self._work.result(1)
        return self._work.result(2)  # type: ignore[no-any-return]


def write_derivatives(
    scored: ScoredDataset,
    extra: dict[Path, bytes] | None = None,
    scans: list[TreeScan] | None = None,
    run_folder: RunFolderWriter | None = None,
) -> SyncedPaths:
    """Bring derivatives/cpmlab and derivatives/cpmlab-group up to date; return the paths they hold.

    extra: more files for derivatives/cpmlab-group (the report), paths relative to that folder.
    scans: what prescan.scan_output found in either folder a moment ago, or None to look.
    run_folder: the writer of derivatives/cpmlab started when the runs were scored, or None.
    """
    found = {scan.root: scan for scan in scans or []}
    run_scan = found.get(os.fspath(derivative_root(scored.root)))
    if run_folder is None or run_folder.root != scored.root:
        _check_folders(scored.root)
        tables = _run_tables(scored)
        run_folder_files = _write_run_folder(scored, run_scan, tables)
        sessions_tsv = tables.sessions_tsv
    else:
        sessions_tsv = run_folder.sessions_tsv
    group_files = _group_outputs(scored, sessions_tsv)
    group_files |= {Path(rel).as_posix(): data for rel, data in (extra or {}).items()}
    group_folder_files = _sync(scored.root, GROUP_FOLDER, group_files, found.get(os.fspath(group_root(scored.root))))
    if run_folder is not None and run_folder.root == scored.root:
        run_folder_files = run_folder.result()  # written meanwhile in the background
    written = SyncedPaths()
    for folder, rels in (run_folder_files, group_folder_files):
        written.add(Path(folder), rels)
    return written
