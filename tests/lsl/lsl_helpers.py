"""Shared constants of the LSL tests."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
SHORT_PROTOCOL = HERE / "short_cpm.yaml"
RECEIVER = HERE / "receiver.py"
SPEED = 40.0
