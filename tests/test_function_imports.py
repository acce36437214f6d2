"""Imports stay inside a function only where they buy start-up time
(docs/architecture.md, "Imports inside functions"): a function-level import of a
``provisioner`` module that the importing module already loads at module level,
directly or through what it imports, buys nothing and belongs at the top.

Read from the source with ``ast`` (module-level imports outside ``TYPE_CHECKING`` are
what runs at import time; importing a module runs its packages' ``__init__`` first)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "provisioner"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def targets(node: ast.Import | ast.ImportFrom, importer: str, package: bool) -> list[str]:
    """The provisioner modules an import statement loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            parts = importer.split(".")[: None if package else -1]
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join([*parts, *([node.module] if node.module else [])])
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    return [n for n in names if n.split(".")[0] == "provisioner"]


def top_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            yield from top_level(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            yield from top_level(node.body)


def graph() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, int]]]]:
    """Module-level imports of each module, and its imports inside functions (with lines)."""
    eager: dict[str, set[str]] = {}
    inner: dict[str, list[tuple[str, int]]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = path.name == "__init__.py"
        eager[name] = {t for n in top_level(tree.body) for t in targets(n, name, package)}
        inner[name] = [
            (t, node.lineno)
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(fn)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for t in targets(node, name, package)
        ]
    return eager, inner


def loaded_with(name: str, eager: dict[str, set[str]]) -> set[str]:
    """Every module importing ``name`` loads: its packages, its imports, theirs."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        parts = current.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += eager.get(current, ())
    return seen


def test_no_function_level_import_of_a_module_loaded_anyway() -> None:
    eager, inner = graph()
    needless = [
        f"{MODULES[name].relative_to(ROOT.parent)}:{line}: {target}"
        for name, imports in sorted(inner.items())
        for target, line in imports
        if target in loaded_with(name, eager)
    ]
    assert needless == [], "move these imports to the top of their module:\n" + "\n".join(needless)


def test_the_check_sees_what_a_module_loads() -> None:
    """Not vacuous: the modules found loaded include direct, indirect and package imports
    (process imports errors; apply.workflow reaches env through apply.run; a submodule
    loads its package)."""
    eager, inner = graph()
    assert "provisioner.errors" in loaded_with("provisioner.process", eager)
    assert "provisioner.env" in loaded_with("provisioner.apply.workflow", eager)
    assert "provisioner.apply" in loaded_with("provisioner.apply.steps", eager)
    assert any(inner.values())  # there are imports inside functions to judge
