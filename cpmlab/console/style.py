"""Colours, fonts and the style sheet shared by the console's views."""

from __future__ import annotations

RED = "#c62828"
RED_DARK = "#8e0000"
GREEN = "#2e7d32"
AMBER = "#f9a825"
BLUE = "#1565c0"
GREY = "#757575"
HEAT = "#e65100"
COLD = "#0277bd"
RATING = "#6a1b9a"

STATE_COLOURS = {
    "setup": ("#37474f", "white"),
    "preparing": (BLUE, "white"),
    "running": (GREEN, "white"),
    "paused": (AMBER, "black"),
    "stopping": (RED, "white"),
    "finished": ("#37474f", "white"),
}

OUTCOME_COLOURS = {
    "completed": (GREEN, "white"),
    "aborted": (AMBER, "black"),
    "emergency_stopped": (RED, "white"),
    "fault": (RED, "white"),
    "failed": (RED, "white"),
    "not started": (RED, "white"),
}

DEVICE_STATE_COLOURS = {
    "idle": ("#e0e0e0", "#212121"),
    "testing": ("#bbdefb", "#0d47a1"),
    "ok": ("#c8e6c9", "#1b5e20"),
    "connected": ("#c8e6c9", "#1b5e20"),
    "stale": ("#ffe082", "#4e342e"),
    "fault": (RED, "white"),
    "closed": ("#e0e0e0", "#212121"),
}

ZONE_COLOURS = ("#d84315", "#f9a825", "#6a1b9a", "#2e7d32", "#1565c0")

ESTOP_STYLE = f"""
QPushButton#estop {{
    background: {RED}; color: white; font-size: 22px; font-weight: 800;
    border: 4px solid {RED_DARK}; border-radius: 10px; padding: 6px 18px;
}}
QPushButton#estop:hover {{ background: #d32f2f; }}
QPushButton#estop:pressed {{ background: {RED_DARK}; }}
QPushButton#estop:disabled {{ background: #ef9a9a; color: #fbe9e7; border-color: #e57373; }}
"""

APP_STYLE = (
    ESTOP_STYLE
    + f"""
QLabel#stateBanner {{ font-size: 18px; font-weight: 700; padding: 6px 12px; border-radius: 6px; }}
QLabel#nowLabel {{ font-size: 20px; font-weight: 700; padding: 8px 12px; border-radius: 6px; }}
QLabel#nextLabel {{ font-size: 16px; padding: 4px 12px; }}
QLabel#clockLabel {{ font-size: 17px; font-family: monospace; padding: 4px 12px; }}
QLabel#fieldError {{ color: {RED}; }}
QLabel#stemLabel {{ font-family: monospace; color: #37474f; }}
QLabel#outcomeBanner {{ font-size: 22px; font-weight: 800; padding: 10px 14px; border-radius: 6px; }}
QLabel#deviceState {{ font-weight: 700; padding: 3px 8px; border-radius: 4px; }}
QLabel#deviceTemp {{ font-size: 18px; font-family: monospace; }}
QPushButton#startButton {{
    background: {GREEN}; color: white; font-size: 17px; font-weight: 700; padding: 8px 22px; border-radius: 6px;
}}
QPushButton#startButton:disabled {{ background: #a5d6a7; color: #f1f8e9; }}
QPushButton[role="control"] {{ font-size: 15px; padding: 8px 16px; }}
QLineEdit[invalid="true"] {{ border: 2px solid {RED}; background: #ffebee; }}
QGroupBox {{ font-weight: 700; }}
"""
)


def pill(background: str, foreground: str) -> str:
    """Return a style sheet for a coloured label."""
    return f"background: {background}; color: {foreground};"
