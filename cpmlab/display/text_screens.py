"""Screens without a scale: instruction, break and thank-you text, fixation cross, immersion countdown."""

from __future__ import annotations

from typing import Any

from cpmlab.display.inputs import InputEvent
from cpmlab.display.screen_base import Screen, format_clock
from cpmlab.display.specs import CountdownSpec, FixationSpec, TextSpec
from cpmlab.display.widgets import ANCHOR_H, BODY_H, DIM, HINT_H, LINE, MARKER, QUESTION_H, Box, Context


class TextScreen(Screen):
    """Instruction / break / thank-you text; ends on a key or after a time (or is held)."""

    kind = "text"

    def __init__(self, ctx: Context, spec: TextSpec, request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.keys = [k.lower() for k in spec.keys]
        self.timeout_s = spec.timeout_s
        self.time_scale = spec.time_scale
        title = spec.title
        self.title = ctx.text(title, (0.0, 0.3), QUESTION_H * 1.4, bold=True) if title else None
        self.body = ctx.text(spec.text, (0.0, 0.03 if title else 0.05), BODY_H)
        footer = spec.footer
        self.footer = ctx.text(footer, (0.0, -0.36), HINT_H * 1.15, color=DIM) if footer else None
        self.timer = ctx.text("", (0.0, -0.3), BODY_H, color=DIM) if spec.show_timer else None
        self._timer_text = ""

    def handle(self, event: InputEvent, held: set[str]) -> None:
        if event.kind == "key" and event.key in self.keys and self.onset_t is not None and not self.done:
            self.finish(event.t, "key", key=event.key)

    def update(self, t: float, held: set[str]) -> None:
        if self.timed_out(t, self.timeout_s):
            self.finish(t, "timeout")
        if self.timer is not None and self.timeout_s is not None:
            text = format_clock((self.timeout_s - self.elapsed(t)) * self.time_scale)
            if text != self._timer_text:
                self.timer.text = self._timer_text = text

    def draw(self) -> None:
        for stim in (self.title, self.body, self.footer, self.timer):
            if stim is not None:
                stim.draw()

    def geometry(self) -> dict[str, Any]:
        out = {"text": self.ctx.text_box(self.body)}
        if self.footer is not None:
            out["footer"] = self.ctx.text_box(self.footer)
        return out


class FixationScreen(Screen):
    """A fixation cross, for timeout_s seconds (or held)."""

    kind = "fixation"

    def __init__(self, ctx: Context, spec: FixationSpec, request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.timeout_s = spec.timeout_s
        size = 0.08
        self.bars = [ctx.rect(Box(0.0, 0.0, size, 0.008), LINE), ctx.rect(Box(0.0, 0.0, 0.008, size), LINE)]

    def update(self, t: float, held: set[str]) -> None:
        if self.timed_out(t, self.timeout_s):
            self.finish(t, "timeout")

    def draw(self) -> None:
        for bar in self.bars:
            bar.draw()

    def geometry(self) -> dict[str, Any]:
        return {"cross": self.ctx.box_px(Box(0.0, 0.0, 0.08, 0.08))}


class CountdownScreen(Screen):
    """'Put your hand in the water' with a visible timer counting the immersion down (held)."""

    kind = "countdown"

    def __init__(self, ctx: Context, spec: CountdownSpec, request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.hold = True
        self.duration_s = spec.duration_s
        self.time_scale = spec.time_scale
        self.body = ctx.text(spec.text, (0.0, 0.22), QUESTION_H)
        self.label = ctx.text(spec.label, (0.0, 0.07), ANCHOR_H, color=DIM)
        self.clock = ctx.text(format_clock(self.duration_s * self.time_scale), (0.0, -0.04), 0.13)
        half = ctx.half_len
        self.bar_box = Box(0.0, -0.17, 2 * half, 0.03)
        self.bar_bg = ctx.rect(self.bar_box, None, LINE)
        self.bar = ctx.rect(Box(0.0, -0.17, 2 * half, 0.03), MARKER)
        self.hint = ctx.text(spec.response_hint or "", (0.0, -0.32), HINT_H * 1.1, color=DIM)
        self.show_hint = False
        self._clock_text = ""
        self._fraction = 1.0

    def set_hint(self, text: str | None) -> None:
        """Show which response key to press while the engine listens for it (None: hide)."""
        if text and text != self.hint.text:
            self.hint.text = text
        self.show_hint = bool(text)

    def update(self, t: float, held: set[str]) -> None:
        remaining = max(self.duration_s - self.elapsed(t), 0.0)
        text = format_clock(remaining * self.time_scale)
        if text != self._clock_text:
            self.clock.text = self._clock_text = text
        self._fraction = remaining / self.duration_s if self.duration_s > 0 else 0.0

    def draw(self) -> None:
        self.body.draw()
        self.label.draw()
        self.clock.draw()
        self.bar_bg.draw()
        if self._fraction > 0:
            width = self.bar_box.w * self._fraction
            self.bar.width = width
            self.bar.pos = (self.bar_box.x - self.bar_box.w / 2 + width / 2, self.bar_box.y)
            self.bar.draw()
        if self.show_hint:
            self.hint.draw()

    def geometry(self) -> dict[str, Any]:
        return {
            "text": self.ctx.text_box(self.body),
            "clock": self.ctx.text_box(self.clock),
            "bar": self.ctx.box_px(self.bar_box),
        }
