"""Settings of `cpmlab mock NAME --set KEY=VALUE`: an emulator's scalar options, typed from its constructor."""

from __future__ import annotations

import inspect
import math
import types
import typing
from collections.abc import Callable
from typing import Any

from cpmlab.core.errors import CpmlabError

SCALARS = (bool, int, float, str)
_HANDLED = {"time_scale", "fault", "tcp"}  # set by --speed, --fault and --tcp
_TRUE, _FALSE = {"true", "on", "yes", "1"}, {"false", "off", "no", "0"}


def settable_options(start: Callable[..., Any]) -> dict[str, type]:
    """Return the options an emulator's start() passes to its constructor that take one scalar, with their type."""
    try:
        emulator_class = typing.get_type_hints(start).get("return")
        hints = typing.get_type_hints(emulator_class.__init__) if inspect.isclass(emulator_class) else {}
    except Exception:  # an annotation that cannot be resolved: nothing can be set
        return {}
    options: dict[str, type] = {}
    for name, hint in hints.items():
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        scalar = args[0] if is_union and len(args) == 1 else hint
        if name != "return" and name not in _HANDLED and scalar in SCALARS:
            options[name] = scalar
    return options


def parse_settings(name: str, start: Callable[..., Any], settings: list[str]) -> dict[str, Any]:
    """Return the --set KEY=VALUE settings as typed options, or raise CpmlabError naming what is wrong."""
    allowed = settable_options(start)
    listed = ", ".join(f"{key} ({kind.__name__})" for key, kind in sorted(allowed.items())) or "none"
    options: dict[str, Any] = {}
    for setting in settings:
        key, sep, text = setting.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise CpmlabError(f"--set {setting!r}: expected KEY=VALUE")
        if key not in allowed:
            raise CpmlabError(f"the {name} emulator has no setting {key!r}; settable: {listed}")
        options[key] = _typed(key, text.strip(), allowed[key])
    return options


def _typed(key: str, text: str, kind: type) -> Any:
    if kind is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise CpmlabError(f"--set {key}={text}: expected true or false")
    if kind is str:
        return text
    try:
        value = kind(text)
    except ValueError:
        raise CpmlabError(f"--set {key}={text}: expected a number ({kind.__name__})") from None
    if not math.isfinite(value):
        raise CpmlabError(f"--set {key}={text}: expected a finite number")
    return value
