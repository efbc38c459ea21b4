"""Display strings by language, the German protocol copy, and clock sync (no X display needed)."""

from __future__ import annotations

from typing import Any

import pytest

from cpmlab.display.clocksync import ClockSync
from cpmlab.display.i18n import UI_STRINGS, key_label, translate_engine_text, ui_text
from cpmlab.protocol.loader import load_protocol
from cpmlab.protocols import protocol_path

NEEDS_X = False
TEXT_FIELDS = {"text", "question", "anchors", "prompt_text", "withdraw_text", "detect_text", "categories"}


def test_every_language_has_every_ui_string() -> None:
    """German (and any other table) covers every English UI string, with the same {fields}."""
    for language, table in UI_STRINGS.items():
        assert set(table) == set(UI_STRINGS["en"]), language
        for name, text in table.items():
            assert ("{key}" in text) == ("{key}" in UI_STRINGS["en"][name]), (language, name)


def test_lookup_and_fallback() -> None:
    """Strings come in the protocol's language; unknown languages and regions fall back sensibly."""
    assert ui_text("de", "no_answer") == "Keine Antwort"
    assert ui_text("de-AT", "confirm") == "Bestätigen"
    assert ui_text("fr", "no_answer") == "No answer"
    assert ui_text("en", "continue", key=key_label("en", "space")) == "Press SPACE to continue"
    assert ui_text("de", "continue", key=key_label("de", "space")) == "Weiter mit der LEERTASTE"
    assert translate_engine_text("de", "Take your hand out of the water now.").startswith("Nehmen Sie")
    assert translate_engine_text("de", "Some protocol text") == "Some protocol text"


def _without_texts(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _without_texts(v) for k, v in obj.items() if k not in TEXT_FIELDS}
    if isinstance(obj, list):
        return [_without_texts(v) for v in obj]
    return obj


def test_german_protocol_has_the_same_steps() -> None:
    """cpm_sequential_de: same steps, timings and limits as cpm_sequential; only the texts differ."""
    en = load_protocol(protocol_path("cpm_sequential"))
    de = load_protocol(protocol_path("cpm_sequential_de"))
    assert de.name == "cpm_sequential_de" and de.language == "de" and de.task == en.task
    assert de.limits == en.limits and de.variables == en.variables and de.devices == en.devices
    assert _without_texts(de.model_dump()["steps"]) == _without_texts(en.model_dump()["steps"])
    source = protocol_path("cpm_sequential_de").read_text(encoding="utf-8")
    steps = source[source.index("steps:") :]
    assert "LEERTASTE" in steps and "Wasser" in steps and "Press" not in steps and "pain" not in steps


def test_clock_sync_offset() -> None:
    """Another machine's clock is mapped with the offset of the fastest exchange; one machine: zero."""
    sync = ClockSync(same_clock=False)
    sync.add(t_send=10.0, t_display=110.004, t_recv=10.010)  # slow exchange, asymmetric
    sync.add(t_send=20.0, t_display=120.001, t_recv=20.002)  # fast: offset 100.0
    assert sync.offset_s == pytest.approx(100.0)
    assert sync.to_engine(150.0) == pytest.approx(50.0)
    same = ClockSync(same_clock=True)
    same.add(0.0, 5.0, 0.1)
    assert same.to_engine(7.0) == 7.0
