"""Fixed participant-facing strings of the display, by protocol `language`.

Protocol texts (instructions, questions, anchors) come from the protocol file; only the
display's own UI strings live here. Unknown languages fall back to English.
"""

from __future__ import annotations

UI_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "continue": "Press {key} to continue",
        "no_answer": "No answer",
        "confirm": "Confirm",
        "rating_hint": "Click on the scale or use the arrow keys, then press ENTER or click Confirm.",
        "categorical_hint": "Click on your answer or use the arrow keys, then press ENTER or click Confirm.",
        "continuous_hint": "Move the mouse or hold the arrow keys to rate all the time.",
        "time_remaining": "Time remaining",
        "response_hint_withdrawal": "Press {key} when you take your hand out of the water.",
        "response_hint_cold_detection": "Press {key} as soon as the cold becomes painful.",
        "response_hint_heat_threshold": "Press {key} as soon as the heat becomes painful.",
        "response_hint_other": "Press {key} to respond.",
        "please_wait": "Please wait.",
        "break": "Break",
        "thank_you": "Thank you!",
        "key_space": "SPACE",
        "key_return": "ENTER",
        "session_stopped": "The session has stopped. Please wait for the experimenter.",
        "hand_out": "Take your hand out of the water now.",
    },
    "de": {
        "continue": "Weiter mit der {key}",
        "no_answer": "Keine Antwort",
        "confirm": "Bestätigen",
        "rating_hint": "Klicken Sie auf die Skala oder benutzen Sie die Pfeiltasten; "
        "bestätigen Sie mit der EINGABETASTE oder mit Bestätigen.",
        "categorical_hint": "Klicken Sie auf Ihre Antwort oder benutzen Sie die Pfeiltasten; "
        "bestätigen Sie mit der EINGABETASTE oder mit Bestätigen.",
        "continuous_hint": "Bewegen Sie die Maus oder halten Sie die Pfeiltasten, um fortlaufend zu bewerten.",
        "time_remaining": "Verbleibende Zeit",
        "response_hint_withdrawal": "Drücken Sie die {key}, sobald Sie die Hand aus dem Wasser nehmen.",
        "response_hint_cold_detection": "Drücken Sie die {key}, sobald die Kälte schmerzhaft wird.",
        "response_hint_heat_threshold": "Drücken Sie die {key}, sobald die Hitze schmerzhaft wird.",
        "response_hint_other": "Drücken Sie die {key}, um zu antworten.",
        "please_wait": "Bitte warten.",
        "break": "Pause",
        "thank_you": "Vielen Dank!",
        "key_space": "LEERTASTE",
        "key_return": "EINGABETASTE",
        "session_stopped": "Die Sitzung wurde beendet. Bitte warten Sie auf die Versuchsleitung.",
        "hand_out": "Nehmen Sie die Hand jetzt aus dem Wasser.",
    },
}

# Fixed English texts the engine sends itself (e.g. at a forced withdrawal), by language.
ENGINE_TEXTS: dict[str, dict[str, str]] = {
    "de": {"Take your hand out of the water now.": "Nehmen Sie die Hand jetzt aus dem Wasser."},
}


def ui_text(language: str, name: str, **fields: str) -> str:
    """Return a UI string in language (English if missing), with {fields} filled in."""
    table = UI_STRINGS.get(language.split("-")[0].lower(), UI_STRINGS["en"])
    text = table.get(name, UI_STRINGS["en"].get(name, name))
    return text.format(**fields) if fields else text


def key_label(language: str, key: str) -> str:
    """Return how a key is named to the participant, e.g. space -> SPACE / LEERTASTE."""
    name = f"key_{key.lower()}"
    table = UI_STRINGS.get(language.split("-")[0].lower(), UI_STRINGS["en"])
    return table.get(name, UI_STRINGS["en"].get(name, key.upper()))


def translate_engine_text(language: str, text: str) -> str:
    """Translate a fixed English text the engine sends itself (others are returned unchanged)."""
    return ENGINE_TEXTS.get(language.split("-")[0].lower(), {}).get(text, text)
