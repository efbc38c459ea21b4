"""Translate the engine's participant requests into screen specs, and the display's results back.

Pure functions: the protocol's language picks the display's own UI strings (cpmlab.display.i18n);
a result the display did not send (outage, cancel, timeout) is read as missing, never as 0.
"""

from __future__ import annotations

import cpmlab.display.messages as m
from cpmlab.display.i18n import UI_STRINGS, key_label, translate_engine_text, ui_text
from cpmlab.display.specs import ContinuousSpec, CountdownSpec, RatingSpec, TextSpec
from cpmlab.participant.channel import (
    ContinuousRequest,
    ContinuousResult,
    RatingRequest,
    RatingResult,
    ScreenResult,
)

SCREEN_ENDINGS = ("key", "timeout", "aborted")


def text_spec(language: str, text: str, key: str | None, timeout_s: float | None, *, overlay: bool) -> TextSpec:
    """Return the spec of a text screen; a key the text does not name gets a 'Press KEY to continue' footer."""
    text = translate_engine_text(language, text)
    footer = None
    if key:
        label = key_label(language, key)
        if label.lower() not in text.lower():
            footer = ui_text(language, "continue", key=label)
    return TextSpec(text=text, keys=(key,) if key else (), timeout_s=timeout_s, footer=footer, overlay=overlay)


def rating_spec(language: str, request: RatingRequest, *, feedback_s: float, overlay: bool) -> RatingSpec:
    """Return the spec of a rating request, with the UI strings in the protocol's language."""
    hint = "categorical_hint" if request.scale == "categorical" else "rating_hint"
    return RatingSpec(
        scale=request.scale,
        question=request.question,
        anchors=request.anchors,
        categories=request.categories,
        timeout_s=request.timeout_s,
        confirm=ui_text(language, "confirm"),
        hint=ui_text(language, hint),
        no_answer=ui_text(language, "no_answer"),
        feedback_s=feedback_s,
        overlay=overlay,
    )


def continuous_spec(language: str, request: ContinuousRequest, *, overlay: bool) -> ContinuousSpec:
    """Return the spec of a continuous rating window."""
    return ContinuousSpec(
        scale=request.scale,
        question=request.question,
        anchors=request.anchors,
        duration_s=request.duration_s,
        rate_hz=request.rate_hz,
        hint=ui_text(language, "continuous_hint"),
        overlay=overlay,
    )


def countdown_spec(
    language: str, text: str, duration_s: float, *, time_scale: float, response_key: str
) -> CountdownSpec:
    """Return the held immersion countdown ('Put your hand in the water' and the time left)."""
    return CountdownSpec(
        text=translate_engine_text(language, text),
        duration_s=duration_s,
        time_scale=time_scale,
        label=ui_text(language, "time_remaining"),
        response_hint=ui_text(language, "response_hint_withdrawal", key=key_label(language, response_key)),
    )


def withdrawal_spec(language: str, text: str) -> TextSpec:
    """Return the held 'take your hand out' text."""
    return TextSpec(text=translate_engine_text(language, text), hold=True)


def await_key(language: str, timeout_s: float, what: str, response_key: str) -> m.AwaitKey:
    """Return the request to listen for the response key, with the hint naming what it means."""
    name = f"response_hint_{what}" if f"response_hint_{what}" in UI_STRINGS["en"] else "response_hint_other"
    hint = ui_text(language, name, key=key_label(language, response_key))
    return m.AwaitKey(keys=(response_key,), timeout_s=timeout_s, what=what, hint=hint)


def screen_result(result: m.Result) -> ScreenResult:
    """Read a text screen's result (an ending the engine does not know counts as aborted)."""
    ended_by = result.ended_by if result.ended_by in SCREEN_ENDINGS else "aborted"
    return ScreenResult(result.onset_t, result.end_t, ended_by, result.key)  # type: ignore[arg-type]


def rating_result(result: m.Result | None, onset_t: float) -> RatingResult:
    """Read a rating's result: a value only for a confirmed response, else missing."""
    if result is None or result.ended_by != "response":
        return RatingResult(None, result.onset_t if result else onset_t, None, "none")
    return RatingResult(
        result.value,
        result.onset_t,
        result.response_t,
        result.input_device or "none",
        result.category,
    )


def continuous_result(result: m.Result, live: list[tuple[float, float | None]]) -> ContinuousResult:
    """Read a continuous rating's result (the samples streamed live if the result has none)."""
    return ContinuousResult(result.onset_t, list(result.samples) or live)
