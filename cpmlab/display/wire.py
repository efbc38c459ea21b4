"""Check JSON values against the typed message and screen-spec dataclasses, both ways.

One generic codec for every message of the display protocol: a dataclass becomes a JSON
object of its fields; a JSON object becomes that dataclass only if every field is present (or
has a default), no field is unknown and every value has the declared type. Anything else is
a MessageError naming the field, so a malformed message is refused before it changes state.
"""

from __future__ import annotations

import dataclasses
import math
import types
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints


class MessageError(ValueError):
    """A frame that is not a valid message of the display protocol."""


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _kind_values(cls: type) -> tuple[Any, ...]:
    """Return the values a dataclass's `kind` field may take (empty if it has no Literal kind)."""
    hint = _hints(cls).get("kind")
    return get_args(hint) if get_origin(hint) is Literal else ()


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _union(value: Any, options: tuple[Any, ...], where: str) -> Any:
    if value is None and type(None) in options:
        return None
    choices = [o for o in options if o is not type(None)]
    tagged = [o for o in choices if dataclasses.is_dataclass(o) and _kind_values(o)]
    if tagged and len(tagged) == len(choices):  # a tagged union: the kind picks the class
        kind = value.get("kind") if isinstance(value, dict) else None
        for option in tagged:
            if kind in _kind_values(option):
                return from_json(option, value, where)
        known = sorted(str(k) for option in tagged for k in _kind_values(option))
        raise MessageError(f"{where}: unknown kind {_describe(kind)}; known: {', '.join(known)}")
    problems = []
    for option in choices:
        try:
            return check(value, option, where)
        except MessageError as exc:
            problems.append(str(exc))
    raise MessageError(problems[0] if len(problems) == 1 else f"{where}: {_describe(value)} fits no allowed type")


def check(value: Any, hint: Any, where: str) -> Any:
    """Return value converted to the type hint (lists to tuples, objects to dataclasses), or raise."""
    origin = get_origin(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        return _union(value, get_args(hint), where)
    if origin is Literal:
        if any(value == option and type(value) is type(option) for option in get_args(hint)):
            return value
        raise MessageError(f"{where} must be one of {', '.join(map(repr, get_args(hint)))}, not {_describe(value)}")
    if hint is type(None):
        if value is None:
            return None
        raise MessageError(f"{where} must be null, not {_describe(value)}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise MessageError(f"{where} must be true or false, not {_describe(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise MessageError(f"{where} must be a whole number, not {_describe(value)}")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise MessageError(f"{where} must be a finite number, not {_describe(value)}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise MessageError(f"{where} must be text, not {_describe(value)}")
    if origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise MessageError(f"{where} must be a list, not {_describe(value)}")
        args = get_args(hint)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise MessageError(f"{where} must have {len(args)} items, not {len(value)}")
            return tuple(check(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
        item = args[0] if args else Any
        items = [check(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise MessageError(f"{where} must be an object, not {_describe(value)}")
        item = get_args(hint)[1] if get_args(hint) else Any
        return {k: check(v, item, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return from_json(hint, value, where)
    raise TypeError(f"the display codec cannot check {hint!r} at {where}")  # a programming error, not input


def from_json(cls: type[Any], value: Any, where: str) -> Any:
    """Build the dataclass cls from a JSON object, refusing unknown, missing and mistyped fields."""
    if not isinstance(value, dict):
        raise MessageError(f"{where} must be an object, not {_describe(value)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise MessageError(f"{where}: unknown field(s) {', '.join(unknown)}")
    hints = _hints(cls)
    kwargs = {}
    for name, field in fields.items():
        if name in value:
            kwargs[name] = check(value[name], hints[name], f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise MessageError(f"{where}: missing field {name}")
    return cls(**kwargs)


def to_json(obj: Any) -> Any:
    """Turn a dataclass (and the lists, tuples and dicts in it) into plain JSON values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    return obj
