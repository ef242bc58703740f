"""The floors of the code (README, "Map of the code"): each package imports only the
floors below it, no two files import each other in a circle, and the core imports
neither Prefect nor torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ["adforge", "models", "tasks", "flows", "deployments", "adforge_app"]


def source_files(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py")
                  if "migrations" not in path.parts)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, at any depth (`from a import b` gives `a` and `a.b`)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def import_graph() -> dict[str, set[str]]:
    """Our modules and the modules of ours each one imports."""
    modules = {module_name(path): path for path in source_files(*FLOORS)}
    return {name: {other for other in imported_names(path) if other in modules and other != name}
            for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_file_imports_a_higher_floor() -> None:
    upward = []
    for path in source_files(*FLOORS):
        own = FLOORS.index(path.relative_to(ROOT).parts[0])
        for name in imported_names(path):
            root = name.split(".")[0]
            if root in FLOORS and FLOORS.index(root) > own:
                upward.append(f"{path.relative_to(ROOT)} imports {name}")
    assert upward == []


def test_no_import_circle() -> None:
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("heavy", ["prefect", "torch"])
def test_the_core_imports_neither_prefect_nor_torch(heavy: str) -> None:
    """Every `adforge` module imported in a fresh interpreter leaves `heavy` unloaded."""
    modules = [module_name(path) for path in source_files("adforge")]
    script = "\n".join([*(f"import {name}" for name in modules),
                        "import sys",
                        f"print(sorted(m for m in sys.modules if m.split('.')[0] == {heavy!r}))"])
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout[:500]
    assert len(modules) > 20  # the walk found the core
