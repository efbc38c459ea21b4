"""The faults every emulator plugin offers, checked from a client's side, as a reusable pytest suite.

A client talks to the emulator through the transport cpmlab would hand the matching driver
and asks "who are you?" with that driver's ``probe``. Subclass :class:`EmulatorFaults` in a
test module and give it a ``link`` fixture that yields ``from open_link(driver, emulator)``.
Device-specific faults (``alarm``) are tested with each emulator.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cpmlab.app.transport import open_transport
from cpmlab.core.errors import DeviceError
from cpmlab.devices.plugins import DriverSpec, EmulatorSpec

COMMON_FAULTS = ("unplug", "silence", "garbage", "slow", "split", "alarm")


class _RecordingSocket:
    """A socket whose received chunks are recorded."""

    def __init__(self, inner: Any, chunks: list[bytes]) -> None:
        self._inner = inner
        self._chunks = chunks

    def recv(self, size: int) -> bytes:
        """Receive and record up to size bytes."""
        data = self._inner.recv(size)
        if data:
            self._chunks.append(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RecordingTransport:
    """Wraps a serial transport or a TCP connector and records every non-empty chunk received."""

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "chunks", [])

    def read(self, size: int = 1) -> bytes:
        """Read and record up to size bytes."""
        data = self._inner.read(size)
        if data:
            self.chunks.append(data)
        return data

    def open(self) -> Any:
        """Open a connection whose received bytes are recorded."""
        return _RecordingSocket(self._inner.open(), self.chunks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)


@dataclass
class Link:
    """A running emulator, a client transport to it and the driver whose probe asks it."""

    driver: DriverSpec
    spec: EmulatorSpec
    emulator: Any
    transport: RecordingTransport

    def ask(self, attempts: int = 1) -> str | None:
        """Return what the driver's probe identifies on the link (None: nothing recognisable).

        A device that streams unasked (the TCS II) can garble a probe that starts mid-record,
        so a check that expects an answer may ask up to attempts times.
        """
        assert self.driver.probe is not None, f"driver {self.driver.name} declares no probe"
        for _ in range(attempts):
            identity = self.driver.probe(self.transport)
            if identity:
                return identity
        return None

    def drain(self) -> None:
        """Let bytes already on their way arrive, then drop them and the record of them."""
        time.sleep(0.15)
        if self.driver.transport != "tcp":
            self.transport.reset_input_buffer()
        self.transport.chunks.clear()

    def raw_exchange(self) -> None:
        """Touch the link the lowest way the transport allows (a connection, or a write and a read)."""
        if self.driver.transport == "tcp":
            self.transport.open().close()
        else:
            self.transport.write(b"\r\n")
            time.sleep(0.05)
            self.transport.read(16)


def open_link(driver: DriverSpec, emulator: EmulatorSpec, **emulator_options: Any) -> Iterator[Link]:
    """Yield a Link to a freshly started emulator; close everything after."""
    running = emulator.start(**{**driver.emulator_options, **emulator_options})
    transport = RecordingTransport(open_transport(driver, running.port))
    try:
        yield Link(driver, emulator, running, transport)
    finally:
        try:
            transport.close()
        finally:
            running.close()


class EmulatorFaults:
    """What every emulator's fault injection must do; subclass with a ``link`` fixture."""

    def test_declares_the_common_faults(self, link: Link) -> None:
        """The plugin offers unplug, silence, garbage, slow, split and alarm, and refuses others."""
        assert set(COMMON_FAULTS) <= set(link.spec.faults)
        with pytest.raises(ValueError):
            link.emulator.set_fault("no such fault")

    def test_healthy_emulator_answers_the_probe(self, link: Link) -> None:
        """With no fault the driver's probe recognises the device."""
        assert link.ask(attempts=3)

    def test_unplug_makes_client_io_fail(self, link: Link) -> None:
        """After unplug the client's port (or connection) fails, as with a pulled cable."""
        assert link.ask(attempts=3)
        link.emulator.set_fault("unplug")
        with pytest.raises((DeviceError, OSError)):
            link.raw_exchange()
        assert link.ask() is None

    def test_silence_means_no_reply_until_cleared(self, link: Link) -> None:
        """Silence: no byte comes back and the probe finds nothing; cleared, the device answers."""
        link.emulator.set_fault("silence")
        link.drain()
        assert link.ask() is None
        assert link.transport.chunks == []
        link.emulator.set_fault(None)
        assert link.ask(attempts=3)

    def test_garbage_replaces_replies(self, link: Link) -> None:
        """Garbage: bytes arrive, but not a reply the driver recognises."""
        link.emulator.set_fault("garbage")
        link.drain()
        assert link.ask() is None
        assert b"".join(link.transport.chunks)

    def test_slow_delays_replies(self, link: Link) -> None:
        """Slow: the reply still comes, after the configured latency."""
        link.emulator.set_fault("slow", latency_s=0.3)
        start_s = time.monotonic()
        assert link.ask(attempts=3)
        assert time.monotonic() - start_s >= 0.25

    def test_split_reply_arrives_in_pieces(self, link: Link) -> None:
        """Split: the reply comes in several pieces that reassemble into one recognised reply."""
        link.emulator.set_fault("split", chunk=3, gap_s=0.03)
        link.drain()
        assert link.ask(attempts=3)
        assert len(link.transport.chunks) > 1
