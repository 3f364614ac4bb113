"""The house rules of docs/architecture.md, checked on the source: no import cycle in
``reconciler/`` (module level or inside functions), a core that imports no I/O framework or
outer layer, every exception class in ``errors.py``, and no module much over 400 lines."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"
#: The core turns text into states and states into plans: no I/O framework, no outer layer.
CORE = ("reconciler.model", "reconciler.config", "reconciler.plan")
FORBIDDEN_IN_CORE = (
    "click",
    "httpx",
    "sqlite3",
    "reconciler.render",
    "reconciler.backends",
    "reconciler.cli",
    "reconciler.sandbox",
    "reconciler.apply",
)
#: A module that passes this many lines is usually two ideas (STYLE.md).
MAX_LINES = 420


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(path: Path, name: str) -> Iterator[str]:
    """Every module ``path`` imports, at any depth of its code (TYPE_CHECKING blocks too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def graph() -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (a name imported from a package that
    is a module counts as that module; one that is a value counts as the package)."""
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = {t for t in imports(path, name) if t in known and t != name}
        # "from reconciler.plan import build": the package, not a module named build
        edges[name] = {t for t in targets if not name.startswith(t + ".")}
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_package_has_no_import_cycle() -> None:
    assert find_cycle(graph()) is None, " -> ".join(find_cycle(graph()) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def in_core(name: str) -> bool:
    """Whether module ``name`` is one of the core's (``reconciler.planning`` is not)."""
    return any(name == core or name.startswith(core + ".") for core in CORE)


@pytest.mark.parametrize("name", sorted(filter(in_core, modules())))
def test_the_core_imports_no_framework_and_no_outer_layer(name: str) -> None:
    found = sorted(
        target
        for target in set(imports(modules()[name], name))
        if any(target == f or target.startswith(f + ".") for f in FORBIDDEN_IN_CORE)
    )
    assert not found, f"{name} imports {found}"


def test_every_exception_class_lives_in_errors_py() -> None:
    """A private one (a leading underscore: a control-flow signal that never leaves its
    module, such as the fast path giving up) is the one exception."""
    elsewhere = []
    for name, path in modules().items():
        if name == "reconciler.errors":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ClassDef)
                and not node.name.startswith("_")
                and any(
                    isinstance(base, ast.Name) and base.id.endswith(("Error", "Exception"))
                    for base in node.bases
                )
            ):
                elsewhere.append(f"{name}.{node.name}")
    assert not elsewhere


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_two_ideas_by_size(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"
