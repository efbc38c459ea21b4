"""The participant screens: text, fixation, countdown, rating (VAS/NRS/categorical), continuous.

A screen is built from a JSON spec sent by the engine (every participant-facing string is in
the spec), gets its onset at the flip, takes stamped input events, and finishes with a result
dict. Held screens (countdown, withdrawal text) stay up until another screen replaces them.
"""

from __future__ import annotations

import math
from typing import Any

from cpmlab.core.scales import SCALES
from cpmlab.display.inputs import InputEvent
from cpmlab.display.widgets import (
    ANCHOR_H,
    BODY_H,
    DIM,
    HINT_H,
    LINE,
    MARKER,
    QUESTION_H,
    Box,
    BoxScale,
    Button,
    Context,
    LineScale,
)

ACCEPT_KEYS = frozenset({"return", "space"})


def format_clock(seconds: float) -> str:
    """Format seconds as m:ss (rounded up, never negative)."""
    whole = max(math.ceil(seconds - 1e-6), 0)
    return f"{whole // 60}:{whole % 60:02d}"


class Screen:
    """Base of every screen: onset, timeout, result, geometry."""

    kind = "blank"

    def __init__(self, ctx: Context, spec: dict[str, Any], request_id: int | None) -> None:
        self.ctx, self.spec, self.id = ctx, spec, request_id
        self.hold = bool(spec.get("hold", False))
        self.overlay = bool(spec.get("overlay", False))
        self.onset_t: float | None = None
        self.result: dict[str, Any] | None = None
        self.samples_out: list[tuple[float, float | None]] = []

    @property
    def done(self) -> bool:
        """Whether the screen has finished (held screens never do)."""
        return self.result is not None

    def start(self, onset_t: float) -> None:
        """Record the flip time of the first frame."""
        self.onset_t = onset_t

    def elapsed(self, t: float) -> float:
        """Seconds since onset (0 before the first flip)."""
        return 0.0 if self.onset_t is None else t - self.onset_t

    def timed_out(self, t: float, timeout_s: float | None) -> bool:
        """Return whether a running, timed screen has reached timeout_s after its onset."""
        if timeout_s is None or self.onset_t is None or self.done or self.hold:
            return False
        return t - self.onset_t >= timeout_s

    def handle(self, event: InputEvent, held: set[str]) -> None:
        """React to one input event."""

    def update(self, t: float, held: set[str]) -> None:
        """Advance time-driven state (timeouts, sampling, held keys)."""

    def draw(self) -> None:
        """Draw the screen into the back buffer."""

    def cancel(self, t: float) -> None:
        """End the screen at once (abort)."""
        if not self.done and not self.hold:
            self.finish(t, "aborted")

    def finish(self, t: float, ended_by: str, **fields: Any) -> None:
        """End the screen with a result."""
        self.result = {
            "onset_t": self.onset_t if self.onset_t is not None else t,
            "end_t": t,
            "ended_by": ended_by,
            **fields,
        }

    def follow_up(self) -> Screen | None:
        """Return a screen to show briefly after this one ends (e.g. 'No answer')."""
        return None

    def geometry(self) -> dict[str, Any]:
        """Return where the screen's elements are, in window pixels."""
        return {}


