"""What the console's add-ons (study view, operator bar) may use of the main window."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PyQt6.QtWidgets import QMenuBar, QStackedWidget, QToolBar

    from cpmlab.console.environment import Environment
    from cpmlab.console.setup_view import SetupView
    from cpmlab.console.tasks import BackgroundTasks


class ConsoleWindow(Protocol):
    """The parts of the main window an add-on reaches: tasks, the view stack, setup, environment, state."""

    tasks: BackgroundTasks
    stack: QStackedWidget
    setup_view: SetupView
    env: Environment | None
    state: str

    def addToolBar(self, toolbar: QToolBar) -> None:  # noqa: N802 - Qt's name
        """Add a toolbar to the window."""

    def menuBar(self) -> QMenuBar:  # noqa: N802 - Qt's name
        """Return the window's menu bar."""
