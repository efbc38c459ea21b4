"""Shared fixtures: isolated lab config, artefact folder, protocol texts, real-hardware opt-in."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cpmlab.testing.fake_devices import close_all_fakes

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/fakes.py and helpers
# Every session in the tests opens LSL outlets: keep LSL discovery on this machine.
os.environ.setdefault("LSLAPICFG", str(Path(__file__).resolve().parent / "lsl" / "lsl_api.cfg"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device-port",
        action="append",
        default=[],
        metavar="NAME=PORT",
        help="run the tests marked 'hardware' against a real device, e.g. tcs2=/dev/ttyUSB0",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--device-port"):
        return
    skip = pytest.mark.skip(reason="needs real hardware: pass --device-port NAME=PORT")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def device_ports(request: pytest.FixtureRequest) -> dict[str, str]:
    """Real device ports given with --device-port NAME=PORT."""
    out = {}
    for item in request.config.getoption("--device-port"):
        name, _, port = item.partition("=")
        out[name] = port
    return out


@pytest.fixture(autouse=True)
def _isolated_lab_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read the developer's own lab config in tests."""
    monkeypatch.setenv("CPMLAB_CONFIG", str(tmp_path_factory.mktemp("cfg") / "lab.yaml"))


@pytest.fixture
def artifacts() -> Path:
    """Folder for screenshots and other test artefacts (kept after the run)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def protocols_dir() -> Path:
    """The shipped protocol library."""
    return ROOT / "protocols"


@pytest.fixture(autouse=True)
def _stop_leftover_fake_devices() -> Iterator[None]:
    """Stop fake thermodes a test left streaming, so their threads do not slow every later test."""
    yield
    close_all_fakes()
