"""LslBridge: routes events to the right stream, and survives broken outlets without raising."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from cpmlab.core import events as ev
from cpmlab.core.events import Event, EventBus
from cpmlab.lsl.bridge import LslBridge
from cpmlab.lsl.vocabulary import parse_marker


class FakeOutlet:
    """Records pushes; raises on push when broken (a dead network interface, a liblsl error)."""

    def __init__(self, info: Any, broken: bool = False) -> None:
        self.info = info
        self.broken = broken
        self.pushed: list[tuple[list[Any], float]] = []

    def push_sample(self, sample: list[Any], timestamp: float) -> None:
        if self.broken:
            raise RuntimeError("outlet is broken")
        self.pushed.append((sample, timestamp))

    def get_info(self) -> Any:
        return self.info

    def have_consumers(self) -> bool:
        return False


def _bridge(
    broken: set[str], failing: set[str] = frozenset(), bus: EventBus | None = None
) -> tuple[LslBridge, dict[str, FakeOutlet]]:
    outlets: dict[str, FakeOutlet] = {}

    def factory(info: Any) -> FakeOutlet:
        key = info.source_id().rsplit(".", 1)[-1]
        if key in failing:
            raise OSError("cannot create outlet")
        outlets[key] = FakeOutlet(info, broken=key in broken)
        return outlets[key]

    return LslBridge("lab", bus=bus, host="host", outlet_factory=factory), outlets


def test_bridge_routes_events_with_their_own_time() -> None:
    """Markers, thermode (6 ch, NaN-padded), bath and rating samples are pushed with event.t."""
    bus = EventBus()
    bridge, outlets = _bridge(set(), bus=bus)
    bus.subscribe(bridge)
    bus.emit(ev.SESSION_START, t=10.0, participant="01", protocol="p", task="t")
    bus.emit(ev.READING, t=10.5, device="thermode", neutral_c=32.0, zones_c=[32.1, 32.2])
    bus.emit(ev.READING, t=10.6, device="cold_pressor", bath_c=10.0)
    bus.emit(ev.CONTINUOUS_SAMPLE, t=10.7, value=None)
    bus.emit(ev.STIMULUS, t=11.0, stage="ramp_start", step_id="ts", target_c=46.0)
    names = [parse_marker(s[0])[0] for s, _ in outlets["markers"].pushed]
    assert names == ["session_start", "marker", "ts_ramp_start"]  # marker: lsl_streams
    assert [t for _, t in outlets["markers"].pushed][::2] == [10.0, 11.0]  # lsl_streams: stamped now
    sample, t = outlets["thermode"].pushed[0]
    assert t == 10.5 and sample[:3] == [32.0, 32.1, 32.2] and all(math.isnan(v) for v in sample[3:])
    assert outlets["bath"].pushed == [([10.0], 10.6)]
    assert math.isnan(outlets["rating"].pushed[0][0][0])
    info = outlets["markers"].info
    assert (info.type(), info.channel_count(), info.nominal_srate()) == ("Markers", 1, 0.0)
    assert info.source_id() == "cpmlab.lab.host.markers"


def test_bridge_survives_a_broken_outlet(caplog: pytest.LogCaptureFixture) -> None:
    """A thermode outlet that raises on every push: nothing reaches the engine, markers keep flowing."""
    bus = EventBus()
    bridge, outlets = _bridge({"thermode"}, bus=bus)
    later: list[Event] = []
    bus.subscribe(bridge)
    bus.subscribe(later.append)
    caplog.set_level(logging.ERROR)
    bus.emit(ev.SESSION_START, t=1.0)
    for i in range(2500):
        bus.emit(ev.READING, t=1.0 + i / 100, device="thermode", neutral_c=32.0, zones_c=[32.0] * 5)
    bus.emit(ev.SESSION_END, t=30.0, outcome="completed")
    assert bridge.errors["thermode"] == 2500
    assert sum("thermode push failed" in r.message for r in caplog.records) == 3  # 1st, 1000th, 2000th
    assert [parse_marker(s[0])[0] for s, _ in outlets["markers"].pushed][-1] == "session_end"
    assert later[-1].kind == ev.SESSION_END and len(later) == 2503


def test_bridge_survives_outlets_that_cannot_be_created_or_a_dead_markers_outlet() -> None:
    """A stream whose outlet cannot be created stays off; a markers outlet that raises is logged only."""
    bridge, outlets = _bridge({"markers"}, failing={"bath"})
    bridge(Event(ev.SESSION_START, 1.0, {}))
    bridge(Event(ev.READING, 1.1, {"device": "cold_pressor", "bath_c": 10.0}))
    bridge(Event(ev.READING, 1.2, {"device": "thermode", "neutral_c": 32.0, "zones_c": [33.0]}))
    bridge(Event(ev.STEP_START, 1.3, {"step_id": object()}))  # unserialisable values become strings
    assert "bath" not in outlets and len(outlets["thermode"].pushed) == 1
    assert bridge.errors["markers"] == 2
    assert [s["name"] for s in bridge.streams] == ["cpmlab-markers", "cpmlab-thermode", "cpmlab-rating"]
    bridge.close()
    bridge(Event(ev.SESSION_END, 2.0, {}))  # after close: silently nothing
