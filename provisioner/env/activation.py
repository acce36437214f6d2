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
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path

from provisioner.atomic import write_atomic
from provisioner.errors import ProvisionError

BEGIN = ">>> provision: environment.variables >>>"
END = "<<< provision: environment.variables <<<"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SCRIPT = "provision-env-vars"
OURS = "provision_env_vars"
_BLOCK = re.compile(
    r"[ \t]*(?:#|rem|::) " + re.escape(BEGIN) + r".*?" + re.escape(END) + r"\r?\n", re.S
)

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
    from provisioner.render.jinja import quote_ps

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
VENV_SCRIPTS: dict[str, tuple[Shell, re.Pattern[str]]] = {
    "activate": (_sh, re.compile(r"^deactivate \(\) \{\n", re.M)),
    "activate.fish": (_fish_lines, re.compile(r"^function deactivate\b.*\n", re.M)),
    "activate.ps1": (_ps_lines, re.compile(r"^function global:deactivate\b.*\{\n", re.M)),
}
# conda activate.d / deactivate.d script extension -> (its shell, comment marker)
CONDA_SCRIPTS: dict[str, tuple[Shell, str]] = {
    "sh": (_sh, "#"),
    "fish": (_fish_lines, "#"),
    "ps1": (_ps_lines, "#"),
    "bat": (_bat_lines, "::"),
}


def venv_script_text(text: str, shell: Shell, anchor: re.Pattern[str], variables: Variables) -> str:
    """``text`` (a venv activate script) with our blocks replaced by ones for ``variables``."""
    text = _BLOCK.sub("", text)
    items = _checked(variables)
    if not items:
        return text
    on, off = shell(items)
    found = anchor.search(text)
    if found is not None:  # restore inside deactivate; the activate script calls it first
        at = found.end()
        text = text[:at] + _block(off, indent="    ") + text[at:]
    return text + ("" if text.endswith("\n") else "\n") + _block(on)


def _venv_scripts(prefix: Path) -> list[tuple[Path, Shell, re.Pattern[str]]]:
    out = []
    for folder in (prefix / "bin", prefix / "Scripts"):
        if not folder.is_dir():
            continue
        names = {p.name.lower(): p for p in folder.iterdir()}
        for name, (shell, anchor) in VENV_SCRIPTS.items():
            if name in names:
                out.append((names[name], shell, anchor))
    return out


def _conda_files(prefix: Path, variables: Variables) -> dict[Path, str | None]:
    """What the conda prefix's activation files must hold (``None``: must not exist)."""
    items = _checked(variables)
    files: dict[Path, str | None] = {}
    for ext, (shell, comment) in CONDA_SCRIPTS.items():
        on, off = shell(items)
        for kind, lines in (("activate", on), ("deactivate", off)):
            path = prefix / "etc" / "conda" / f"{kind}.d" / f"{SCRIPT}.{ext}"
            files[path] = _block(lines, comment) if items else None
    # conda-meta/state: conda reads "env_vars"; "provision_env_vars" names the ones we
    # set, so variables a user added with `conda env config vars set` are kept.
    state_path = prefix / "conda-meta" / "state"
    state = _read_json(state_path)
    env_vars = state.get("env_vars")
    ours = state.get(OURS)
    theirs = {
        str(k): v
        for k, v in (env_vars.items() if isinstance(env_vars, dict) else ())
        if not (isinstance(ours, list) and k in ours)
    }
    state = {k: v for k, v in state.items() if k not in ("env_vars", OURS)}
    if theirs or items:
        state["env_vars"] = theirs | dict(items)
    if items:
        state[OURS] = [k for k, _ in items]
    files[state_path] = json.dumps(state, indent=2, sort_keys=True) + "\n" if state else None
    return files


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _wanted(prefix: Path, manager: str, variables: Variables) -> dict[Path, str | None]:
    if manager == "conda":
        return _conda_files(prefix, variables)
    wanted: dict[Path, str | None] = {}
    for path, shell, anchor in _venv_scripts(prefix):
        text = path.read_text(encoding="utf-8-sig")
        wanted[path] = venv_script_text(text, shell, anchor, variables)
    return wanted


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None  # absent, or not what we wrote: rewritten


def activation_current(prefix: Path, manager: str, variables: Variables) -> bool:
    """Whether the activation files already hold exactly ``variables``."""
    return all(_current(p) == t for p, t in _wanted(prefix, manager, variables).items())


def write_activation(prefix: Path, manager: str, variables: Variables) -> list[Path]:
    """Make activating the environment at ``prefix`` set ``variables``; the files changed."""
    changed = []
    for path, text in _wanted(prefix, manager, variables).items():
        if _current(path) == text:
            continue
        changed.append(path)
        if text is None:
            path.unlink(missing_ok=True)
            continue
        data = text.encode("utf-8")
        if path.suffix.lower() == ".ps1" and not text.isascii():
            data = b"\xef\xbb\xbf" + data  # Windows PowerShell 5.1 reads BOM-less as ANSI
        mode = path.stat().st_mode & 0o7777 if path.exists() else None
        write_atomic(path, data, mode=mode)
    return changed
