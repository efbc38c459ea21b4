"""Every event field the console, CLI progress and participant model read is a declared field.

The views read events as dicts (``d.get("setpoint_c")``); a misspelt name would silently read
None. This scans their source for reads of event data and checks each name against the
declarations in cpmlab.core.vocabulary.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cpmlab
from cpmlab.console.summary_view import RATING_COLUMNS
from cpmlab.core import vocabulary as voc
from cpmlab.storage.bids_meta import BEH_COLUMNS

ROOT = Path(cpmlab.__file__).parent
READERS = [
    *sorted((ROOT / "console").glob("*.py")),
    ROOT / "cli" / "progress.py",
    ROOT / "participant" / "simulated.py",
]
EVENT_DATA_NAMES = {"d", "data"}  # local names the views give an event's data dict
NOT_EVENTS = {"devices_panel.py"}  # reads the session_start metadata's nested device dicts too


def _is_event_data(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id in EVENT_DATA_NAMES
    return isinstance(node, ast.Attribute) and node.attr == "data"


def _field_reads(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _is_event_data(node.func.value)
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
        if isinstance(node, ast.Subscript) and _is_event_data(node.value) and isinstance(node.slice, ast.Constant):
            names.add(str(node.slice.value))
    return names


def test_every_event_field_read_by_a_view_is_declared() -> None:
    """No view reads an event field that no kind declares (a typo would read None forever)."""
    declared = {f.name for k in voc.KINDS.values() for f in k.fields}
    reads = {p.name: _field_reads(p) for p in READERS if p.name not in NOT_EVENTS}
    assert sum(len(r) for r in reads.values()) > 20  # the scan finds the reads at all
    unknown = {name: sorted(r - declared) for name, r in reads.items() if r - declared}
    assert unknown == {}


def test_the_summary_shows_columns_the_writer_writes() -> None:
    """Every _beh.tsv column the summary view labels is a column the BIDS writer writes."""
    assert set(RATING_COLUMNS) <= set(BEH_COLUMNS)
