"""Event field and kind declarations: a typed field (name, type, unit, column) and a kind's field table.

The declarations themselves live in cpmlab.core.vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cpmlab.core.errors import CpmlabError

NUM: tuple[type, ...] = (int, float)
INT: tuple[type, ...] = (int,)
STR: tuple[type, ...] = (str,)
BOOL: tuple[type, ...] = (bool,)
LIST: tuple[type, ...] = (list, tuple)
DICT: tuple[type, ...] = (dict,)
ANY: tuple[type, ...] = (object,)
_TYPE_NAMES = {NUM: "number", INT: "integer", STR: "text", BOOL: "true/false", LIST: "list", DICT: "object"}


class EventFieldError(CpmlabError):
    """An event carries a field its kind does not declare, or a value of the wrong type."""


@dataclass(frozen=True)
class Field:
    """One field of an event kind: name, accepted Python types, unit and meaning."""

    name: str
    types: tuple[type, ...]
    unit: str | None
    description: str
    column: str | None = None  # the _events.tsv column this field is written to
    marker: bool = True  # carried on the LSL marker

    @property
    def type_name(self) -> str:
        """Return a readable name of the field's type."""
        return _TYPE_NAMES.get(self.types, "any")

    def accepts(self, value: Any) -> bool:
        """Return whether value has this field's type (None always: a field may be unknown)."""
        if value is None or self.types == ANY:
            return True
        if isinstance(value, bool) and self.types != BOOL:
            return False
        return isinstance(value, self.types)


@dataclass(frozen=True)
class Kind:
    """One event kind and the fields it may carry."""

    name: str
    description: str
    fields: tuple[Field, ...]
    sample: bool = False  # high-rate stream: the journal fsyncs these in groups, LSL sends them as signals

    @property
    def field_names(self) -> tuple[str, ...]:
        """Return the declared field names in declaration order."""
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        """Return the declaration of one field, or raise EventFieldError."""
        for f in self.fields:
            if f.name == name:
                return f
        raise EventFieldError(f"event kind {self.name!r} has no field {name!r}")

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def check(self, data: Mapping[str, Any]) -> None:
        """Raise EventFieldError if data has an undeclared field or a value of the wrong type."""
        declared = self._by_name
        unknown = sorted(k for k in data if k not in declared)
        if unknown:
            raise EventFieldError(
                f"event kind {self.name!r} does not declare field(s) {', '.join(unknown)}; "
                f"declared: {', '.join(declared)}"
            )
        for name, value in data.items():
            if not declared[name].accepts(value):
                raise EventFieldError(
                    f"event {self.name!r} field {name!r} must be {declared[name].type_name}, "
                    f"not {type(value).__name__} ({value!r})"
                )
