"""Read protocol YAML with bounded cost: size, nesting, node count and alias expansion are capped."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# A shipped protocol is a few kB; these caps leave two orders of magnitude of headroom while
# keeping the worst case (a hostile or corrupt file) well under a second and a few MB of memory.
MAX_PROTOCOL_BYTES = 256 * 1024
MAX_NESTING = 40
MAX_NODES = 20_000  # counted with every alias expanded, so an alias bomb cannot hide behind sharing

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SourceError(ValueError):
    """The YAML text cannot be accepted; carries the 1-based line where known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class YamlDocument:
    """A composed YAML document: the node tree (with lines) and the plain data built from it."""

    root: yaml.Node
    data: Any


def read_text(path: Path) -> str:
    """Read a protocol file as UTF-8, refusing devices, FIFOs, directories and oversized files unread."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SourceError("not a regular file (a protocol is a .yaml text file)")
    if info.st_size > MAX_PROTOCOL_BYTES:
        raise SourceError(f"the file is {info.st_size} bytes; a protocol may be at most {MAX_PROTOCOL_BYTES} bytes")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            raw = fh.read(MAX_PROTOCOL_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_PROTOCOL_BYTES:
        raise SourceError(f"the file is larger than {MAX_PROTOCOL_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError("not UTF-8 text", line) from None


def _yaml_error(exc: yaml.YAMLError) -> SourceError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return SourceError(f"not valid YAML: {problem}", mark.line + 1 if mark else 1)


def _check_shape(text: str) -> None:
    """Scan the event stream (no recursion, no building) and refuse deep nesting or too many nodes."""
    depth = 0
    for count, event in enumerate(yaml.parse(text, Loader=_Loader), start=1):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                raise SourceError(f"nested more than {MAX_NESTING} levels deep", event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if count > MAX_NODES:
            raise SourceError(f"more than {MAX_NODES} YAML values", event.start_mark.line + 1)


def _expanded_size(root: yaml.Node) -> int:
    """Count nodes as if every alias were copied out (capped); refuse an alias that contains itself."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # iterative post-order: a node's size once all its children have theirs
        node, children_done = stack.pop()
        if children_done:
            on_path.discard(id(node))
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[id(node)] = min(total, MAX_NODES + 1)
            continue
        if id(node) in sizes:
            continue
        if id(node) in on_path:
            raise SourceError("an alias refers to itself (endless structure)", node.start_mark.line + 1)
        on_path.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def parse_yaml(text: str) -> YamlDocument | None:
    """Compose and construct one YAML document safely; None for an empty document."""
    if len(text) > MAX_PROTOCOL_BYTES:
        raise SourceError(f"the text is longer than {MAX_PROTOCOL_BYTES} characters", 1)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SourceError("the text contains a NUL character (binary data?)", line)
    try:
        _check_shape(text)
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            if _expanded_size(root) > MAX_NODES:
                raise SourceError(f"aliases expand to more than {MAX_NODES} YAML values", root.start_mark.line + 1)
            data = loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    except (RecursionError, MemoryError):
        raise SourceError("the YAML structure is too large or too deep", 1) from None
    return YamlDocument(root=root, data=data)
