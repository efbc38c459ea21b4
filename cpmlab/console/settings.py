"""Per-user console settings (last protocol, devices, screen, data folder) as a small JSON file."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)

SETTINGS_ENV = "CPMLAB_CONSOLE_SETTINGS"


@dataclass
class ConsoleSettings:
    """What the console remembers between sessions."""

    protocol: str | None = None  # file path of the last protocol
    devices: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> {"driver": ..., "port": ...}
    data_folder: str | None = None
    display_screen: int = 0
    fullscreen: bool = True
    simulate: bool = False
    lsl: bool = True
    record: bool = False
    operator: str = ""


def settings_path() -> Path:
    """Return the settings file: $CPMLAB_CONSOLE_SETTINGS, else the user's config dir."""
    env = os.environ.get(SETTINGS_ENV)
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("cpmlab")) / "console.json"


def load_settings(path: Path | None = None) -> ConsoleSettings:
    """Load settings; unknown keys are ignored and an unreadable file gives the defaults."""
    path = path or settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ConsoleSettings()
    except (OSError, ValueError) as exc:
        log.warning("console settings %s unreadable (%s); using defaults", path, exc)
        return ConsoleSettings()
    if not isinstance(data, dict):
        return ConsoleSettings()
    known = {f.name for f in fields(ConsoleSettings)}
    try:
        return ConsoleSettings(**{k: v for k, v in data.items() if k in known})
    except TypeError:
        return ConsoleSettings()


def save_settings(settings: ConsoleSettings, path: Path | None = None) -> Path:
    """Write settings atomically (temporary file, then rename)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(asdict(settings), indent=2, sort_keys=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def as_dict(settings: ConsoleSettings) -> dict[str, Any]:
    """Return settings as a plain dict."""
    return asdict(settings)
