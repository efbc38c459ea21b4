"""Live plots of thermode zones and bath temperature, stimulus windows shaded, ratings marked."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from cpmlab.console import style
from cpmlab.core import events as ev

N_ZONES = 5
WINDOW_S = 180.0  # protocol seconds shown at once


class _Series:
    """A growing x/y buffer (amortised appends, numpy views for drawing)."""

    def __init__(self, columns: int) -> None:
        self.n = 0
        self.data = np.empty((1024, columns + 1))

    def append(self, x: float, values: list[float]) -> None:
        if self.n == len(self.data):
            self.data = np.concatenate([self.data, np.empty_like(self.data)])
        self.data[self.n, 0] = x
        self.data[self.n, 1 : 1 + len(values)] = values
        self.n += 1

    def x(self) -> np.ndarray:
        return self.data[: self.n, 0]

    def y(self, column: int) -> np.ndarray:
        return self.data[: self.n, column + 1]


class LivePlots(QWidget):
    """Two linked plots; data are buffered as events arrive and drawn by refresh() at most ~20 Hz."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False, background="w", foreground="#263238")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.view = pg.GraphicsLayoutWidget()
        layout.addWidget(self.view)
        self.heat = self.view.addPlot(row=0, col=0, title="Thermode (°C)")
        self.cold = self.view.addPlot(row=1, col=0, title="Bath (°C)")
        self.cold.setXLink(self.heat)
        self.heat.hideAxis("bottom")  # shared with the bath plot's; one axis fewer to draw
        self.cold.setLabel("bottom", "protocol time", units="s")
        for plot in (self.heat, self.cold):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
        # a colour key in the title instead of a legend over the data; 1-pixel pens draw ~4x faster than wide ones
        key = " ".join(f"<span style='color:{c}'>■{i + 1}</span>" for i, c in enumerate(style.ZONE_COLOURS))
        self.heat.setTitle(f"Thermode (°C), zones {key}, heat stimuli shaded")
        self.cold.setTitle("Bath (°C), immersion shaded, setpoint dashed")
        self.zone_curves = [
            self.heat.plot(pen=pg.mkPen(style.ZONE_COLOURS[i], width=1), name=f"zone {i + 1}") for i in range(N_ZONES)
        ]
        self.bath_curve = self.cold.plot(pen=pg.mkPen(style.COLD, width=1))
        self.setpoint_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(style.COLD, style=pg.QtCore.Qt.PenStyle.DashLine))
        self.setpoint_line.hide()
        self.cold.addItem(self.setpoint_line)
        self.reset(0.0, 1.0)

    def reset(self, t0: float, speed: float) -> None:
        """Clear everything for a new session starting at shared-clock time t0."""
        self.t0, self.speed = t0, speed
        self._thermode = _Series(N_ZONES)
        self._bath = _Series(1)
        self._dirty = True
        for plot in (self.heat, self.cold):
            for item in list(plot.items):
                if isinstance(item, pg.LinearRegionItem | pg.InfiniteLine) and item is not self.setpoint_line:
                    plot.removeItem(item)
        self._open_stimulus: dict[str, pg.LinearRegionItem] = {}
        self._open_immersion: pg.LinearRegionItem | None = None
        self.setpoint_line.hide()
        self.rating_marks = 0
        self.stimulus_windows = 0
        self.span_s: float | None = None
        self._x_left = 0.0
        self.heat.enableAutoRange(x=True)
        # y ranges only ever widen, with a margin: an axis that stays put is not redrawn at every refresh
        self._y_ranges: dict[str, tuple[float, float] | None] = {"heat": None, "cold": None}
        for plot in (self.heat, self.cold):
            plot.enableAutoRange(y=False)
        self.refresh()

    def set_span(self, total_s: float, window_s: float = WINDOW_S) -> None:
        """Show a time window of at most window_s that jumps ahead when full (a still axis is not redrawn)."""
        self.span_s = max(min(total_s, window_s), 10.0)
        self.heat.enableAutoRange(x=False)
        self._x_left = 0.0
        self.heat.setXRange(0.0, self.span_s, padding=0.01)

    def _follow(self, x: float) -> None:
        if self.span_s is not None and x > self._x_left + self.span_s:
            self._x_left = max(x - self.span_s / 3, 0.0)  # jump: the newest data a third of the way in
            self.heat.setXRange(self._x_left, self._x_left + self.span_s, padding=0.01)

    def x(self, t: float) -> float:
        """Protocol seconds since the session start for shared-clock time t."""
        return (t - self.t0) * self.speed

    def on_event(self, event: ev.Event) -> None:
        """Buffer a reading or mark a stimulus, immersion or rating (GUI thread, cheap)."""
        kind, data = event.kind, event.data
        if kind == ev.READING:
            if data.get("device") == "thermode":
                zones = list(data.get("zones_c") or [])[:N_ZONES]
                zones += [np.nan] * (N_ZONES - len(zones))
                self._thermode.append(self.x(event.t), zones)
            elif data.get("device") == "cold_pressor" and data.get("bath_c") is not None:
                self._bath.append(self.x(event.t), [data["bath_c"]])
            self._dirty = True
        elif kind == ev.STIMULUS:
            self._on_stimulus(event)
        elif kind == ev.IMMERSION:
            self._on_immersion(event)
        elif kind == ev.RATING:
            value = data.get("value")
            text = f"{data.get('scale', '').upper()} {'–' if value is None else f'{value:g}'}"
            line = pg.InfiniteLine(
                pos=self.x(event.t),
                angle=90,
                pen=pg.mkPen(style.RATING, width=1),
                label=text,
                labelOpts={"position": 0.9, "color": style.RATING, "fill": (255, 255, 255, 200)},
            )
            (self.cold if data.get("about") == "cold" else self.heat).addItem(line)
            self.rating_marks += 1

    def _on_stimulus(self, event: ev.Event) -> None:
        data = event.data
        key = f"{data.get('step_id')}/{data.get('rep')}"
        x = self.x(event.t)
        if data.get("stage") == "ramp_start":
            ramp = abs(data.get("target_c", 0) - data.get("baseline_c", 0))
            total = ramp / max(data.get("ramp_c_per_s", 1), 1e-6) + data.get("plateau_s", 0)
            total += ramp / max(data.get("return_c_per_s", 1), 1e-6)
            region = pg.LinearRegionItem(
                values=(x, x + total), movable=False, brush=pg.mkBrush(230, 81, 0, 45), pen=pg.mkPen(None)
            )
            region.setZValue(-10)
            self.heat.addItem(region)
            self._open_stimulus[key] = region
            self.stimulus_windows += 1
        elif data.get("stage") == "end" and key in self._open_stimulus:
            region = self._open_stimulus.pop(key)
            region.setRegion((region.getRegion()[0], x))

    def _on_immersion(self, event: ev.Event) -> None:
        data = event.data
        x = self.x(event.t)
        if data.get("stage") == "immersion_start":
            region = pg.LinearRegionItem(
                values=(x, x + 1e-3), movable=False, brush=pg.mkBrush(2, 119, 189, 50), pen=pg.mkPen(None)
            )
            region.setZValue(-10)
            self.cold.addItem(region)
            self._open_immersion = region
            if data.get("setpoint_c") is not None:
                self.setpoint_line.setValue(data["setpoint_c"])
                self.setpoint_line.show()
        elif data.get("stage") == "immersion_end" and self._open_immersion is not None:
            self._open_immersion.setRegion((self._open_immersion.getRegion()[0], x))
            self._open_immersion = None

    def refresh(self, now_t: float | None = None) -> None:
        """Redraw the curves if new data arrived (call from a timer, at most ~20 Hz)."""
        if now_t is not None and self._open_immersion is not None:
            start = self._open_immersion.getRegion()[0]
            self._open_immersion.setRegion((start, max(self.x(now_t), start)))
        if not self._dirty:
            return
        self._dirty = False
        tx, bx = self._thermode.x(), self._bath.x()
        if len(tx) or len(bx):
            self._follow(max(float(tx[-1]) if len(tx) else 0.0, float(bx[-1]) if len(bx) else 0.0))
        if len(tx):
            zones = self._thermode.data[: self._thermode.n, 1:]
            self._y_ranges["heat"] = _widen(self.heat, self._y_ranges["heat"], zones, margin_c=1.5)
        for i, curve in enumerate(self.zone_curves):
            curve.setData(tx, self._thermode.y(i))
        bath = self._bath.y(0)
        if len(bath):
            self._y_ranges["cold"] = _widen(self.cold, self._y_ranges["cold"], bath, margin_c=1.0)
        self.bath_curve.setData(bx, bath)

    @property
    def n_thermode_samples(self) -> int:
        """How many thermode readings are buffered."""
        return self._thermode.n

    @property
    def n_bath_samples(self) -> int:
        """How many bath readings are buffered."""
        return self._bath.n


def _widen(
    plot: pg.PlotItem, current: tuple[float, float] | None, values: np.ndarray, margin_c: float
) -> tuple[float, float] | None:
    """Widen plot's y range (never shrink) so values fit with a margin; return the new range."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return current
    lo, hi = float(finite.min()), float(finite.max())
    if current is not None and current[0] <= lo and hi <= current[1]:
        return current
    new = (
        (lo - margin_c, hi + margin_c)
        if current is None
        else (min(current[0], lo - margin_c), max(current[1], hi + margin_c))
    )
    plot.setYRange(*new, padding=0)
    return new
