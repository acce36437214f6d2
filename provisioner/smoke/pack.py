"""The packer of the training smoke test: ``smoke_test.py`` assembled from the modules of
``provisioner/smoke/script/`` (real, linted and type-checked Python).

Their standard-library imports are hoisted, imports between them dropped, and the
profile's smoke-test values are baked in as Python literals (through ``|py``) in place
of ``script/profile.py``'s defaults; each can be overridden on the script's command
line. ``provision render`` (``render/artifacts_smoke.py``) and the smoke runner both
take the script from here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from importlib import resources

from provisioner.profile import ResolvedProfile
from provisioner.smoke.script import MODULES
from provisioner.templating import render_template

_PACKAGE = "provisioner.smoke.script"


@dataclass(frozen=True)
class Section:
    """One module's code in the script: its docstring's first line and its body."""

    title: str
    code: str


@dataclass(frozen=True)
class ScriptSources:
    """What the template gets from the script modules: imports and sections."""

    imports: str
    sections: tuple[Section, ...]


def _split_module(name: str, source: str) -> tuple[list[ast.stmt], Section]:
    """The module's imports and its code without them (and without its docstring)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    drop: set[int] = set()
    imports: list[ast.stmt] = []
    title = name
    for index, node in enumerate(tree.body):
        docstring = (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if docstring:
            title = str(node.value.value).strip().splitlines()[0]  # type: ignore[attr-defined]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(node)
        else:
            continue
        drop.update(range(node.lineno - 1, (node.end_lineno or node.lineno)))
    kept = [line for i, line in enumerate(lines) if i not in drop]
    return imports, Section(title, "\n".join(kept).strip("\n"))


def _hoisted(imports: list[ast.stmt]) -> str:
    """The standard-library imports of every module, merged and sorted; imports of the
    script's own modules and ``__future__`` (the template has it) are dropped."""
    plain: set[str] = set()
    names: dict[str, set[str]] = {}
    for node in imports:
        if isinstance(node, ast.Import):
            plain.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "__future__" or node.module.startswith("provisioner"):
                continue
            names.setdefault(node.module, set()).update(a.name for a in node.names)
    lines = [f"import {name}" for name in sorted(plain)]
    lines += [f"from {mod} import {', '.join(sorted(names[mod]))}" for mod in sorted(names)]
    return "\n".join(lines)


@cache
def script_sources() -> ScriptSources:
    """The script modules, split into hoisted imports and sections, in ``MODULES`` order."""
    imports: list[ast.stmt] = []
    sections = []
    for name in MODULES:
        source = resources.files(_PACKAGE).joinpath(f"{name}.py").read_text("utf-8")
        module_imports, section = _split_module(name, source)
        imports += module_imports
        sections.append(section)
    return ScriptSources(_hoisted(imports), tuple(sections))


def smoke_template_values(resolved: ResolvedProfile, tool_version: str) -> dict[str, object]:
    """The profile values the smoke-test template reads, as plain data."""
    profile = resolved.profile
    smoke = profile.smoke_test
    return {
        "profile_name": profile.name,
        "framework": smoke.framework.value,
        "device": smoke.device.value,
        "steps": smoke.steps,
        "min_loss_drop": smoke.min_loss_drop,
        "require_accelerator": smoke.require_accelerator,
        "variables": dict(profile.environment.variables),
        "tool_version": tool_version,
    }


def smoke_script_text(resolved: ResolvedProfile, tool_version: str) -> str:
    """``smoke_test.py`` for this profile (Python 3.7+, stdlib and the framework only)."""
    sources = script_sources()
    return render_template(
        "smoke_test.py.j2",
        imports=sources.imports,
        body="\n\n\n".join(f"# --- {s.title}\n{s.code}" for s in sources.sections),
        **smoke_template_values(resolved, tool_version),
    )
