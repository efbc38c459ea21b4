"""Drawing pieces of the participant screens: layout, text, VAS line, NRS/categorical boxes, button.

Everything is laid out in PsychoPy "height" units (window height = 1, origin at the centre),
so screens look the same at any resolution; geometry() reports window pixels (origin top-left,
y down, as in screenshots) for tests and for the simulated participant's input injection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

BG = (-0.55, -0.55, -0.55)
TEXT = (0.85, 0.85, 0.85)
DIM = (0.45, 0.45, 0.45)
LINE = (1.0, 1.0, 1.0)
MARKER = (1.0, 0.35, -0.85)
BOX = (-0.3, -0.3, -0.3)
BOX_EDGE = (0.4, 0.4, 0.4)
BUTTON = (-0.35, -0.05, 0.45)
DARK = (-0.9, -0.9, -0.9)

QUESTION_H = 0.045
BODY_H = 0.04
ANCHOR_H = 0.032
HINT_H = 0.03


@dataclass
class Box:
    """An axis-aligned rectangle in height units (centre x, y; width, height)."""

    x: float
    y: float
    w: float
    h: float

    def contains(self, x: float, y: float) -> bool:
        """Return whether the point (height units) lies inside."""
        return abs(x - self.x) <= self.w / 2 and abs(y - self.y) <= self.h / 2


class Context:
    """The window, its size and the shared text/shape factories of every screen."""

    def __init__(self, win: Any, font: str) -> None:
        self.win = win
        self.font = font
        self.width_px, self.height_px = (int(v) for v in win.winHandle.get_size())

    @property
    def aspect(self) -> float:
        """Width over height of the window."""
        return self.width_px / self.height_px

    @property
    def half_len(self) -> float:
        """Half the length of a scale, leaving room for the end anchors."""
        return min(0.6, self.aspect / 2 - 0.2)

    @property
    def wrap(self) -> float:
        """Wrap width of body text."""
        return min(1.25, self.aspect * 0.86)

    def to_px(self, x: float, y: float) -> tuple[float, float]:
        """Convert height units to window pixels (origin top-left, y down)."""
        return self.width_px / 2 + x * self.height_px, self.height_px / 2 - y * self.height_px

    def box_px(self, box: Box) -> dict[str, float]:
        """Return a Box as a pixel rectangle {x, y, w, h} (x, y = top-left corner)."""
        left, top = self.to_px(box.x - box.w / 2, box.y + box.h / 2)
        return {
            "x": round(left, 1),
            "y": round(top, 1),
            "w": round(box.w * self.height_px, 1),
            "h": round(box.h * self.height_px, 1),
        }

    def text(
        self,
        text: str,
        pos: tuple[float, float],
        height: float = BODY_H,
        *,
        wrap: float | None = None,
        color: tuple[float, float, float] = TEXT,
        anchor_vert: str = "center",
        bold: bool = False,
    ) -> Any:
        """Make a centred TextStim."""
        from psychopy import visual

        return visual.TextStim(
            self.win,
            text=text,
            pos=pos,
            height=height,
            wrapWidth=wrap or self.wrap,
            color=color,
            font=self.font,
            anchorVert=anchor_vert,
            alignText="center",
            bold=bold,
            units="height",
        )

    def rect(
        self,
        box: Box,
        fill: tuple[float, float, float] | None,
        edge: tuple[float, float, float] | None = None,
        line_px: float = 2.0,
    ) -> Any:
        """Make a Rect for box."""
        from psychopy import visual

        return visual.Rect(
            self.win,
            width=box.w,
            height=box.h,
            pos=(box.x, box.y),
            fillColor=fill,
            lineColor=edge,
            lineWidth=line_px if edge is not None else 0,
            units="height",
        )

    def text_box(self, stim: Any) -> dict[str, float]:
        """Return the pixel rectangle a TextStim covers (from its bounding box)."""
        w_px, h_px = (float(v) for v in stim.boundingBox)
        x, y = stim.pos
        cx, cy = self.to_px(float(x), float(y))
        top = cy if stim.anchorVert == "top" else cy - h_px / 2 if stim.anchorVert == "center" else cy - h_px
        return {"x": round(cx - w_px / 2, 1), "y": round(top, 1), "w": round(w_px, 1), "h": round(h_px, 1)}


class Button:
    """A clickable button (the mouse way to confirm a rating)."""

    def __init__(self, ctx: Context, label: str, y: float) -> None:
        self.ctx = ctx
        self.box = Box(0.0, y, max(0.26, 0.03 * len(label) + 0.08), 0.075)
        self.rect = ctx.rect(self.box, BUTTON, LINE)
        self.label = ctx.text(label, (0.0, y), BODY_H * 0.9, color=LINE)

    def draw(self) -> None:
        """Draw the button."""
        self.rect.draw()
        self.label.draw()

    def geometry(self) -> dict[str, float]:
        """Return the button rectangle in window pixels."""
        return self.ctx.box_px(self.box)


class LineScale:
    """A horizontal line scale (VAS 0-100, or a continuous 0-10 with numbers) with a marker."""

    def __init__(
        self,
        ctx: Context,
        maximum: float,
        anchors: tuple[str, str],
        *,
        y: float = 0.0,
        resolution: float = 0.1,
        key_step: float = 1.0,
        numbers: bool = False,
    ) -> None:
        self.ctx, self.maximum, self.y = ctx, maximum, y
        self.resolution, self.key_step = resolution, key_step
        half = ctx.half_len
        self.half = half
        self.value: float | None = None
        self.device: str | None = None
        self.line = ctx.rect(Box(0.0, y, 2 * half, 0.007), LINE)
        self.ticks = [ctx.rect(Box(x, y, 0.006, 0.05), LINE) for x in (-half, half)]
        self.numbers = []
        if numbers:
            for i in range(int(maximum) + 1):
                x = -half + 2 * half * i / maximum
                self.ticks.append(ctx.rect(Box(x, y, 0.004, 0.03), LINE))
                self.numbers.append(ctx.text(str(i), (x, y + 0.045), ANCHOR_H * 0.9))
        self.anchors = [
            ctx.text(text, (x, y - 0.05), ANCHOR_H, wrap=0.34, anchor_vert="top")
            for text, x in zip(anchors, (-half, half), strict=True)
        ]
        self.marker = ctx.rect(Box(0.0, y, 0.014, 0.085), MARKER)
        self.band = Box(0.0, y, 2 * half + 0.06, 0.12)

    def value_at(self, x: float) -> float:
        """Return the scale value under x (height units), clamped and rounded to the resolution."""
        frac = min(max((x + self.half) / (2 * self.half), 0.0), 1.0)
        return round(round(frac * self.maximum / self.resolution) * self.resolution, 3)

    def x_of(self, value: float) -> float:
        """Return the x (height units) of a scale value."""
        return -self.half + 2 * self.half * value / self.maximum

    def set(self, value: float, device: str) -> None:
        """Move the marker to value (showing it, if hidden)."""
        self.value = round(min(max(value, 0.0), self.maximum), 3)
        self.device = device

    def nudge(self, direction: int, device: str, amount: float | None = None) -> None:
        """Move the marker one key step (the first touch puts it in the middle)."""
        if self.value is None:
            self.set(self.maximum / 2, device)
        else:
            self.set(self.value + direction * (amount if amount is not None else self.key_step), device)

    def draw(self) -> None:
        """Draw line, ticks, numbers, anchors and (once touched) the marker."""
        self.line.draw()
        for stim in (*self.ticks, *self.numbers, *self.anchors):
            stim.draw()
        if self.value is not None:
            self.marker.pos = (self.x_of(self.value), self.y)
            self.marker.draw()

    def geometry(self) -> dict[str, Any]:
        """Return the line ends, marker and anchor boxes in window pixels."""
        x0, y = self.ctx.to_px(-self.half, self.y)
        x1, _ = self.ctx.to_px(self.half, self.y)
        marker = None if self.value is None else round(self.ctx.to_px(self.x_of(self.value), self.y)[0], 1)
        return {
            "x0": round(x0, 1),
            "x1": round(x1, 1),
            "y": round(y, 1),
            "maximum": self.maximum,
            "marker_x": marker,
            "anchors": [self.ctx.text_box(a) for a in self.anchors],
        }


class BoxScale:
    """A row of boxes: NRS 0-10 (numbers) or categories (labels); one can be selected."""

    def __init__(
        self, ctx: Context, labels: list[str], anchors: tuple[str, str] | None, *, y: float = 0.0, tall: bool = False
    ) -> None:
        self.ctx, self.y = ctx, y
        half = ctx.half_len + (0.08 if tall else 0.05)
        pitch = 2 * half / len(labels)
        height = 0.13 if tall else 0.085
        self.boxes = [Box(-half + pitch * (i + 0.5), y, pitch * 0.86, height) for i in range(len(labels))]
        self.rects = [ctx.rect(b, BOX, BOX_EDGE) for b in self.boxes]
        self.selected_rects = [ctx.rect(b, MARKER, LINE) for b in self.boxes]
        label_h = ANCHOR_H * (1.1 if tall else 1.15)
        self.labels = [
            ctx.text(text, (b.x, b.y), label_h, wrap=pitch * 0.8) for text, b in zip(labels, self.boxes, strict=True)
        ]
        self.anchors = []
        if anchors is not None:
            ends = (self.boxes[0].x, self.boxes[-1].x)
            self.anchors = [
                ctx.text(text, (x, y - height / 2 - 0.025), ANCHOR_H, wrap=0.34, anchor_vert="top")
                for text, x in zip(anchors, ends, strict=True)
            ]
        self.value: int | None = None
        self.device: str | None = None

    def hit(self, x: float, y: float) -> int | None:
        """Return the index of the box at (x, y), if any."""
        return next((i for i, b in enumerate(self.boxes) if b.contains(x, y)), None)

    def set(self, index: int, device: str) -> None:
        """Select a box."""
        previous = self.value
        self.value = min(max(index, 0), len(self.boxes) - 1)
        self.device = device
        if previous != self.value:  # recolouring re-renders a TextStim: only on change
            if previous is not None:
                self.labels[previous].color = TEXT
            self.labels[self.value].color = DARK

    def nudge(self, direction: int, device: str) -> None:
        """Move the selection one box (the first touch selects the middle box)."""
        if self.value is None:
            self.set((len(self.boxes) - 1) // 2, device)
        else:
            self.set(self.value + direction, device)

    def draw(self) -> None:
        """Draw the boxes, their labels, the anchors and the selection."""
        for i, (rect, label) in enumerate(zip(self.rects, self.labels, strict=True)):
            (self.selected_rects[i] if i == self.value else rect).draw()
            label.draw()
        for anchor in self.anchors:
            anchor.draw()

    def geometry(self) -> dict[str, Any]:
        """Return the boxes and anchors in window pixels."""
        return {
            "boxes": [self.ctx.box_px(b) for b in self.boxes],
            "selected": self.value,
            "anchors": [self.ctx.text_box(a) for a in self.anchors],
        }
