"""The experimenter console (PyQt6): set up, watch and control a session; review its summary."""

from __future__ import annotations

__all__ = ["DryRunOptions", "MainWindow"]


def __getattr__(name: str) -> object:
    if name == "MainWindow":
        from cpmlab.console.main_window import MainWindow

        return MainWindow
    if name == "DryRunOptions":
        from cpmlab.console.setup_view import DryRunOptions

        return DryRunOptions
    raise AttributeError(name)
