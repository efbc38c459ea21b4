"""XdfRecorder: record the session's own LSL streams and any selected others into one XDF file."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pylsl

from cpmlab.core.clock import now
from cpmlab.core.errors import CpmlabError
from cpmlab.lsl.streams import describe
from cpmlab.lsl.xdf_writer import XdfWriter, footer_xml

log = logging.getLogger(__name__)

CHANNEL_FORMATS = {
    pylsl.cf_float32: "float32",
    pylsl.cf_double64: "double64",
    pylsl.cf_string: "string",
    pylsl.cf_int32: "int32",
    pylsl.cf_int16: "int16",
    pylsl.cf_int8: "int8",
    pylsl.cf_int64: "int64",
}
OFFSET_INTERVAL_S = 5.0  # as LabRecorder: a clock offset every 5 s
BOUNDARY_INTERVAL_S = 10.0
PULL_TIMEOUT_S = 0.1
_SAFE = re.compile(r"^[^'\"]+$")


def _quote(value: str) -> str:
    if not _SAFE.match(value):
        raise CpmlabError(f"LSL stream selector {value!r}: quotes are not allowed")
    return f"'{value}'"


class _StreamRecorder(threading.Thread):
    """Pull one inlet into the writer, with a clock offset every OFFSET_INTERVAL_S."""

    def __init__(
        self,
        recorder: XdfRecorder,
        stream_id: int,
        inlet: pylsl.StreamInlet,
        info: pylsl.StreamInfo,
        writes_boundaries: bool,
    ) -> None:
        super().__init__(name=f"xdf-{info.name()}", daemon=True)
        self.recorder = recorder
        self.stream_id = stream_id
        self.inlet = inlet
        self.info = info
        self.fmt = CHANNEL_FORMATS[info.channel_format()]
        self.writes_boundaries = writes_boundaries
        self.offsets: list[tuple[float, float]] = []
        self.first_t: float | None = None
        self.last_t: float | None = None
        self.count = 0

    def measure_offset(self) -> None:
        """Record a ClockOffset chunk (collection time in the stream's clock, as LabRecorder does)."""
        try:
            local_t = now()
            offset = self.inlet.time_correction(timeout=2.0)
        except Exception as exc:
            log.warning("clock offset of %s not measured: %s", self.info.name(), exc)
            return
        self.offsets.append((local_t - offset, offset))
        self.recorder.writer.write_clock_offset(self.stream_id, local_t - offset, offset)

    def _pull(self, timeout_s: float) -> int:
        samples, stamps = self.inlet.pull_chunk(timeout=timeout_s, max_samples=4096)
        if not stamps:
            return 0
        self.recorder.writer.write_samples(self.stream_id, stamps, samples)
        if self.first_t is None:
            self.first_t = stamps[0]
        self.last_t = stamps[-1]
        self.count += len(stamps)
        return len(stamps)

    def run(self) -> None:
        rec = self.recorder
        self.measure_offset()  # the first estimate takes ~0.5 s: threads do it in parallel
        next_offset = now() + OFFSET_INTERVAL_S
        next_boundary = now() + BOUNDARY_INTERVAL_S
        try:
            while not rec.stop_event.is_set():
                self._pull(PULL_TIMEOUT_S)
                t = now()
                if t >= next_offset:
                    self.measure_offset()
                    next_offset = t + OFFSET_INTERVAL_S
                if self.writes_boundaries and t >= next_boundary:
                    rec.writer.write_boundary()
                    rec.writer.flush()
                    next_boundary = t + BOUNDARY_INTERVAL_S
            # Samples still in flight when the session ended: keep pulling for the drain time.
            while now() < rec.drain_until:
                self._pull(max(min(rec.drain_until - now(), PULL_TIMEOUT_S), 0.0))
            while self._pull(0.0):
                pass
            self.measure_offset()
        except Exception:
            log.exception("recording of LSL stream %s failed", self.info.name())
        finally:
            first = self.first_t if self.first_t is not None else 0.0
            last = self.last_t if self.last_t is not None else 0.0
            rec.writer.write_footer(self.stream_id, footer_xml(first, last, self.count, self.offsets))
            with contextlib.suppress(Exception):
                self.inlet.close_stream()


class XdfRecorder:
    """Record LSL streams (by uid, and by name or type) into an XDF file that pyxdf reads."""

    def __init__(
        self,
        path: str | Path,
        *,
        uids: Iterable[str] = (),
        select: Iterable[str] = (),
        resolve_timeout_s: float = 3.0,
        drain_s: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self.uids = list(uids)
        self.select = list(select)
        self.resolve_timeout_s = resolve_timeout_s
        self.drain_s = drain_s
        self.stop_event = threading.Event()
        self.drain_until = 0.0
        self.writer: XdfWriter
        self._threads: list[_StreamRecorder] = []
        self.streams: list[dict[str, Any]] = []

    def resolve(self) -> list[pylsl.StreamInfo]:
        """Find the streams to record; raise CpmlabError if one is missing."""
        found: dict[str, pylsl.StreamInfo] = {}
        if self.uids:
            pred = " or ".join(f"uid={_quote(u)}" for u in self.uids)
            for info in pylsl.resolve_bypred(pred, minimum=len(self.uids), timeout=self.resolve_timeout_s):
                found.setdefault(info.uid(), info)
            missing = set(self.uids) - set(found)
            if missing:
                raise CpmlabError(
                    f"cannot record: the session's own LSL streams were not found ({len(missing)} "
                    f"missing); is LSL blocked on this machine?"
                )
        for sel in self.select:
            pred = f"name={_quote(sel)} or type={_quote(sel)}"
            matches = pylsl.resolve_bypred(pred, minimum=1, timeout=self.resolve_timeout_s)
            if not matches:
                raise CpmlabError(
                    f"--record-stream {sel}: no LSL stream with that name or type on the network "
                    f"(waited {self.resolve_timeout_s:g} s); start its source first"
                )
            for info in matches:
                found.setdefault(info.uid(), info)
        return list(found.values())

    def start(self) -> list[dict[str, Any]]:
        """Resolve, connect every inlet (so nothing pushed from now on is missed), start recording."""
        infos = self.resolve()
        inlets: list[tuple[pylsl.StreamInlet, pylsl.StreamInfo]] = []
        for info in infos:
            inlet = pylsl.StreamInlet(info, max_buflen=360, recover=True)
            try:
                inlet.open_stream(timeout=self.resolve_timeout_s)
                full = inlet.info(timeout=self.resolve_timeout_s)
            except Exception as exc:
                raise CpmlabError(f"cannot connect to LSL stream {info.name()}: {exc}") from None
            inlets.append((inlet, full))
        self.writer = XdfWriter(self.path)
        for i, (inlet, full) in enumerate(inlets, start=1):
            fmt = CHANNEL_FORMATS[full.channel_format()]
            self.writer.add_stream(i, full.as_xml(), fmt, full.channel_count())
            thread = _StreamRecorder(self, i, inlet, full, writes_boundaries=i == 1)
            self._threads.append(thread)
            self.streams.append({"stream_id": i, **describe(full)})
        for thread in self._threads:
            thread.start()
        log.info("recording %d LSL streams into %s", len(self._threads), self.path)
        return self.streams

    def stop(self) -> None:
        """Record for drain_s more (samples in flight), write footers, close the file; never raises."""
        self.drain_until = now() + self.drain_s
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=self.drain_s + 5.0)
            if thread.is_alive():
                log.warning("recorder thread %s did not stop", thread.name)
        if hasattr(self, "writer"):
            try:
                self.writer.close()
            except Exception:
                log.exception("closing %s failed", self.path)
