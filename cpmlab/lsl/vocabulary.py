"""The LSL marker vocabulary: one fixed event name plus a JSON object of fields per marker.

A marker string is ``NAME {"field": value, ...}``: the name (letters, digits, ``_``), one
space, then compact JSON. The marker's LSL timestamp is the time the event happened, so
the fields never repeat it. ``docs/lsl.md`` lists every name and its fields.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cpmlab.core import events as ev
from cpmlab.core import vocabulary as voc

NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")

# Test stimulus (thermode) stages -> marker names.
STIMULUS_NAMES = {
    "ramp_start": "ts_ramp_start",
    "plateau_start": "ts_plateau_start",
    "return_start": "ts_return_start",
    "end": "ts_end",
}
# Conditioning stimulus (cold pressor) stages -> marker names.
IMMERSION_NAMES = {"immersion_start": "cs_immersion_start", "immersion_end": "cs_immersion_end"}
CONTROL_NAMES = {"pause": "pause", "resume": "resume", "abort": "abort", "emergency_stop": "emergency_stop"}


@dataclass(frozen=True)
class MarkerName:
    """One documented marker: its name, the event it comes from, and its fields."""

    name: str
    source: str
    fields: tuple[str, ...]
    meaning: str


def marker_field_names(kind: str) -> tuple[str, ...]:
    """Return the fields an event kind's marker carries, from the kind's declaration."""
    declared = voc.kind(kind)
    names = tuple(f.name for f in declared.fields if f.marker)
    if "fields" in names:  # source-specific fields (protocol marker, driver traffic) are flattened onto it
        names = (*(n for n in names if n != "fields"), "...")
    return names


_MEANINGS: tuple[tuple[str, str, str], ...] = (
    ("session_start", "session_start", "the session begins"),
    ("session_end", "session_end", "the session ends: completed, aborted, emergency_stopped, fault or failed"),
    ("step_start", "step_start", "a protocol step begins"),
    ("step_end", "step_end", "a protocol step ends"),
    ("ts_ramp_start", "stimulus ramp_start", "thermode leaves baseline towards target_c (stimulus onset)"),
    ("ts_plateau_start", "stimulus plateau_start", "thermode reaches target_c"),
    ("ts_return_start", "stimulus return_start", "thermode starts back to baseline_c"),
    ("ts_end", "stimulus end", "thermode is back at baseline_c"),
    ("cs_immersion_start", "immersion immersion_start", "limb enters the cold-pressor bath (conditioning onset)"),
    ("cs_immersion_end", "immersion immersion_end", "limb leaves the bath; duration_s in protocol seconds"),
    ("rating_onset", "rating_onset", "first frame of a rating screen was flipped"),
    ("rating", "rating", "the participant answered (value null: no answer before the timeout)"),
    ("screen_onset", "display screen_onset", "first frame of an instruction, wait or continuous-rating screen"),
    *((action, f"control {action}", meaning) for action, meaning in voc.CONTROL_ACTIONS.items()),
    ("fault", "fault", "a device or the engine failed"),
    ("note", "note", "operator note"),
    ("marker", "marker", voc.MARKER.description),
    ("variable", "variable", "a session variable was set"),
    ("measure", "measure", voc.MEASURE.description),
    ("command", "command", "bytes sent to a device (driver traffic)"),
    ("reply", "reply", "a device's reply (driver traffic)"),
)
VOCABULARY: tuple[MarkerName, ...] = tuple(
    MarkerName(name, source, marker_field_names(source.split()[0]), meaning) for name, source, meaning in _MEANINGS
)
NAMES = frozenset(m.name for m in VOCABULARY)


def _clean(value: Any) -> Any:
    """Make a value strict-JSON safe: non-finite floats become null, tuples lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def format_marker(name: str, fields: Mapping[str, Any] | None = None) -> str:
    """Return the marker string ``NAME {json}`` (fields whose value is None are kept)."""
    if not NAME_RE.match(name):
        raise ValueError(f"marker name {name!r}: letters, digits and _ only")
    body = json.dumps(_clean(dict(fields or {})), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return f"{name} {body}"


def parse_marker(text: str) -> tuple[str, dict[str, Any]]:
    """Split a marker string into its name and its fields dict."""
    name, _, body = text.strip().partition(" ")
    if not NAME_RE.match(name):
        raise ValueError(f"not a cpmlab marker: {text[:60]!r}")
    fields = json.loads(body) if body.strip() else {}
    if not isinstance(fields, dict):
        raise ValueError(f"marker {name!r}: fields must be a JSON object")
    return name, fields


def marker_name(event: ev.Event) -> str:
    """Return the vocabulary name of an event's marker."""
    stage = event.data.get("stage")
    if event.kind == ev.STIMULUS:
        return STIMULUS_NAMES.get(str(stage), f"ts_{stage}")
    if event.kind == ev.IMMERSION:
        return IMMERSION_NAMES.get(str(stage), f"cs_{stage}")
    if event.kind == ev.CONTROL:
        action = str(event.data.get("action"))
        return CONTROL_NAMES.get(action, action if NAME_RE.match(action) else "control")
    if event.kind == ev.DISPLAY:
        return str(stage) if stage and NAME_RE.match(str(stage)) else "display"
    return event.kind if NAME_RE.match(event.kind) else "event"


def marker_fields(event: ev.Event) -> dict[str, Any]:
    """Return the JSON fields of an event's marker: its kind's marker fields, in declaration order."""
    data = event.data
    declared = voc.KINDS.get(event.kind)
    if declared is None:  # a kind the vocabulary does not know yet: send everything
        return dict(data)
    out = {f.name: data[f.name] for f in declared.fields if f.marker and f.name in data and f.name != "fields"}
    if isinstance(data.get("fields"), Mapping):  # source-specific fields travel flattened
        out.update({k: v for k, v in data["fields"].items() if k not in out})
    names = set(declared.field_names)  # an event built without the bus (older journal) keeps its extras
    out.update({k: v for k, v in data.items() if k not in names and k not in out})
    return out


def event_marker(event: ev.Event) -> str | None:
    """Return the marker string for an event, or None for samples (they go on numeric streams)."""
    if event.kind in ev.SAMPLE_KINDS:
        return None
    return format_marker(marker_name(event), marker_fields(event))
