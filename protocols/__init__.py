"""The standard protocol library shipped with cpmlab (installed as cpmlab.protocols)."""

from __future__ import annotations

from pathlib import Path

PROTOCOL_DIR = Path(__file__).resolve().parent


def protocol_path(name: str) -> Path:
    """Return the path of a shipped protocol by file name or stem (e.g. 'cpm_sequential')."""
    stem = name.removesuffix(".yaml")
    path = PROTOCOL_DIR / f"{stem}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in PROTOCOL_DIR.glob("*.yaml")))
        raise FileNotFoundError(f"no shipped protocol {name!r}; shipped: {known}")
    return path
