"""``environment.variables`` wherever the environment is activated, not only in the
smoke test: the device the smoke test proved is the device the user's job gets.

- venv: a block at the end of ``bin/activate``, ``activate.fish`` and
  ``Activate.ps1``/``activate.ps1`` (``Scripts/`` on Windows) sets them, and a block
  inside each script's ``deactivate`` puts back what was there before (or unsets
  them). ``activate.bat`` is not changed.
- conda prefix: conda's own mechanism, ``conda-meta/state`` ``env_vars`` (what
  ``conda env config vars set`` writes; conda sets them on activate and unsets them
  on deactivate), and ``etc/conda/activate.d`` + ``deactivate.d`` scripts for sh,
  fish, PowerShell and cmd, which conda, mamba and micromamba all run.

Every block sits between marker lines, so writing again replaces it and an empty
``variables`` removes it. :func:`activation_current` says whether the files already
hold what :func:`write_activation` would write (a no-op apply leaves them alone).
The blocks and files are data (:func:`activation_data`);
``provisioner/target/activation_files.py`` writes them, here and in the bootstrap
scripts (packed into their helper, run with the environment's own Python).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from provisioner.atomic import write_atomic
from provisioner.errors import ProvisionError
from provisioner.target import activation_files

BEGIN = ">>> provision: environment.variables >>>"
END = "<<< provision: environment.variables <<<"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SCRIPT = "provision-env-vars"
OURS = "provision_env_vars"
# Our blocks, wherever they are (Python and .NET read this pattern the same way).
STRIP = r"(?s)[ \t]*(?:#|rem|::) " + re.escape(BEGIN) + r".*?" + re.escape(END) + r"\r?\n"

Variables = Mapping[str, str]


def _checked(variables: Variables) -> list[tuple[str, str]]:
    for key in variables:
        if not NAME.match(key):
            raise ProvisionError(
                f"environment.variables: {key!r} is not a valid environment variable name",
                hint="use letters, digits and '_', not starting with a digit",
            )
    return sorted(variables.items())


def _fish(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ps(value: str) -> str:
    """The render's PowerShell quoting: pure ASCII, so Windows PowerShell 5.1 reading the
    script in the ANSI code page cannot end the literal at a quote look-alike."""
    from provisioner.templating import quote_ps

    return quote_ps(value)


def _block(lines: list[str], comment: str = "#", indent: str = "") -> str:
    body = [f"{indent}{comment} {BEGIN}", *(f"{indent}{x}" for x in lines)]
    return "\n".join([*body, f"{indent}{comment} {END}"]) + "\n"


# Per shell: (lines that set the variables, lines that restore them on deactivate).
def _sh(items: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    on, off = [], []
    for k, v in items:
        on += [
            f'if [ -n "${{{k}+_}}" ]; then _PROVISION_OLD_{k}="${k}"; fi',
            f"_PROVISION_SET_{k}=1",
            f"{k}={shlex.quote(v)}; export {k}",
        ]
        off += [
            f'if [ -n "${{_PROVISION_OLD_{k}+_}}" ]; then {k}="$_PROVISION_OLD_{k}"; '
            f"export {k}; unset _PROVISION_OLD_{k}; "
            f'elif [ -n "${{_PROVISION_SET_{k}+_}}" ]; then unset {k}; fi',
            f"unset _PROVISION_SET_{k}",
        ]
    return on, off


def _fish_lines(items: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    on, off = [], []
    for k, v in items:
        on += [
            f"if set -q {k}; set -gx _PROVISION_OLD_{k} ${k}; end",
            f"set -gx _PROVISION_SET_{k} 1",
            f"set -gx {k} {_fish(v)}",
        ]
        off += [
            f"if set -q _PROVISION_OLD_{k}; set -gx {k} $_PROVISION_OLD_{k}; "
            f"set -e _PROVISION_OLD_{k}; else if set -q _PROVISION_SET_{k}; set -e {k}; end",
            f"set -e _PROVISION_SET_{k}",
        ]
    return on, off


def _ps_lines(items: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    on, off = [], []
    for k, v in items:
        on += [
            f"if (Test-Path env:{k}) {{ $env:_PROVISION_OLD_{k} = $env:{k} }}",
            f"$env:_PROVISION_SET_{k} = '1'",
            f"$env:{k} = {_ps(v)}",
        ]
        off += [
            f"if (Test-Path env:_PROVISION_OLD_{k}) {{ $env:{k} = $env:_PROVISION_OLD_{k}; "
            f"Remove-Item env:_PROVISION_OLD_{k} }} elseif (Test-Path env:_PROVISION_SET_{k}) "
            f"{{ Remove-Item env:{k} -ErrorAction SilentlyContinue }}",
            f"Remove-Item env:_PROVISION_SET_{k} -ErrorAction SilentlyContinue",
        ]
    return on, off


def _bat_lines(items: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    on, off = ["@echo off"], ["@echo off"]
    for k, v in items:
        value = v.replace("%", "%%").replace('"', "")
        on += [
            f'if defined {k} set "_PROVISION_OLD_{k}=%{k}%"',
            f'set "_PROVISION_SET_{k}=1"',
            f'set "{k}={value}"',
        ]
        off += [
            f'if defined _PROVISION_OLD_{k} (set "{k}=%_PROVISION_OLD_{k}%") '
            f'else if defined _PROVISION_SET_{k} (set "{k}=")',
            f'set "_PROVISION_OLD_{k}="',
            f'set "_PROVISION_SET_{k}="',
        ]
    return on, off


Shell = Callable[[list[tuple[str, str]]], tuple[list[str], list[str]]]
# venv script name -> (its shell, the line that opens its deactivate function)
VENV_SCRIPTS: dict[str, tuple[Shell, str]] = {
    "activate": (_sh, r"(?m)^deactivate \(\) \{\n"),
    "activate.fish": (_fish_lines, r"(?m)^function deactivate\b.*\n"),
    "activate.ps1": (_ps_lines, r"(?m)^function global:deactivate\b.*\{\n"),
}
# conda activate.d / deactivate.d script extension -> (its shell, comment marker)
CONDA_SCRIPTS: dict[str, tuple[Shell, str]] = {
    "sh": (_sh, "#"),
    "fish": (_fish_lines, "#"),
    "ps1": (_ps_lines, "#"),
    "bat": (_bat_lines, "::"),
}


def activation_data(manager: str, variables: Variables) -> dict[str, Any]:
    """What makes activating a ``manager`` environment set ``variables``, as JSON-able
    data for :mod:`provisioner.target.activation_files` (which apply runs, and the
    bootstrap scripts' helper with the environment's Python): one home for every block
    and file."""
    items = _checked(variables)
    data: dict[str, Any] = {
        "strip": STRIP,
        "venv_scripts": [],
        "conda_files": {},
        "conda_state": None,
    }
    if manager == "conda":
        for ext, (shell, comment) in CONDA_SCRIPTS.items():
            on, off = shell(items)
            for kind, lines in (("activate", on), ("deactivate", off)):
                path = f"etc/conda/{kind}.d/{SCRIPT}.{ext}"
                data["conda_files"][path] = _block(lines, comment) if items else None
        data["conda_state"] = {"env_vars": dict(items), "key": OURS}
        return data
    for name, (shell, anchor) in VENV_SCRIPTS.items():
        on, off = shell(items)
        data["venv_scripts"].append(
            {
                "name": name,
                "anchor": anchor,
                "restore": _block(off, indent="    ") if items else "",
                "set": _block(on) if items else "",
            }
        )
    return data


def activation_current(prefix: Path, manager: str, variables: Variables) -> bool:
    """Whether the activation files already hold exactly ``variables``."""
    return activation_files.is_current(str(prefix), activation_data(manager, variables))


def write_activation(prefix: Path, manager: str, variables: Variables) -> list[Path]:
    """Make activating the environment at ``prefix`` set ``variables``; the files changed."""
    changed = []
    for name, raw in activation_files.changes(str(prefix), activation_data(manager, variables)):
        path = Path(name)
        changed.append(path)
        if raw is None:
            path.unlink(missing_ok=True)
            continue
        mode = path.stat().st_mode & 0o7777 if path.exists() else None
        write_atomic(path, raw, mode=mode)
    return changed