class TextScreen(Screen):
    """Instruction / break / thank-you text; ends on a key or after a time (or is held)."""

    kind = "text"

    def __init__(self, ctx: Context, spec: dict[str, Any], request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.keys = [str(k).lower() for k in spec.get("keys") or []]
        self.timeout_s: float | None = spec.get("timeout_s")
        self.time_scale = float(spec.get("time_scale", 1.0))
        title = spec.get("title")
        self.title = ctx.text(title, (0.0, 0.3), QUESTION_H * 1.4, bold=True) if title else None
        self.body = ctx.text(str(spec.get("text", "")), (0.0, 0.03 if title else 0.05), BODY_H)
        footer = spec.get("footer")
        self.footer = ctx.text(footer, (0.0, -0.36), HINT_H * 1.15, color=DIM) if footer else None
        self.timer = ctx.text("", (0.0, -0.3), BODY_H, color=DIM) if spec.get("show_timer") else None
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

    def __init__(self, ctx: Context, spec: dict[str, Any], request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.timeout_s: float | None = spec.get("timeout_s")
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

    def __init__(self, ctx: Context, spec: dict[str, Any], request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.hold = True
        self.duration_s = float(spec.get("duration_s", 0.0))
        self.time_scale = float(spec.get("time_scale", 1.0))
        self.body = ctx.text(str(spec.get("text", "")), (0.0, 0.22), QUESTION_H)
        self.label = ctx.text(str(spec.get("label", "")), (0.0, 0.07), ANCHOR_H, color=DIM)
        self.clock = ctx.text(format_clock(self.duration_s * self.time_scale), (0.0, -0.04), 0.13)
        half = ctx.half_len
        self.bar_box = Box(0.0, -0.17, 2 * half, 0.03)
        self.bar_bg = ctx.rect(self.bar_box, None, LINE)
        self.bar = ctx.rect(Box(0.0, -0.17, 2 * half, 0.03), MARKER)
        self.hint = ctx.text(str(spec.get("response_hint") or ""), (0.0, -0.32), HINT_H * 1.1, color=DIM)
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


class RatingScreen(Screen):
    """One rating: VAS 0-100, NRS 0-10 (11 boxes) or categories; marker hidden until touched."""

    kind = "rating"

    def __init__(self, ctx: Context, spec: dict[str, Any], request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.scale = str(spec.get("scale", "vas"))
        self.timeout_s = float(spec.get("timeout_s", 20.0))
        anchors = tuple(spec.get("anchors") or ("", ""))
        self.question = ctx.text(str(spec.get("question", "")), (0.0, 0.24), QUESTION_H)
        self.categories = [str(c) for c in spec.get("categories") or []]
        self.widget: LineScale | BoxScale
        if self.scale == "vas":
            self.widget = LineScale(ctx, SCALES["vas"].maximum(), anchors, y=0.02)  # type: ignore[arg-type]
        elif self.scale == "nrs":
            self.widget = BoxScale(ctx, [f"{i:g}" for i in SCALES["nrs"].values()], anchors, y=0.02)  # type: ignore[arg-type]
        else:
            self.widget = BoxScale(ctx, self.categories, None, y=0.02, tall=True)
        self.button = Button(ctx, str(spec.get("confirm", "OK")), -0.2)
        hint = spec.get("hint")
        self.hint = ctx.text(hint, (0.0, -0.36), HINT_H, color=DIM) if hint else None
        self.no_answer = str(spec.get("no_answer", ""))
        self.feedback_s = float(spec.get("feedback_s", 0.0))
        self._held_since: dict[str, float] = {}
        self._last_t: float | None = None

    @property
    def touched(self) -> bool:
        """Whether the participant has placed the marker / chosen a box."""
        return self.widget.value is not None

    def _value(self) -> float | None:
        value = self.widget.value
        return None if value is None else float(value)

    def handle(self, event: InputEvent, held: set[str]) -> None:
        if self.done or self.onset_t is None:
            return
        if event.kind == "key" and event.key is not None:
            key = event.key
            if key in ("left", "right"):
                self.widget.nudge(-1 if key == "left" else 1, "keyboard")
                self._held_since[key] = event.t
            elif key.isdigit() and self.scale == "nrs":
                self.widget.set(int(key), "keyboard")  # type: ignore[arg-type]
            elif key in ACCEPT_KEYS and self.touched:
                self._accept(event.t, "keyboard")
        elif event.kind == "key_up" and event.key is not None:
            self._held_since.pop(event.key, None)
        elif event.kind == "press":
            if self.touched and self.button.box.contains(event.x, event.y):
                self._accept(event.t, "mouse")
            elif isinstance(self.widget, LineScale):
                if self.widget.band.contains(event.x, event.y):
                    self.widget.set(self.widget.value_at(event.x), "mouse")
            else:
                index = self.widget.hit(event.x, event.y)
                if index is not None:
                    self.widget.set(index, "mouse")

    def _accept(self, t: float, device: str) -> None:
        value = self._value()
        category = self.categories[int(value)] if self.scale == "categorical" and value is not None else None
        self.finish(
            t,
            "response",
            value=value,
            response_t=t,
            input_device=self.widget.device or device,
            confirm_device=device,
            category=category,
        )

    def update(self, t: float, held: set[str]) -> None:
        if self.done or self.onset_t is None:
            return
        if isinstance(self.widget, LineScale) and self._last_t is not None:
            for key in ("left", "right"):  # a held arrow key glides the VAS marker after 0.3 s
                since = self._held_since.get(key)
                if since is not None and key in held and t - since > 0.3:
                    self.widget.nudge(-1 if key == "left" else 1, "keyboard", 40.0 * (t - self._last_t))
        self._last_t = t
        if t - self.onset_t >= self.timeout_s:
            self.finish(t, "timeout", value=None, response_t=None, input_device="none", unconfirmed_value=self._value())

    def draw(self) -> None:
        self.question.draw()
        self.widget.draw()
        if self.touched:
            self.button.draw()
        if self.hint is not None:
            self.hint.draw()

    def follow_up(self) -> Screen | None:
        if self.result and self.result["ended_by"] == "timeout" and self.no_answer and self.feedback_s > 0:
            return TextScreen(self.ctx, {"text": self.no_answer, "timeout_s": self.feedback_s}, None)
        return None

    def geometry(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "question": self.ctx.text_box(self.question),
            "confirm": self.button.geometry(),
            **self.widget.geometry(),
        }


class ContinuousScreen(Screen):
    """A slider rated all the time over duration_s, sampled at rate_hz and streamed live."""

    kind = "continuous"

    def __init__(self, ctx: Context, spec: dict[str, Any], request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.scale = str(spec.get("scale", "vas"))
        self.duration_s = float(spec.get("duration_s", 0.0))
        self.period_s = 1.0 / max(float(spec.get("rate_hz", 30.0)), 1.0)
        maximum = SCALES["vas" if self.scale == "vas" else "nrs"].maximum()
        anchors = tuple(spec.get("anchors") or ("", ""))
        self.question = ctx.text(str(spec.get("question", "")), (0.0, 0.24), QUESTION_H)
        self.widget = LineScale(
            ctx,
            maximum,
            anchors,
            y=0.0,
            resolution=maximum / 1000,  # type: ignore[arg-type]
            numbers=self.scale == "nrs",
        )
        self.glide_per_s = maximum / 2.5  # a held arrow key crosses the scale in 2.5 s
        hint = spec.get("hint")
        self.hint = ctx.text(hint, (0.0, -0.3), HINT_H, color=DIM) if hint else None
        self.samples: list[tuple[float, float | None]] = []
        self._next_sample_t: float | None = None
        self._last_t: float | None = None

    def handle(self, event: InputEvent, held: set[str]) -> None:
        if self.done or self.onset_t is None:
            return
        if event.kind in ("move", "press"):
            self.widget.set(self.widget.value_at(event.x), "mouse")
        elif event.kind == "key" and event.key in ("left", "right"):
            self.widget.nudge(-1 if event.key == "left" else 1, "keyboard", self.widget.maximum / 100)

    def update(self, t: float, held: set[str]) -> None:
        if self.done or self.onset_t is None:
            return
        if self._last_t is not None and self.widget.value is not None:
            step = self.glide_per_s * (t - self._last_t)
            if "left" in held:
                self.widget.nudge(-1, "keyboard", step)
            if "right" in held:
                self.widget.nudge(1, "keyboard", step)
        self._last_t = t
        if t - self.onset_t >= self.duration_s:
            self.finish(t, "time", samples=[[st, v] for st, v in self.samples])
            return
        if self._next_sample_t is None:
            self._next_sample_t = self.onset_t
        if t >= self._next_sample_t:
            value = None if self.widget.value is None else round(self.widget.value, 2)
            self.samples.append((t, value))
            self.samples_out.append((t, value))
            self._next_sample_t += self.period_s
            if self._next_sample_t < t:  # a late frame: do not burst to catch up
                self._next_sample_t = t + self.period_s

    def draw(self) -> None:
        self.question.draw()
        self.widget.draw()
        if self.hint is not None:
            self.hint.draw()

    def geometry(self) -> dict[str, Any]:
        return {"scale": self.scale, "question": self.ctx.text_box(self.question), **self.widget.geometry()}


SCREENS: dict[str, type[Screen]] = {
    "text": TextScreen,
    "break": TextScreen,
    "thanks": TextScreen,
    "fixation": FixationScreen,
    "countdown": CountdownScreen,
    "rating": RatingScreen,
    "continuous": ContinuousScreen,
    "blank": Screen,
}


def make_screen(ctx: Context, spec: dict[str, Any], request_id: int | None) -> Screen:
    """Build the screen a spec describes (ValueError for an unknown kind)."""
    kind = str(spec.get("kind", ""))
    if kind not in SCREENS:
        raise ValueError(f"unknown screen kind {kind!r}; known: {', '.join(sorted(SCREENS))}")
    return SCREENS[kind](ctx, spec, request_id)
