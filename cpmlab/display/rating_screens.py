"""Rating screens: one answer on a VAS, NRS or categorical scale, and the continuous slider."""

from __future__ import annotations

from typing import Any

from cpmlab.core.scales import SCALES
from cpmlab.display.inputs import InputEvent
from cpmlab.display.screen_base import ACCEPT_KEYS, Screen
from cpmlab.display.specs import ContinuousSpec, RatingSpec, TextSpec
from cpmlab.display.text_screens import TextScreen
from cpmlab.display.widgets import DIM, HINT_H, QUESTION_H, BoxScale, Button, Context, LineScale


class RatingScreen(Screen):
    """One rating: VAS 0-100, NRS 0-10 (11 boxes) or categories; marker hidden until touched."""

    kind = "rating"

    def __init__(self, ctx: Context, spec: RatingSpec, request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.scale = spec.scale
        self.timeout_s = spec.timeout_s
        anchors = spec.anchors
        self.question = ctx.text(spec.question, (0.0, 0.24), QUESTION_H)
        self.categories = list(spec.categories)
        self.widget: LineScale | BoxScale
        if self.scale == "vas":
            self.widget = LineScale(ctx, SCALES["vas"].maximum(), anchors, y=0.02)  # type: ignore[arg-type]
        elif self.scale == "nrs":
            nrs_labels = [f"{i:g}" for i in SCALES["nrs"].values()]
            self.widget = BoxScale(ctx, nrs_labels, anchors, y=0.02)  # type: ignore[arg-type]
        else:
            self.widget = BoxScale(ctx, self.categories, None, y=0.02, tall=True)
        self.button = Button(ctx, spec.confirm, -0.2)
        hint = spec.hint
        self.hint = ctx.text(hint, (0.0, -0.36), HINT_H, color=DIM) if hint else None
        self.no_answer = spec.no_answer
        self.feedback_s = spec.feedback_s
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
        if self.result and self.result.ended_by == "timeout" and self.no_answer and self.feedback_s > 0:
            return TextScreen(self.ctx, TextSpec(text=self.no_answer, timeout_s=self.feedback_s), None)
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

    def __init__(self, ctx: Context, spec: ContinuousSpec, request_id: int | None) -> None:
        super().__init__(ctx, spec, request_id)
        self.scale = spec.scale
        self.duration_s = spec.duration_s
        self.period_s = 1.0 / max(spec.rate_hz, 1.0)
        maximum = SCALES["vas" if self.scale == "vas" else "nrs"].maximum()
        anchors = spec.anchors
        self.question = ctx.text(spec.question, (0.0, 0.24), QUESTION_H)
        self.widget = LineScale(
            ctx,
            maximum,
            anchors,
            y=0.0,
            resolution=maximum / 1000,  # type: ignore[arg-type]
            numbers=self.scale == "nrs",
        )
        self.glide_per_s = maximum / 2.5  # a held arrow key crosses the scale in 2.5 s
        hint = spec.hint
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
            self.finish(t, "time", samples=tuple(self.samples))
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
