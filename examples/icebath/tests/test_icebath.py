"""IceBath 100: exact byte exchanges on a fake port, and cpmlab's bath conformance suite on the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from icebath.driver import DRIVER, IceBath
from icebath.emulator import EMULATOR

from cpmlab.core.errors import LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.testing.byte_exchange import expected_protocol
from cpmlab.testing.conformance import BathConformance, Rig, emulator_rig

LIMITS = SafetyLimits(min_bath_c=6.0)


def test_connect_and_setpoint_bytes() -> None:
    """connect asks ID?; a setpoint is sent with two decimals and answered OK."""
    with expected_protocol([(b"ID?\n", b"ICEBATH-100 1.0\r\n"), (b"SP 12.50\n", b"OK\r\n")]) as port:
        bath = IceBath(port)
        assert bath.connect(LIMITS).identity == "ICEBATH-100 1.0"
        bath.set_setpoint(12.5)


def test_a_setpoint_below_the_limit_sends_nothing() -> None:
    """A setpoint under the session minimum raises LimitError before any byte."""
    with expected_protocol([(b"ID?\n", b"ICEBATH-100 1.0\r\n")]) as port:
        bath = IceBath(port)
        bath.connect(LIMITS)
        with pytest.raises(LimitError):
            bath.set_setpoint(4.0)


class TestIceBathConformance(BathConformance):
    """cpmlab's contract for every cold-pressor driver, against the IceBath emulator."""

    @pytest.fixture
    def rig(self) -> Iterator[Rig]:
        yield from emulator_rig(DRIVER, EMULATOR, start_c=10.0, setpoint_c=10.0)
