"""The one packer: modules of this package made into one self-contained program.

Both programs that run on a target's own Python are packed here: ``smoke_test.py``
(``target/smoke/``) and the bootstrap scripts' helper (``fingerprint``,
``activation_files``, ``journal``, ``bootstrap``). Each module's docstring becomes its
section's title, its imports are hoisted (standard library only, merged and sorted),
imports between the packed modules are dropped (the program is one namespace), and an
``if __name__ == "__main__":`` block is left out (the program brings its own).

What would break the packed program is refused here, at render time: an import of
anything else from ``provisioner``, a name two modules both define, non-ASCII text
(the program is embedded in scripts that Windows PowerShell 5.1 reads in its ANSI code
page), a line a here-document or here-string would end at.

The packer itself runs in provision (at render time), never on a target; it keeps to
the package's Python 3.7 syntax all the same, so the package has one lint target.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable, Sequence

PACKAGE = "provisioner.target"
# Lines that would end the here-document (bootstrap.sh) or here-string (bootstrap.ps1)
# a packed program is embedded in.
TERMINATORS = ("PYEOF", "'@")


@dataclass(frozen=True)
class Section:
    """One module's code in the program: its docstring's first line and its body."""

    title: str
    code: str


@dataclass(frozen=True)
class Packed:
    """The program's hoisted imports and its sections, in the order packed."""

    imports: str
    sections: tuple[Section, ...]

    def body(self) -> str:
        """The sections, each under a ``# --- title`` line."""
        return "\n\n\n".join("# --- %s\n%s" % (s.title, s.code) for s in self.sections)

    def program(self, prologue: str = "", epilogue: str = "") -> str:
        """A whole program: ``from __future__``, the imports, ``prologue``, the sections
        and ``epilogue`` (its entry point)."""
        parts = ["from __future__ import annotations", self.imports, prologue, self.body()]
        parts.append(epilogue)
        return "\n\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"


class PackError(ValueError):
    """A module cannot be packed: the reason names the module and what is wrong."""


def _source(module: str) -> str:
    parts = module.split(".")
    folder = resources.files(PACKAGE)
    for part in parts[:-1]:
        folder = folder.joinpath(part)
    return folder.joinpath(parts[-1] + ".py").read_text("utf-8")


def _is_main_guard(node: ast.stmt) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def _defined(node: ast.stmt) -> list[str]:
    """The top-level names a statement binds (what two modules must not share)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    return [t.id for t in targets if isinstance(t, ast.Name)]


def _split(module: str, source: str, allowed: Iterable[str]) -> tuple[list[ast.stmt], Section]:
    """The module's imports and its code without them, its docstring and main guard."""
    tree = ast.parse(source)
    lines = source.splitlines()
    drop: set[int] = set()
    imports: list[ast.stmt] = []
    title = module
    for index, node in enumerate(tree.body):
        end = node.end_lineno or node.lineno
        if (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            title = node.value.value.strip().splitlines()[0]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            _check_import(module, node, allowed)
            imports.append(node)
        elif not _is_main_guard(node):
            continue
        drop.update(range(node.lineno - 1, end))
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return imports, Section(title, "\n".join(kept).strip("\n"))


def _check_import(module: str, node: ast.stmt, allowed: Iterable[str]) -> None:
    """Only the standard library, ``__future__`` and the other packed modules."""
    names = (
        [a.name for a in node.names]
        if isinstance(node, ast.Import)
        else [node.module or ""]
        if isinstance(node, ast.ImportFrom)
        else []
    )
    for name in names:
        if name == "provisioner" or name.startswith("provisioner."):
            inner = name[len(PACKAGE) + 1 :] if name.startswith(PACKAGE + ".") else None
            if inner is None or inner not in allowed or isinstance(node, ast.Import):
                raise PackError(
                    "%s imports %s: a packed module may import only the standard library "
                    "and, with `from ... import`, the modules packed with it" % (module, name)
                )


def _hoisted(imports: Iterable[ast.stmt]) -> str:
    """Every module's standard-library imports, merged and sorted."""
    plain: set[str] = set()
    names: dict[str, set[str]] = {}
    for node in imports:
        if isinstance(node, ast.Import):
            plain.update(
                a.name if a.asname is None else "%s as %s" % (a.name, a.asname) for a in node.names
            )
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "__future__" or node.module.startswith("provisioner"):
                continue
            names.setdefault(node.module, set()).update(a.name for a in node.names)
    lines = ["import %s" % name for name in sorted(plain)]
    lines += ["from %s import %s" % (m, ", ".join(sorted(names[m]))) for m in sorted(names)]
    return "\n".join(lines)


@lru_cache(maxsize=None)
def pack(modules: Sequence[str], provided: Sequence[str] = ()) -> Packed:
    """Pack ``modules`` (dotted names under ``provisioner.target``, in program order: a
    module uses at import time only names of the ones before it). ``provided`` names
    modules whose names the program defines itself (``smoke.profile``: the profile's
    values), which the packed modules may import from."""
    allowed = set(modules) | set(provided)
    imports: list[ast.stmt] = []
    sections = []
    owner: dict[str, str] = {}
    for module in modules:
        source = _source(module)
        if not source.isascii():
            raise PackError("%s: non-ASCII text cannot be packed (write \\uXXXX)" % module)
        module_imports, section = _split(module, source, allowed)
        for line in section.code.splitlines():
            if line.rstrip() in TERMINATORS or line.startswith("'@"):
                raise PackError(
                    "%s: the line %r would end the script's here-document" % (module, line)
                )
        for node in ast.parse(section.code).body:
            for name in _defined(node):
                if owner.setdefault(name, module) != module:
                    raise PackError(
                        "%s and %s both define %s: the packed program is one "
                        "namespace" % (owner[name], module, name)
                    )
        imports += module_imports
        sections.append(section)
    return Packed(_hoisted(imports), tuple(sections))
