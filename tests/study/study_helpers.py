"""Helpers for study tests: a small study text and hand-written journals of finished runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STUDY = """\
cpmlab_study: 1
name: s
title: Test study
participant_fields:
  - {name: age, type: integer, min: 18, max: 99, unit: years}
  - {name: sex, type: choice, levels: {F: female, M: male}}
conditions: [active, sham]
counterbalance: {scheme: permuted_blocks, seed: 7}
visits:
  - id: v1
    session: "1"
    condition: 1
    protocol: {active: pain60_calibration_cpm, sham: cpm_sham_control}
  - id: v2
    session: "2"
    condition: 2
    protocol: {active: cpm_sequential, sham: cpm_sham_control}
    carry:
      ts_target_c: {from_visit: v1, variable: ts_target_c}
"""


def write_journal(
    root: Path,
    participant: str,
    session: str,
    task: str,
    run: int,
    *,
    outcome: str | None = "completed",
    condition: str = "active",
    variables: dict[str, Any] | None = None,
    records: list[dict[str, Any]] | None = None,
) -> Path:
    """Write a minimal journal of one run (session_start, variables, extra records, session_end)."""
    folder = root / "sourcedata" / "cpmlab" / f"sub-{participant}" / f"ses-{session}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sub-{participant}_ses-{session}_task-{task}_run-{run}_journal.jsonl"
    lines = [{"kind": "session_start", "t": 0.0, "protocol": task, "task": task, "condition": condition}]
    for name, value in (variables or {}).items():
        lines.append({"kind": "variable", "t": 1.0, "name": name, "value": value, "source": "cal"})
    lines += records or []
    if outcome is not None:
        lines.append({"kind": "session_end", "t": 2.0, "outcome": outcome, "variables": {}})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path
