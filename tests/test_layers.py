"""Architecture rules: lower layers never import higher ones; runtime code never imports tests or mocks."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# What the application layer may build on: everything below it.
APP_DEPS = {"core", "protocol", "devices", "participant", "engine", "storage", "lsl", "display", "labconfig"}

# package -> cpmlab packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "protocol": {"core"},
    "devices": {"core"},
    "participant": {"core"},
    "drivers": {"core", "devices"},
    "hardware_mocks": {"core", "devices"},
    "engine": {"core", "protocol", "devices", "participant"},
    "storage": {"core"},
    "lsl": {"core"},
    "scoring": {"core", "storage"},
    "display": {"core", "participant", "protocol"},
    "app": APP_DEPS,
    "study": APP_DEPS | {"app", "scoring", "protocols", "studies"},
    "console": APP_DEPS | {"app", "scoring", "protocols", "study", "studies"},
    "cli": APP_DEPS | {"app", "scoring", "protocols", "console", "study", "studies"},
}
SOURCE_DIRS = {"drivers": ROOT / "drivers", "hardware_mocks": ROOT / "hardware_mocks"}


def _package_dir(name: str) -> Path:
    return SOURCE_DIRS.get(name, ROOT / "cpmlab" / name)


def _cpmlab_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "cpmlab" and len(parts) > 1:
                out.add(parts[1])
            elif parts[0] in ("tests", "fakes", "conftest"):
                out.add("tests")
    return out


def test_each_layer_imports_only_the_layers_below_it() -> None:
    """No module imports a higher layer (e.g. engine never imports console, display or drivers)."""
    bad = []
    for package, allowed in ALLOWED.items():
        folder = _package_dir(package)
        if not folder.is_dir():
            continue
        for path in folder.rglob("*.py"):
            for imported in _cpmlab_imports(path) - allowed - {package, "__init__"}:
                if imported in ("__version__",):
                    continue
                bad.append(f"{path.relative_to(ROOT)} imports cpmlab.{imported}")
    assert bad == []


def test_runtime_code_never_imports_tests_or_mocks() -> None:
    """Nothing under cpmlab/ or drivers/ imports tests, and only plugins load hardware_mocks."""
    bad = []
    for folder in (ROOT / "cpmlab", ROOT / "drivers"):
        for path in folder.rglob("*.py"):
            imports = _cpmlab_imports(path)
            if "tests" in imports or "hardware_mocks" in imports:
                bad.append(str(path.relative_to(ROOT)))
    assert bad == []


def test_every_package_directory_is_installed() -> None:
    """pyproject's package list names every folder with an __init__.py (drivers and mocks under cpmlab.)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared = set(config["packages"])
    found = {
        "cpmlab." + ".".join(p.parent.relative_to(ROOT / "cpmlab").parts) if p.parent != ROOT / "cpmlab" else "cpmlab"
        for p in (ROOT / "cpmlab").rglob("__init__.py")
    }
    found |= {"cpmlab.drivers", "cpmlab.hardware_mocks", "cpmlab.protocols", "cpmlab.studies"}
    assert found <= declared, sorted(found - declared)
