"""Console tests: need a display (run under Xvfb); settings and data go to temporary folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from console_helpers import SPEED

from cpmlab.console.main_window import MainWindow
from cpmlab.console.setup_view import DryRunOptions

HAS_DISPLAY = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))
NO_DISPLAY = "the console tests need a display: run them under Xvfb (xvfb-run -a .venv/bin/pytest tests/console)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAS_DISPLAY:
        return
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents and "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.skip(reason=NO_DISPLAY))


@pytest.fixture
def console_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the console's settings file at a temporary folder."""
    path = tmp_path / "console-settings" / "console.json"
    monkeypatch.setenv("CPMLAB_CONSOLE_SETTINGS", str(path))
    return path


@pytest.fixture
def window(qtbot, console_settings: Path) -> Iterator[MainWindow]:
    """A console window with emulated devices and a simulated participant preselected."""
    win = MainWindow(DryRunOptions(emulate=True, simulate=True, speed=SPEED))
    win.confirm = lambda title, text: True  # type: ignore[method-assign]  # dialogs are tested by hand
    qtbot.addWidget(win)
    with qtbot.waitExposed(win):
        win.show()
    qtbot.waitUntil(lambda: win.setup_view.ready, timeout=10_000)
    yield win
    if win.worker is not None and win.worker.is_alive():
        win.emergency_stop("test teardown")
        win.worker.wait(15)
    win.tasks.wait_idle(10)
