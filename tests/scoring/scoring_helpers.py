"""Helpers for the scoring tests: ratings tables, events tables and small hand-built datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cpmlab.scoring.synthetic import RunSpec, session_spec, write_dataset_files, write_run
from cpmlab.storage.bids_meta import EVENTS_COLUMNS


def ts_rows(phases: dict[str, list[float | None]], scale: str = "vas") -> list[dict[str, Any]]:
    """Return ratings rows of the heat test stimulus for each phase."""
    return [
        {"about": "heat", "role": "test_stimulus", "phase": p, "scale": scale, "rating": v}
        for p, values in phases.items()
        for v in values
    ]


def ratings(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Return a ratings DataFrame shaped like _beh.tsv (the columns the scoring reads)."""
    df = pd.DataFrame(rows, columns=["about", "role", "phase", "scale", "rating", "stimulus_c"])
    df["rating"] = pd.to_numeric(df["rating"], errors="coerce")
    return df


def events(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Return an events DataFrame with the columns of _events.tsv."""
    return pd.DataFrame(rows, columns=list(EVENTS_COLUMNS))


def write_specs(root: Path, specs: list[RunSpec]) -> Path:
    """Write a dataset made of the given runs; return its root."""
    write_dataset_files(root, [s.participant for s in specs])
    for spec in specs:
        write_run(root, spec)
    return root


def simple_session(
    participant: str,
    session: str,
    condition: str,
    before: list[float | None],
    after: list[float | None],
    during: list[float | None] | None = None,
    **kw: Any,
) -> RunSpec:
    """Return a run with the given TS ratings, two NRS CS ratings and no recordings."""
    ts = {"before": before, "after": after} if during is None else {"before": before, "during": during, "after": after}
    return session_spec(participant, session, condition, ts, kw.pop("cs", [5.0, 7.0]), **kw)


def raw_snapshot(root: Path) -> dict[str, bytes]:
    """Return the content of every file outside derivatives/ (to check raw data is never touched)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "derivatives" not in p.relative_to(root).parts
    }
