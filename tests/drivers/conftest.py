"""Every byte-exchange test uses every exchange it expects and writes nothing unexpected."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cpmlab.testing.byte_exchange import all_exchanges_used


@pytest.fixture(autouse=True)
def _every_expected_exchange_is_used() -> Iterator[None]:
    """Check each FakeSerial and FakeConnector a test made, after the test."""
    with all_exchanges_used():
        yield
