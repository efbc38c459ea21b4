"""LslBridge: an EventBus subscriber that puts every session event and signal on LSL."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pylsl

from cpmlab.core import events as ev
from cpmlab.core.events import Event, EventBus
from cpmlab.lsl import streams as st
from cpmlab.lsl.vocabulary import event_marker

log = logging.getLogger(__name__)

OutletFactory = Callable[[pylsl.StreamInfo], Any]
N_THERMODE_ZONES = 5


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


class LslBridge:
    """Publish markers and numeric streams for one session; never blocks or raises into the engine."""

    def __init__(
        self,
        lab: str = "unnamed lab",
        *,
        streams: Iterable[str] = (st.MARKERS, st.THERMODE, st.BATH, st.RATING),
        rating_rate_hz: float | None = None,
        bus: EventBus | None = None,
        host: str | None = None,
        outlet_factory: OutletFactory | None = None,
    ) -> None:
        self.lab = lab
        self.keys = tuple(dict.fromkeys((st.MARKERS, *streams)))
        self.rating_rate_hz = rating_rate_hz or st.DEFAULT_RATING_HZ
        self.bus = bus
        self.host = host
        self._factory: OutletFactory = outlet_factory or pylsl.StreamOutlet
        self._outlets: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._described: list[dict[str, Any]] = []
        self._open_lock = threading.Lock()
        self.errors: dict[str, int] = {}
        self.pushed: dict[str, int] = {}

    # -- outlets -------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """Return True once the outlets exist."""
        return bool(self._outlets)

    @property
    def streams(self) -> list[dict[str, Any]]:
        """Return name, type, uid and source id of every open stream."""
        return list(self._described)

    def open(self, identity: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Create the outlets (once), describing the session; return the streams' identities."""
        with self._open_lock:
            if self._outlets:
                return self.streams
            for key in self.keys:
                spec = st.SPECS[key]
                rate = self.rating_rate_hz if key == st.RATING else None
                try:
                    info = st.build_info(spec, identity, lab=self.lab, host=self.host, nominal_rate_hz=rate)
                    outlet = self._factory(info)
                    self._outlets[key] = outlet
                    self._locks[key] = threading.Lock()
                    self._described.append(st.describe(outlet.get_info()))
                except Exception:
                    log.exception("could not create the LSL %s stream; it stays off", key)
            return self.streams

    def wait_for_consumers(self, timeout_s: float, keys: Iterable[str] = (st.MARKERS,)) -> bool:
        """Wait until the given streams have a receiver; return False on timeout."""
        ok = True
        for key in keys:
            outlet = self._outlets.get(key)
            if outlet is not None:
                ok = bool(outlet.wait_for_consumers(timeout_s)) and ok
        return ok

    def close(self, linger_s: float = 0.2) -> None:
        """Drop the outlets, first giving connected receivers linger_s to take the last samples."""
        with self._open_lock:
            try:
                if linger_s > 0 and any(o.have_consumers() for o in self._outlets.values()):
                    time.sleep(linger_s)
            except Exception:
                pass
            self._outlets.clear()

    # -- events --------------------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        """Push one bus event to its stream (errors are logged, never raised)."""
        try:
            self._handle(event)
        except Exception:
            self._failed("bridge")

    def _handle(self, event: Event) -> None:
        kind = event.kind
        if kind == ev.READING:
            device = event.data.get("device")
            if device == "thermode":
                zones = [_num(z) for z in event.data.get("zones_c", ())][:N_THERMODE_ZONES]
                zones += [math.nan] * (N_THERMODE_ZONES - len(zones))
                self._push(st.THERMODE, [_num(event.data.get("neutral_c")), *zones], event.t)
            elif device == "cold_pressor":
                self._push(st.BATH, [_num(event.data.get("bath_c"))], event.t)
            return
        if kind == ev.CONTINUOUS_SAMPLE:
            self._push(st.RATING, [_num(event.data.get("value"))], event.t)
            return
        if kind == ev.SESSION_START and not self._outlets:
            self.open(event.data)
        marker = event_marker(event)
        if marker is not None:
            self._push(st.MARKERS, [marker], event.t)
        if kind == ev.SESSION_START and self.bus is not None and self._described:
            # Lands in the journal, and from there in the session's events and metadata.
            self.bus.emit(ev.MARKER, name="lsl_streams", streams=self.streams)

    def _push(self, key: str, sample: list[Any], t: float) -> None:
        outlet = self._outlets.get(key)
        if outlet is None:
            return
        try:
            with self._locks[key]:
                outlet.push_sample(sample, t)
            self.pushed[key] = self.pushed.get(key, 0) + 1
        except Exception:
            self._failed(key)

    def _failed(self, key: str) -> None:
        count = self.errors.get(key, 0) + 1
        self.errors[key] = count
        if count == 1 or count % 1000 == 0:  # a 100 Hz stream must not flood the log
            log.exception("LSL %s push failed (%d so far); the session goes on", key, count)
