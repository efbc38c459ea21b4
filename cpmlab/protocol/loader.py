"""Load protocol YAML into the typed model; every error names file, line, field and range."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from cpmlab.core.errors import CpmlabError, LimitError
from cpmlab.core.limits import SafetyLimits
from cpmlab.protocol.model import LimitsModel, Protocol
from cpmlab.protocol.overrides import value_problems, with_values
from cpmlab.protocol.safety import check_protocol
from cpmlab.protocol.walk import fmt_path
from cpmlab.protocol.yaml_source import SourceError, parse_yaml, read_text

Path_ = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a protocol file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ProtocolError(CpmlabError):
    """A protocol file is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _lines(node: yaml.Node, path: Path_, out: dict[Path_, int], bad: list[tuple[Path_, int, str]]) -> None:
    """Record the 1-based line of every path in the YAML node tree; collect key errors in bad."""
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                bad.append((path, line, "a key must be a plain word, not a list or mapping"))
                continue
            if key in seen:
                bad.append(((*path, key), line, "key given twice"))
            seen.add(key)
            _lines(value_node, (*path, key), out, bad)
            out[(*path, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out, bad)


def _line_for(path: Path_, lines: dict[Path_, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _field_bounds(path: Path_, data: Any, root_model: Any = Protocol) -> list[str]:
    """Return the declared bounds of the model field at path (e.g. ['> 0', '<= 600'])."""
    model: Any = root_model
    node = data
    field = None
    for part in path:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            model = _model_for(field.annotation, node) if field is not None else None
            continue
        if model is None or part not in getattr(model, "model_fields", {}):
            return []
        field = model.model_fields[part]
        node = node.get(part) if isinstance(node, dict) else None
        model = _model_for(field.annotation, node)
    if field is None:
        return []
    bounds = []
    for meta in field.metadata:
        for attr, word in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            value = getattr(meta, attr, None)
            if value is not None:
                bounds.append(f"{word} {value:g}" if isinstance(value, float) else f"{word} {value}")
    return bounds


def _model_for(annotation: Any, node: Any) -> Any:
    """Find the pydantic model an annotation refers to (following lists and the step union)."""
    from typing import get_args

    from pydantic import BaseModel

    candidates = [annotation]
    seen = []
    while candidates:
        ann = candidates.pop()
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            seen.append(ann)
            continue
        candidates.extend(get_args(ann))
    if isinstance(node, dict) and "type" in node:
        for model in seen:
            field = model.model_fields.get("type")
            if field is not None and node["type"] in get_args(field.annotation):
                return model
    return seen[0] if len(seen) == 1 else None


def _constraint_hint(error: dict[str, Any], path: Path_, data: Any, root_model: Any = Protocol) -> str:
    ctx = error.get("ctx") or {}
    if error.get("type") == "literal_error" and "expected" in ctx:
        return f" (allowed: {ctx['expected']})"
    if not any(k in ctx for k in ("ge", "gt", "le", "lt")):
        return ""
    bounds = _field_bounds(path, data, root_model)
    if not bounds:
        bounds = [f"{w} {ctx[k]}" for k, w in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")) if k in ctx]
    return f" (allowed range: {' and '.join(bounds)})"


def _clean_loc(loc: tuple[Any, ...], data: Any) -> Path_:
    """Drop pydantic's union-tag entries (e.g. 'thermal') so the path matches the YAML."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part == node.get("type") and part not in node:
            continue  # discriminator tag inserted by pydantic; the YAML has no such level
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def _apply_overrides(protocol: Protocol, overrides: Mapping[str, Any], file: str, lines: dict[Path_, int]) -> Protocol:
    """Return the protocol with header variables replaced by overrides (e.g. --set); refuse unknown names."""
    problems = [
        Problem(file, _line_for(("variables", name), lines), "variables", f"--set {message}")
        for name, message in value_problems(protocol, overrides)
    ]
    if problems:
        raise ProtocolError(problems)
    return with_values(protocol, overrides)


def validate_yaml(
    text: str,
    file: str,
    model: type[M],
    kind: str = "protocol",
    error: type[ProtocolError] | None = None,
    fields_doc: str = "docs/protocols.md for the fields of each step",
) -> tuple[M, dict[Path_, int]]:
    """Parse YAML text (bounded, see yaml_source) into model; raise error listing every problem with its line."""
    error = error or ProtocolError
    try:
        document = parse_yaml(text)
    except SourceError as exc:
        raise error([Problem(file, exc.line, "", str(exc))]) from None
    if document is None:
        raise error([Problem(file, 1, "", "the file is empty")])
    lines: dict[Path_, int] = {}
    bad: list[tuple[Path_, int, str]] = []
    _lines(document.root, (), lines, bad)
    if bad:
        raise error([Problem(file, line, fmt_path(path), message) for path, line, message in bad])
    data = document.data
    if not isinstance(data, dict):
        raise error([Problem(file, 1, "", f"a {kind} file must be a mapping (key: value lines)")])
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = _clean_loc(tuple(err["loc"]), data)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = f"unknown field (check the spelling; see {fields_doc})"
            elif err["type"] == "union_tag_invalid":
                msg = (
                    f"unknown step type {err.get('ctx', {}).get('tag')!r}; allowed: "
                    f"{err.get('ctx', {}).get('expected_tags')}"
                )
            hint = _constraint_hint(err, path, data, model)
            problems.append(Problem(file, _line_for(path, lines), fmt_path(path), msg + hint))
        raise error(problems) from None


def line_of(path: Path_, lines: dict[Path_, int]) -> int | None:
    """Return the line of the YAML node at path, or of its nearest enclosing node."""
    return _line_for(path, lines)


def format_path(path: Path_) -> str:
    """Return a YAML path as text, e.g. visits[1].carry."""
    return fmt_path(path)


def parse_protocol(
    text: str,
    file: str = "<protocol>",
    lab_limits: SafetyLimits | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Protocol:
    """Parse and validate protocol text (with --set overrides); raise ProtocolError listing every problem."""
    protocol, lines = validate_yaml(text, file, Protocol)
    if overrides:
        protocol = _apply_overrides(protocol, overrides, file, lines)
    try:
        effective = effective_limits(protocol, lab_limits)
    except LimitError as exc:
        raise ProtocolError([Problem(file, _line_for(("limits",), lines), "limits", str(exc))]) from None
    problems = [
        Problem(file, _line_for(path, lines), fmt_path(path), msg) for path, msg in check_protocol(protocol, effective)
    ]
    if problems:
        raise ProtocolError(problems)
    return protocol


def load_protocol(
    path: str | Path, lab_limits: SafetyLimits | None = None, overrides: Mapping[str, Any] | None = None
) -> Protocol:
    """Load and validate a protocol file (with --set overrides); raise ProtocolError on any problem."""
    path = Path(path)
    try:
        text = read_text(path)
    except SourceError as exc:
        raise ProtocolError([Problem(str(path), exc.line, "", str(exc))]) from None
    return parse_protocol(text, str(path), lab_limits, overrides)


def effective_limits(protocol: Protocol, lab_limits: SafetyLimits | None) -> SafetyLimits:
    """Return the stricter of the protocol's and the lab's limits."""
    limits = protocol.limits.to_limits()
    return limits.stricter(lab_limits) if lab_limits is not None else limits


__all__ = [
    "LimitsModel",
    "Problem",
    "ProtocolError",
    "effective_limits",
    "format_path",
    "line_of",
    "load_protocol",
    "parse_protocol",
    "validate_yaml",
]
