"""The byte-exchange fakes fail a test that skips an expected exchange or writes an unexpected byte."""

from __future__ import annotations

import pytest

from cpmlab.devices.transport import PortVanishedError
from cpmlab.testing.byte_exchange import FakeConnector, FakeSerial, all_exchanges_used, expected_protocol


def test_reply_is_readable_once_the_request_is_complete_even_split_over_writes() -> None:
    """A request written in two pieces makes its reply readable; check() then passes."""
    fake = FakeSerial([(b"ABC", b"ok\r\n")])
    fake.write(b"A")
    assert fake.read(10) == b""
    fake.write(b"BC")
    assert fake.read(10) == b"ok\r\n"
    fake.check()


def test_an_unused_exchange_fails_the_check() -> None:
    """Leaving expected_protocol with an exchange never made raises AssertionError."""
    with pytest.raises(AssertionError, match="left unused"), expected_protocol([(b"A", b""), (b"B", b"")]) as fake:
        fake.write(b"A")


def test_an_unexpected_byte_fails_at_once_and_in_the_check() -> None:
    """A write that is not the next expected request raises, and check() reports it."""
    fake = FakeSerial([(b"A", b"")])
    with pytest.raises(AssertionError, match="unexpected write"):
        fake.write(b"X")
    with pytest.raises(AssertionError, match="unexpected write"):
        fake.check()


def test_all_exchanges_used_checks_every_fake_made_in_the_block() -> None:
    """A serial fake and a TCP fake with exchanges left over both fail on leaving the block."""
    with pytest.raises(AssertionError, match="left unused"), all_exchanges_used() as made:
        FakeSerial([(b"A", b"")])
    assert len(made) == 1
    with pytest.raises(AssertionError, match="left unused"), all_exchanges_used():
        FakeConnector([(b"\x01", b"")])


def test_a_vanished_port_raises_cpmlab_errors() -> None:
    """After vanish(), reads, writes and in_waiting raise PortVanishedError, as the real transport does."""
    fake = FakeSerial([])
    fake.vanish()
    for call in (lambda: fake.write(b"A"), lambda: fake.read(1), lambda: fake.in_waiting):
        with pytest.raises(PortVanishedError):
            call()


def test_a_tcp_request_answered_with_none_times_out() -> None:
    """A None reply means the request is taken but never answered: recv times out."""
    connector = FakeConnector([(b"\x01", None)])
    sock = connector.open()
    sock.sendall(b"\x01")
    with pytest.raises(TimeoutError):
        sock.recv(4)
    connector.check()
