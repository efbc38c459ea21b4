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

# Session_start fields worth carrying on the marker (the rest stays in the journal).
SESSION_START_FIELDS = (
    "participant",
    "session",
    "run",
    "protocol",
    "task",
    "condition",
    "speed",
    "seed",
    "software_version",
    "lab",
    "started",
    "protocol_sha256",
)
_STEP_FIELDS = ("step_id", "step_type", "path", "role", "phase", "rep", "label", "rates")
_STIM_FIELDS = (
    "step_id",
    "role",
    "phase",
    "rep",
    "target_c",
    "baseline_c",
    "plateau_s",
    "ramp_c_per_s",
    "return_c_per_s",
    "zones",
)


@dataclass(frozen=True)
class MarkerName:
    """One documented marker: its name, the event it comes from, and its fields."""

    name: str
    source: str
    fields: tuple[str, ...]
    meaning: str


VOCABULARY: tuple[MarkerName, ...] = (
    MarkerName("session_start", "session_start", SESSION_START_FIELDS, "the session begins"),
    MarkerName(
        "session_end",
        "session_end",
        ("outcome",),
        "the session ends: completed, aborted, emergency_stopped, fault or failed",
    ),
    MarkerName("step_start", "step_start", _STEP_FIELDS, "a protocol step begins"),
    MarkerName("step_end", "step_end", (*_STEP_FIELDS, "status"), "a protocol step ends"),
    MarkerName(
        "ts_ramp_start",
        "stimulus ramp_start",
        _STIM_FIELDS,
        "thermode leaves baseline towards target_c (stimulus onset)",
    ),
    MarkerName("ts_plateau_start", "stimulus plateau_start", _STIM_FIELDS, "thermode reaches target_c"),
    MarkerName("ts_return_start", "stimulus return_start", _STIM_FIELDS, "thermode starts back to baseline_c"),
    MarkerName("ts_end", "stimulus end", _STIM_FIELDS, "thermode is back at baseline_c"),
    MarkerName(
        "cs_immersion_start",
        "immersion immersion_start",
        ("step_id", "role", "phase", "rep", "setpoint_c", "limb"),
        "limb enters the cold-pressor bath (conditioning onset)",
    ),
    MarkerName(
        "cs_immersion_end",
        "immersion immersion_end",
        ("step_id", "role", "phase", "rep", "setpoint_c", "limb", "reason", "duration_s", "censored"),
        "limb leaves the bath; duration_s in protocol seconds",
    ),
    MarkerName(
        "rating_onset",
        "rating_onset",
        ("step_id", "rates", "about", "scale", "role", "phase", "rep", "stimulus_c"),
        "first frame of a rating screen was flipped",
    ),
    MarkerName(
        "rating",
        "rating",
        (
            "step_id",
            "rates",
            "about",
            "scale",
            "value",
            "rt_s",
            "input",
            "category",
            "role",
            "phase",
            "rep",
            "stimulus_c",
        ),
        "the participant answered (value null: no answer before the timeout)",
    ),
    MarkerName(
        "screen_onset",
        "display screen_onset",
        ("step_id", "screen", "ended_by"),
        "first frame of an instruction, wait or continuous-rating screen",
    ),
    MarkerName("pause", "control pause", ("source",), "operator paused the session"),
    MarkerName("resume", "control resume", ("source",), "operator resumed the session"),
    MarkerName("abort", "control abort", ("source", "reason"), "session aborted, devices made safe"),
    MarkerName("emergency_stop", "control emergency_stop", ("source",), "every device aborted at once"),
    MarkerName("fault", "fault", ("device", "message", "step_id"), "a device or the engine failed"),
    MarkerName("note", "note", ("text", "source"), "operator note"),
    MarkerName(
        "marker",
        "marker",
        ("name", "step_id", "..."),
        "a named marker (protocol marker step, block_repetition, wait, bath_settling, lsl_streams)",
    ),
    MarkerName("variable", "variable", ("name", "value", "source", "..."), "a session variable was set"),
    MarkerName("command", "command", ("device", "..."), "bytes sent to a device (driver traffic)"),
    MarkerName("reply", "reply", ("device", "..."), "a device's reply (driver traffic)"),
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


def _pick(data: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in keys if k in data}


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
    """Return the JSON fields of an event's marker."""
    data = event.data
    if event.kind == ev.SESSION_START:
        return _pick(data, SESSION_START_FIELDS)
    if event.kind == ev.SESSION_END:
        return _pick(data, ("outcome",))
    if event.kind == ev.STIMULUS:
        return _pick(data, _STIM_FIELDS)
    if event.kind in (ev.IMMERSION, ev.CONTROL, ev.DISPLAY):
        drop = {"stage", "action", "end_t"}
        return {k: v for k, v in data.items() if k not in drop}
    if event.kind == ev.RATING:
        return {k: v for k, v in data.items() if k != "onset_t"}
    return dict(data)


def event_marker(event: ev.Event) -> str | None:
    """Return the marker string for an event, or None for samples (they go on numeric streams)."""
    if event.kind in ev.SAMPLE_KINDS:
        return None
    return format_marker(marker_name(event), marker_fields(event))
