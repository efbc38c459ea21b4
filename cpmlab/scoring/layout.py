"""Where cpmlab score keeps its outputs and records in a dataset (names only: no heavy imports)."""

from __future__ import annotations

from pathlib import Path

PIPELINE = "cpmlab"
# Dataset-level tables and the report are not BIDS files, and BIDS validators do not read a
# .bidsignore inside a derivative when they validate recursively (bids-validator-deno 3.0.2
# prunes dot-files of sub-datasets). BIDS lets derivatives/ hold non-BIDS derivatives beside BIDS
# ones, and validators skip a folder there that has no dataset_description.json: so they live in
# the sibling folder derivatives/cpmlab-group/, which a person finds next to derivatives/cpmlab/.
GROUP_FOLDER = f"{PIPELINE}-group"
CACHE_DIR = Path("derivatives", ".cpmlab-cache")  # hidden: BIDS validators skip it; delete it to re-score all


def cache_dir(dataset: Path) -> Path:
    """Return DATASET/derivatives/.cpmlab-cache."""
    return dataset / CACHE_DIR


def derivative_root(dataset: Path) -> Path:
    """Return DATASET/derivatives/cpmlab (the BIDS derivative dataset of per-run scores)."""
    return dataset / "derivatives" / PIPELINE


def group_root(dataset: Path) -> Path:
    """Return DATASET/derivatives/cpmlab-group (dataset-level tables and the report)."""
    return dataset / "derivatives" / GROUP_FOLDER


def written_manifest(dataset: Path, folder: str) -> Path:
    """Return the record of the files cpmlab last wrote to derivatives/<folder> (kept in the cache folder)."""
    return cache_dir(dataset) / f"written-{folder}.npz"


def output_folders(dataset: Path) -> list[tuple[Path, str]]:
    """Return the folders cpmlab score writes and each one's name (the manifest's name)."""
    return [(derivative_root(dataset), PIPELINE), (group_root(dataset), GROUP_FOLDER)]
