"""Example study files shipped with cpmlab (installed as cpmlab.studies)."""

from __future__ import annotations

from pathlib import Path

STUDY_DIR = Path(__file__).resolve().parent


def study_path(name: str) -> Path:
    """Return the path of a shipped study by file name or stem (e.g. 'cpm_active_sham')."""
    stem = name.removesuffix(".yaml")
    path = STUDY_DIR / f"{stem}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in STUDY_DIR.glob("*.yaml")))
        raise FileNotFoundError(f"no shipped study {name!r}; shipped: {known}")
    return path
