"""Check cpmlab's import contracts and look for import cycles, on the installed package layout.

``drivers/``, ``hardware_mocks/`` and ``protocols/`` sit at the top of the repository but
install as ``cpmlab.drivers``, ``cpmlab.hardware_mocks`` and ``cpmlab.protocols`` (see
pyproject's package-dir). import-linter and grimp read packages from the file system, so
this script first copies the source into that installed layout (``build/import-graph`` by
default), then runs on the copy:

    python scripts/import_graph.py lint          # lint-imports with the contracts in pyproject.toml
    python scripts/import_graph.py cycles        # list every set of modules that import each other
    python scripts/import_graph.py test-imports  # list runtime modules that import a test module

``--tree DIR`` stages into DIR instead; ``--staged`` reuses what is already there.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TREE = ROOT / "build" / "import-graph"


def stage(tree: Path = DEFAULT_TREE) -> Path:
    """Copy cpmlab and its package-dir folders into tree/ in the installed layout; return tree."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_dir: dict[str, str] = config["tool"]["setuptools"]["package-dir"]
    if tree.exists():
        shutil.rmtree(tree)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / package_dir.get("cpmlab", "cpmlab"), tree / "cpmlab", ignore=ignore)
    for package, folder in sorted(package_dir.items()):
        if package == "cpmlab":
            continue
        shutil.copytree(ROOT / folder, tree.joinpath(*package.split(".")), ignore=ignore, dirs_exist_ok=True)
    return tree


def lint(tree: Path) -> int:
    """Run lint-imports on tree with the contracts in pyproject.toml; return its exit code."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    command = [str(lint_imports), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")]
    # lint-imports puts its working directory first on sys.path, so it finds the copy.
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(command, cwd=tree, env=env, check=False).returncode


def cycles(tree: Path, package: str = "cpmlab") -> list[list[str]]:
    """Return every group of package's modules that import each other (directly or in a ring)."""
    sys.path.insert(0, str(tree))
    import grimp

    graph = grimp.build_graph(package)
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    return [sorted(group) for group in _strongly_connected(modules, edges) if len(group) > 1]


def test_imports(tree: Path, package: str = "cpmlab") -> list[str]:
    """Return 'module -> name' for every import of a tests/ module by package's runtime code."""
    test_names = {"tests"} | {p.stem for p in (ROOT / "tests").rglob("*.py")} - {"__init__"}
    sys.path.insert(0, str(tree))
    import grimp

    graph = grimp.build_graph(package, include_external_packages=True)
    found = []
    for module in sorted(graph.modules):
        if not module.startswith(package + ".") or module.startswith(f"{package}.testing"):
            continue
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported in test_names:
                found.append(f"{module} -> {imported}")
    return found


def _strongly_connected(nodes: list[str], edges: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the strongly connected components of the graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    for start in nodes:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if i < len(targets):
                work.append((node, i + 1))
                target = targets[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(groups)


def main(argv: list[str] | None = None) -> int:
    """Stage the tree, then run the contracts or the cycle check; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("check", choices=["lint", "cycles", "test-imports"])
    parser.add_argument("--tree", type=Path, default=DEFAULT_TREE, help="stage the installed layout here")
    parser.add_argument("--staged", action="store_true", help="check the tree as it is, without staging it again")
    args = parser.parse_args(argv)
    tree = args.tree if args.staged else stage(args.tree)
    if args.check == "lint":
        return lint(tree)
    if args.check == "test-imports":
        bad = test_imports(tree)
        for line in bad:
            print(f"runtime code imports a test module: {line}")
        return 1 if bad else 0
    found = cycles(tree)
    for group in found:
        print("modules that import each other: " + ", ".join(group))
    print(f"{len(found)} import cycle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
