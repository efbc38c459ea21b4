"""Seeded mutations of the shipped protocols: broken structure, hostile values and hostile YAML."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
PROTOCOL_DIR = Path(__file__).resolve().parents[2] / "protocols"

HOSTILE_NUMBERS: list[Any] = [".nan", ".inf", "-.inf", "1e308", "1e999", "-1e999", 10**400, -(10**30), 0, -1]
HOSTILE_EXPRESSIONS = [
    "${__import__('os').system('echo pwned')}",
    "${1/0}",
    "${9**9**9}",
    "${(1e308*1e308)}",
    "${round(1e308*10)}",
    "${max()}",
    "${round(ts_target_c, ndigits=1)}",
    "${" + "+".join(["ts_target_c"] * 400) + "}",
    "${" + "(" * 300 + "1" + ")" * 300 + "}",
    "${'a'*10}",
    "${ts_target_c.real}",
    "${[1]*10}",
    "${lambda: 1}",
    "${unknown_variable + 1}",
    "${True}",
    "${}",
    "${{}}",
]
HOSTILE_YAML = [
    # billion laughs: nine levels of nine aliases each
    "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
    "steps: !!python/object/apply:os.system ['echo pwned']\n",
    "name: !!python/name:os.system\n",
    "steps: " + "[" * 5000 + "]" * 5000 + "\n",
    "steps: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
    "? [a, b]\n: 1\n",
    "a: &x {b: *x}\n",
    "--- \n...\n--- {}\n",
    "\ufeff\x00\x01\x02binary",
    "%YAML 9.9\n--- x\n",
    "steps: [" + ", ".join(["{type: marker, name: m}"] * 30000) + "]\n",
]


def _shipped() -> list[tuple[str, Any]]:
    return [(p.name, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in sorted(PROTOCOL_DIR.glob("*.yaml"))]


def _paths(node: Any, base: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [base] if base else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*base, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*base, i))
    return out


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _wrong_type(rng: random.Random) -> Any:
    return rng.choice([None, True, "text", [], [1, 2], {}, {"type": "thermal"}, -5, 3.5, "${ts_target_c}"])


def _structural(rng: random.Random, data: Any) -> str:
    paths = _paths(data)
    path = rng.choice(paths)
    parent = _parent(data, path)
    key = path[-1]
    action = rng.randrange(6)
    if action == 0:  # delete a key or an item
        del parent[key]
    elif action == 1:
        parent[key] = _wrong_type(rng)
    elif action == 2:
        parent[key] = rng.choice(HOSTILE_NUMBERS)
    elif action == 3:
        parent[key] = rng.choice(HOSTILE_EXPRESSIONS)
    elif action == 4:
        parent[key] = "x" * rng.choice([1000, 100_000, 300_000])
    else:
        if isinstance(parent, dict):
            parent[f"{key}_extra"] = parent[key]
        else:
            parent.append(parent[key])
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, width=1 << 20)


def _textual(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    action = rng.randrange(6)
    if action == 0 and lines:  # duplicate a line: duplicate keys, doubled items
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    elif action == 1 and lines:
        del lines[rng.randrange(len(lines))]
    elif action == 2:
        return text[: rng.randrange(len(text) + 1)]
    elif action == 3:
        raw = bytearray(text.encode("utf-8"))
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return raw.decode("utf-8", errors="replace")
    elif action == 4 and lines:
        i = rng.randrange(len(lines))
        lines[i] = lines[i].replace(":", ": &anchor", 1) if rng.random() < 0.5 else "  " + lines[i]
    else:
        return text + rng.choice(HOSTILE_YAML)
    return "".join(lines)


def mutations(seed: int, count: int) -> Iterator[tuple[str, str]]:
    """Yield count (description, protocol text) pairs, the same for the same seed."""
    rng = random.Random(seed)
    shipped = _shipped()
    makers: list[Callable[[], tuple[str, str]]] = []

    def structural() -> tuple[str, str]:
        name, data = rng.choice(shipped)
        return f"structural mutation of {name}", _structural(rng, copy.deepcopy(data))

    def textual() -> tuple[str, str]:
        name, _ = rng.choice(shipped)
        text = (PROTOCOL_DIR / name).read_text(encoding="utf-8")
        return f"text mutation of {name}", _textual(rng, text)

    def hostile() -> tuple[str, str]:
        return "hostile YAML", rng.choice(HOSTILE_YAML)

    def junk() -> tuple[str, str]:
        return "binary junk", bytes(rng.randrange(256) for _ in range(rng.randint(1, 400))).decode("latin-1")

    makers = [structural] * 5 + [textual] * 3 + [hostile, junk]
    for _ in range(count):
        yield rng.choice(makers)()
