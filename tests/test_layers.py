"""Architecture rules: the import contracts in pyproject.toml hold, and no modules import each other.

The contracts (layers; no Qt, PsychoPy, ZeroMQ or pyserial at or below the engine; runtime code
never imports cpmlab.testing; drivers and emulators only through entry points) are checked by
import-linter through scripts/import_graph.py, on a copy of the source in the installed layout.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "import_graph.py"


def _run(check: str, tree: Path, *, staged: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), check, "--tree", str(tree)] + (["--staged"] if staged else [])
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    """A fresh copy of the source in the installed layout (cpmlab/drivers, cpmlab/hardware_mocks)."""
    tree = tmp_path / "tree"
    result = _run("cycles", tree)  # stages the tree; the cycle result is checked in its own test
    assert (tree / "cpmlab" / "drivers" / "__init__.py").is_file(), result.stderr
    return tree


def test_import_contracts_hold(tmp_path: Path) -> None:
    """lint-imports keeps every contract in pyproject.toml on the current source."""
    result = _run("lint", tmp_path / "tree")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_contracts_see_drivers_and_emulators(staged: Path) -> None:
    """A layer violation planted in drivers/ (installed as cpmlab.drivers) breaks the layers contract."""
    (staged / "cpmlab" / "drivers" / "planted.py").write_text("from cpmlab.engine import engine\n")
    result = _run("lint", staged, staged=True)
    assert result.returncode != 0
    assert "cpmlab.drivers.planted -> cpmlab.engine.engine" in result.stdout


@pytest.mark.parametrize(
    ("path", "source", "shown"),
    [
        ("engine/planted.py", "from ..console import main_window\n", "cpmlab.engine.planted -> cpmlab.console"),
        ("hardware_mocks/planted.py", "import serial\n", "cpmlab.hardware_mocks.planted -> serial"),
        ("devices/planted.py", "from PyQt6 import QtCore\n", "cpmlab.devices.planted -> PyQt6"),
        ("app/planted.py", "from cpmlab.testing import byte_exchange\n", "cpmlab.app.planted -> cpmlab.testing"),
        ("console/planted.py", "from cpmlab.drivers import tcs2\n", "cpmlab.console.planted -> cpmlab.drivers"),
        ("storage/planted.py", "from cpmlab.protocol import model\n", "cpmlab.storage.planted -> cpmlab.protocol"),
    ],
)
def test_planted_violations_break_a_contract(staged: Path, path: str, source: str, shown: str) -> None:
    """Each kind of forbidden import, planted in the copy, makes lint-imports fail and name it."""
    (staged / "cpmlab" / path).write_text(source)
    result = _run("lint", staged, staged=True)
    assert result.returncode != 0
    assert shown in result.stdout


def test_no_two_modules_import_each_other(tmp_path: Path) -> None:
    """No module imports another that (directly or through others) imports it back."""
    result = _run("cycles", tmp_path / "tree")
    assert result.returncode == 0, result.stdout + result.stderr


def test_cycle_check_finds_a_planted_ring(staged: Path) -> None:
    """The cycle check reports two modules that import each other."""
    (staged / "cpmlab" / "core" / "ring_a.py").write_text("from cpmlab.core import ring_b\n")
    (staged / "cpmlab" / "core" / "ring_b.py").write_text("from cpmlab.core import ring_a\n")
    result = _run("cycles", staged, staged=True)
    assert result.returncode != 0
    assert "cpmlab.core.ring_a, cpmlab.core.ring_b" in result.stdout


def test_runtime_code_never_imports_test_modules(staged: Path) -> None:
    """No runtime module imports tests/ (or a helper module the tests put on sys.path)."""
    result = _run("test-imports", staged, staged=True)
    assert result.returncode == 0, result.stdout
    (staged / "cpmlab" / "core" / "planted.py").write_text("import conftest\n")
    result = _run("test-imports", staged, staged=True)
    assert "cpmlab.core.planted -> conftest" in result.stdout


def test_every_package_directory_is_installed() -> None:
    """pyproject's package list names every folder with an __init__.py (drivers and mocks under cpmlab.)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    found = {
        "cpmlab." + ".".join(p.parent.relative_to(ROOT / "cpmlab").parts) if p.parent != ROOT / "cpmlab" else "cpmlab"
        for p in (ROOT / "cpmlab").rglob("__init__.py")
    }
    found |= {"cpmlab.drivers", "cpmlab.hardware_mocks", "cpmlab.protocols"}
    assert found <= declared, sorted(found - declared)
