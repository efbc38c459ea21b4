"""A simulated participant who answers through the real display screens with real input.

The SimulatedParticipant decides (what was felt, the reaction time, when the cold becomes
intolerable, where the slider should be); this wrapper turns each decision into keyboard or
mouse input injected into the display window at the right moment after the screen's flip,
so the screens, the input path and the flip-stamped timing are all exercised end to end.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
from collections.abc import Callable
from typing import Any, Literal

import cpmlab.display.messages as m
from cpmlab.core.clock import now
from cpmlab.display.channel import DisplayChannel
from cpmlab.display.inject import Injector, default_injector
from cpmlab.participant.channel import (
    ContinuousRequest,
    ContinuousResult,
    RatingRequest,
    RatingResult,
    SampleCallback,
    ScreenResult,
)
from cpmlab.participant.simulated import SimulatedParticipant

log = logging.getLogger(__name__)

InputMode = Literal["keyboard", "mouse", "mixed"]


class SimulatedDisplayParticipant:
    """ParticipantChannel: DisplayChannel screens, answered by a SimulatedParticipant via injected input."""

    def __init__(
        self,
        channel: DisplayChannel,
        sim: SimulatedParticipant,
        *,
        input_mode: InputMode = "mixed",
        seed: int = 0,
        injector: Injector | None = None,
    ) -> None:
        self.channel, self.sim = channel, sim
        self.input_mode = input_mode
        self.rng = random.Random(seed + 7919)
        self.injector: Any = injector or default_injector(channel)
        self._stop = threading.Event()
        self.planned: list[dict[str, Any]] = []  # what was decided for each screen (tests compare)

    @property
    def speed(self) -> float:
        """Time scale of the simulated participant."""
        return self.sim.speed

    # -- helpers -----------------------------------------------------------------------------
    def _later(self, at_t: float, action: Callable[[], None]) -> None:
        """Run action at at_t (shared clock) on a worker thread unless cancelled first."""

        def run() -> None:
            if self._stop.wait(max(at_t - now(), 0.0)):
                return
            try:
                action()
            except Exception:
                log.exception("injecting simulated input failed")

        threading.Thread(target=run, name="sim-input", daemon=True).start()

    def _device(self) -> str:
        if self.input_mode == "mixed":
            return self.rng.choice(("keyboard", "mouse"))
        return self.input_mode

    def _onset(self, onset: m.Onset) -> float:
        self.injector.set_window(onset.window or self.channel.window)
        return onset.t

    # -- channel -----------------------------------------------------------------------------
    def show_text(self, text: str, *, key: str | None, timeout_s: float | None) -> ScreenResult:
        """Show the text; the participant reads it and presses the key."""
        self._stop.clear()
        read_real = self.sim.model.instruction_read_s / self.speed

        def on_onset(onset: m.Onset) -> None:
            t = self._onset(onset)
            if key and self.sim.model.answers and (timeout_s is None or read_real <= timeout_s):
                self._later(t + read_real, lambda: self.injector.key(key))

        return self.channel.show_text(text, key=key, timeout_s=timeout_s, on_onset=on_onset)

    def rate(self, request: RatingRequest) -> RatingResult:
        """Show the rating screen; the participant answers with keyboard or mouse after its RT."""
        self._stop.clear()

        def on_onset(onset: m.Onset) -> None:
            t = self._onset(onset)
            value, rt_s = self.sim.decide_rating(request, t)
            device = self._device()
            self.planned.append(
                {"step_id": request.step_id, "value": value, "rt_s": rt_s, "device": device, "onset_t": t}
            )
            if value is None:
                return
            rt_real = rt_s / self.speed
            geometry = onset.geometry
            if device == "mouse":
                self._later(t + 0.6 * rt_real, lambda: self._mouse_choose(request, value, geometry))
                self._later(t + rt_real, lambda: self.injector.click(*_centre(geometry["confirm"])))
            else:
                self._later(t + 0.6 * rt_real, lambda: self._keys_choose(request, value))
                self._later(t + rt_real, lambda: self.injector.key("return"))

        return self.channel.rate(request, on_onset=on_onset)

    def _mouse_choose(self, request: RatingRequest, value: float, geometry: dict[str, Any]) -> None:
        if request.scale == "vas":
            x = geometry["x0"] + (geometry["x1"] - geometry["x0"]) * value / request.maximum
            self.injector.click(x, geometry["y"])
        else:
            self.injector.click(*_centre(geometry["boxes"][round(value)]))

    def _keys_choose(self, request: RatingRequest, value: float) -> None:
        if request.scale == "nrs" and value < 10:
            self.injector.key(str(round(value)))
            return
        boxes = 11 if request.scale == "nrs" else len(request.categories)
        start = 50 if request.scale == "vas" else (boxes - 1) // 2
        self.injector.key("right")  # the first press shows the marker at the middle
        steps = round(value) - start
        for _ in range(abs(steps)):
            self.injector.key("right" if steps > 0 else "left")

    def rate_continuously(self, request: ContinuousRequest, on_sample: SampleCallback) -> ContinuousResult:
        """Show the slider; the participant moves the mouse with what is felt, from 0.5 s on."""
        self._stop.clear()
        maximum = request.maximum

        def follow(onset: m.Onset) -> None:
            t0 = self._onset(onset)
            geometry = onset.geometry
            period = 1.0 / max(request.rate_hz, 30.0)
            smoothed: float | None = None
            next_t = t0 + 0.5 / self.speed
            while not self._stop.wait(max(next_t - now(), 0.0)):
                t = now()
                if t >= t0 + request.duration_s or not self.sim.model.answers:
                    return
                target = self.sim.continuous_value(maximum, t)
                smoothed = target if smoothed is None else smoothed + 0.3 * (target - smoothed)
                x = geometry["x0"] + (geometry["x1"] - geometry["x0"]) * smoothed / maximum
                self.injector.move(x, geometry["y"] - 30.0)
                next_t += period

        def on_onset(onset: m.Onset) -> None:
            threading.Thread(target=follow, args=(onset,), name="sim-slider", daemon=True).start()

        return self.channel.rate_continuously(request, on_sample, on_onset=on_onset)

    def prompt_immersion(self, text: str, duration_s: float) -> float:
        """Show the countdown; the participant puts the hand in the water."""
        self._stop.clear()
        onset = self.channel.prompt_immersion(text, duration_s)
        self.sim.prompt_immersion(text, duration_s)
        return onset

    def prompt_withdrawal(self, text: str) -> float:
        """Show the withdrawal text; the participant takes the hand out."""
        onset = self.channel.prompt_withdrawal(text)
        self.sim.prompt_withdrawal(text)
        return onset

    def wait_for_response(self, timeout_s: float, what: str = "withdrawal") -> float | None:
        """Listen for the response key; the participant presses it when the SimulatedParticipant would."""
        self._stop.clear()

        def press_when_due() -> None:
            # the simulated participant's own wait returns at the moment it presses (or None)
            pressed_t = self.sim.wait_for_response(timeout_s, what)
            if pressed_t is not None and not self._stop.is_set():
                self.injector.key(self.channel.response_key)

        def on_onset(onset: m.Onset) -> None:
            self.injector.set_window(self.channel.window)
            threading.Thread(target=press_when_due, name="sim-response", daemon=True).start()

        try:
            return self.channel.wait_for_response(timeout_s, what, on_onset=on_onset)
        finally:
            self.sim.cancel()  # stop its wait if the display answered first (timeout, outage, abort)

    def cancel(self) -> None:
        """End the screen and stop any pending input."""
        self._stop.set()
        self.channel.cancel()
        self.sim.cancel()

    def restart(self, timeout_s: float | None = None) -> bool:
        """Restart the display after a fault."""
        return self.channel.restart(timeout_s)

    def close(self) -> None:
        """Close the display and take the hand out if it is still in; safe twice."""
        self._stop.set()
        self.channel.close()
        self.sim.close()
        close = getattr(self.injector, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()


def _centre(rect: dict[str, float]) -> tuple[float, float]:
    return rect["x"] + rect["w"] / 2, rect["y"] + rect["h"] / 2
