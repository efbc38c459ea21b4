"""The abort spy stamps the first abort byte and still hands every byte to the emulator."""

from __future__ import annotations

from cpmlab.testing.abort_spy import AbortSpy


class _Emulator:
    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.on_bytes = self.seen.append


def test_first_abort_byte_is_stamped_once_and_bytes_pass_through() -> None:
    """Bytes without 'A' leave it unstamped; the first 'A' stamps it; later ones do not move the stamp."""
    emulator = _Emulator()
    spy = AbortSpy(emulator)
    emulator.on_bytes(b"?\r")
    assert spy.wait(0.01) is None
    emulator.on_bytes(b"A")
    first = spy.wait(0.01)
    emulator.on_bytes(b"A")
    assert first is not None and spy.received_at == first
    assert emulator.seen == [b"?\r", b"A", b"A"]
