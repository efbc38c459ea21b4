"""LSL test set-up: liblsl resolves on this machine only; helpers to run short sessions."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# Set before any test creates an outlet (liblsl reads its config once, lazily); subprocesses inherit it.
os.environ.setdefault("LSLAPICFG", str(HERE / "lsl_api.cfg"))


@pytest.fixture
def lab_name() -> str:
    """A lab name unique to this test, so its stream source ids clash with no other run on the machine."""
    return f"lsltest-{uuid.uuid4().hex[:8]}"
