"""The marker vocabulary: every event kind maps to a documented name, and markers round-trip."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cpmlab.core import events as ev
from cpmlab.core.events import Event
from cpmlab.lsl.vocabulary import NAMES, VOCABULARY, event_marker, format_marker, marker_name, parse_marker

DOC = Path(__file__).resolve().parents[2] / "docs" / "lsl.md"
STIM = {
    "step_id": "ts_before",
    "role": "test_stimulus",
    "phase": "before",
    "target_c": 46.0,
    "baseline_c": 32.0,
    "plateau_s": 20.0,
    "ramp_c_per_s": 4.0,
    "return_c_per_s": 4.0,
    "zones": [1, 2, 3],
}
EVENTS = [
    (
        Event(
            ev.SESSION_START,
            1.0,
            {
                "participant": "01",
                "session": "1",
                "run": 1,
                "protocol": "p",
                "task": "t",
                "speed": 1.0,
                "limits": {"max_thermode_c": 50},
            },
        ),
        "session_start",
    ),
    (Event(ev.SESSION_END, 2.0, {"outcome": "completed", "variables": {"x": 1}}), "session_end"),
    (Event(ev.STEP_START, 1.1, {"path": "steps[1]", "step_id": "a", "step_type": "thermal"}), "step_start"),
    (Event(ev.STEP_END, 1.2, {"path": "steps[1]", "step_id": "a", "status": "done"}), "step_end"),
    (Event(ev.STIMULUS, 1.3, {"stage": "ramp_start", **STIM}), "ts_ramp_start"),
    (Event(ev.STIMULUS, 1.4, {"stage": "plateau_start", **STIM}), "ts_plateau_start"),
    (Event(ev.STIMULUS, 1.5, {"stage": "return_start", **STIM}), "ts_return_start"),
    (Event(ev.STIMULUS, 1.6, {"stage": "end", **STIM}), "ts_end"),
    (Event(ev.IMMERSION, 1.7, {"stage": "immersion_start", "step_id": "cs", "setpoint_c": 10.0}), "cs_immersion_start"),
    (
        Event(
            ev.IMMERSION,
            1.8,
            {"stage": "immersion_end", "step_id": "cs", "reason": "time", "duration_s": 60.0, "censored": False},
        ),
        "cs_immersion_end",
    ),
    (Event(ev.RATING_ONSET, 1.9, {"step_id": "r", "rates": "ts_before", "scale": "vas"}), "rating_onset"),
    (Event(ev.RATING, 2.0, {"step_id": "r", "value": 55.0, "onset_t": 1.9, "rt_s": 0.1}), "rating"),
    (Event(ev.DISPLAY, 2.1, {"stage": "screen_onset", "screen": "instruction", "end_t": 3.0}), "screen_onset"),
    (Event(ev.CONTROL, 2.2, {"action": "pause", "source": "operator"}), "pause"),
    (Event(ev.CONTROL, 2.3, {"action": "resume", "source": "operator"}), "resume"),
    (Event(ev.CONTROL, 2.4, {"action": "abort", "source": "operator", "reason": "why"}), "abort"),
    (Event(ev.CONTROL, 2.5, {"action": "emergency_stop", "source": "keyboard"}), "emergency_stop"),
    (Event(ev.FAULT, 2.6, {"device": "thermode", "message": "no reply"}), "fault"),
    (Event(ev.NOTE, 2.7, {"text": 'participant moved\tarm "here"', "source": "operator"}), "note"),
    (Event(ev.MARKER, 2.8, {"name": "block_repetition", "rep": 2, "order": [1, 0]}), "marker"),
    (Event(ev.VARIABLE, 2.9, {"name": "ts_target_c", "value": 45.5, "source": "calib"}), "variable"),
    (Event(ev.COMMAND, 3.0, {"device": "thermode", "command": "A"}), "command"),
    (Event(ev.REPLY, 3.1, {"device": "thermode", "raw": "41"}), "reply"),
]


@pytest.mark.parametrize(("event", "name"), EVENTS, ids=[n + str(i) for i, (_, n) in enumerate(EVENTS)])
def test_every_event_kind_has_a_documented_marker_that_round_trips(event: Event, name: str) -> None:
    """Each event kind gives its vocabulary name; parse_marker recovers name and fields exactly."""
    text = event_marker(event)
    assert text is not None
    assert marker_name(event) == name and name in NAMES
    parsed_name, fields = parse_marker(text)
    assert parsed_name == name
    assert format_marker(parsed_name, fields) == text
    assert "\n" not in text and "\t" not in text  # one line, TSV-safe


def test_marker_fields_carry_the_stimulus_and_drop_bulky_or_clock_fields() -> None:
    """A stimulus marker carries step id and temperatures; stage, onset_t and limits stay in the journal."""
    _, fields = parse_marker(event_marker(EVENTS[4][0]) or "")
    assert fields == STIM
    _, rating = parse_marker(event_marker(EVENTS[11][0]) or "")
    assert "onset_t" not in rating and rating["value"] == 55.0
    _, start = parse_marker(event_marker(EVENTS[0][0]) or "")
    assert "limits" not in start and start["participant"] == "01"


def test_samples_are_not_markers() -> None:
    """Readings and continuous samples go on numeric streams, never on the markers stream."""
    assert event_marker(Event(ev.READING, 1.0, {"device": "thermode", "neutral_c": 32.0})) is None
    assert event_marker(Event(ev.CONTINUOUS_SAMPLE, 1.0, {"value": 3.0})) is None


def test_non_finite_numbers_become_null_and_bad_markers_are_refused() -> None:
    """NaN is not JSON: it becomes null; names with spaces and non-object bodies are rejected."""
    assert parse_marker(format_marker("rating", {"value": math.nan})) == ("rating", {"value": None})
    assert parse_marker("session_end") == ("session_end", {})
    with pytest.raises(ValueError):
        format_marker("two words")
    with pytest.raises(ValueError):
        parse_marker("rating [1, 2]")
    with pytest.raises(ValueError):
        parse_marker('{"no": "name"}')


def test_docs_list_every_marker_name() -> None:
    """docs/lsl.md has a table row for every name in the vocabulary."""
    text = DOC.read_text(encoding="utf-8")
    for entry in VOCABULARY:
        assert f"| `{entry.name}` |" in text, entry.name


def test_marker_fields_come_from_the_declaration_and_source_fields_are_flattened() -> None:
    """A protocol marker's own fields and a driver reply's parsed fields appear flat on the marker."""
    _, fields = parse_marker(event_marker(Event(ev.MARKER, 1.0, {"name": "go", "fields": {"colour": "red"}})) or "")
    assert fields == {"name": "go", "colour": "red"}
    reply = Event(ev.REPLY, 1.0, {"device": "thermode", "raw": "41", "fields": {"firmware": "1.2"}})
    assert parse_marker(event_marker(reply) or "")[1] == {"device": "thermode", "raw": "41", "firmware": "1.2"}
    marker = next(m for m in VOCABULARY if m.name == "marker")
    assert "fields" not in marker.fields and marker.fields[-1] == "..."
