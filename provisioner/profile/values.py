"""Values the profile language refuses (or warns about) whatever field they are in.

Three rules, all checked at ``validate`` with the value's position, for every target
(conda's ``activate.d/*.bat`` runs wherever conda runs on Windows, whatever the
profile's target says):

- **Text a script cannot carry.** A NUL byte cannot be passed to any process, so
  it is refused everywhere. Control characters (C0 with CR, LF and tab, DEL, C1),
  the Unicode line and paragraph separators and the bidirectional controls (which
  make text read differently from how it runs) are refused in every key and value
  that reaches a script or a shell: the profile's ``name`` and ``description``,
  variable names and values, versions, specs, channels, URLs. A line break in a
  variable's value would start a command of its own in a ``.bat`` activation
  file. Only ``requires.gpu.notes`` (shown by ``doctor``, never run) is free text.
- **Environment variable names.** A name must be valid on the target (POSIX for
  linux and wsl2; Windows rules, case-insensitive and unique, for windows) and
  not one that changes how a shell, the dynamic loader, Python, the installers or
  this tool behave (:data:`REFUSED_NAMES`, :data:`REFUSED_PREFIXES`). The bootstrap
  scripts export the variables before they run ``check.sh``, the installer and the
  smoke test, so such a name would run a command or change what gets installed:
  it would break what the lock guarantees.
- **Names that redirect or load code elsewhere** (TLS trust, proxies, the options
  other runtimes read, :data:`WARNED_NAMES`, :data:`WARNED_PREFIXES`,
  :data:`WARNED_SUFFIXES`) are warnings: they do not change what is installed (every
  package is hash-checked) but they change what programs in the environment trust
  or load. ``PYTHONWARNINGS`` is refused when a filter names a category in a
  module: Python imports that module at every start, before the smoke test.

docs/profiles.md lists every name with its reason; a test keeps the tables equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from provisioner.errors import Diagnostic
from provisioner.profile.extends import Merged
from provisioner.profile.yamlnodes import Loc, dotted

# name -> why it is refused (docs/profiles.md repeats this table; a test keeps them equal).
REFUSED_NAMES: Mapping[str, str] = {
    "BASH_ENV": "bash runs the file it names before every non-interactive script",
    "ENV": "sh and bash in POSIX mode run the file it names",
    "SHELLOPTS": "read-only in bash; sets shell options for every child bash",
    "BASHOPTS": "read-only in bash; sets shopt options for every child bash",
    "IFS": "changes how the scripts split words",
    "PS4": "expanded (runs command substitutions) for every traced command",
    "PROMPT_COMMAND": "bash runs it before each prompt",
    "CDPATH": "changes where the scripts' `cd` goes",
    "GLOBIGNORE": "changes how the scripts expand file names",
    "POSIXLY_CORRECT": "changes how bash and the GNU tools the scripts run behave",
    "UID": "read-only in bash: the bootstrap script would stop",
    "EUID": "read-only in bash: the bootstrap script would stop",
    "PPID": "read-only in bash: the bootstrap script would stop",
    "_": "set by the shell for every command",
    "PATH": "replaces the host's PATH (no expansion): the scripts would run other programs",
    "PATHEXT": "changes which files Windows runs as commands",
    "COMSPEC": "changes which program Windows runs as its shell",
    "PSMODULEPATH": "changes which PowerShell modules load in the bootstrap script",
    "PSEXECUTIONPOLICYPREFERENCE": "changes PowerShell's script execution policy",
    "HOME": "changes where the tool and the scripts keep state and reports",
    "LD_PRELOAD": "loads a library into every program the scripts run",
    "LD_LIBRARY_PATH": "changes which libraries every program the scripts run (host tools "
    "included) loads; WSL's GPU libraries are found through ld.so.conf already",
    "PYTHONHOME": "points the environment's Python at another standard library",
    "PYTHONPATH": "puts other code ahead of the environment's packages, so the smoke test "
    "would prove something else",
    "PYTHONSTARTUP": "runs a file in every interactive Python",
    "PROVISION_HOME": "this tool's setting: where the scripts and apply keep state and reports",
    "PROVISION_ENVS_DIR": "this tool's setting: where apply builds environments",
    "PROVISION_COMMAND_TIMEOUT": "this tool's setting: how long a host command may run",
}
# prefix -> why every name starting with it is refused.
REFUSED_PREFIXES: Mapping[str, str] = {
    "BASH_": "bash's own variables (BASH_ENV, BASH_XTRACEFD, exported BASH_FUNC_ functions)",
    "LD_": "the dynamic loader reads LD_* (LD_AUDIT, LD_PRELOAD, ...)",
    "DYLD_": "the macOS dynamic loader reads DYLD_*",
    "PIP_": "pip reads PIP_* (index, trusted hosts, target folder, constraints) when the "
    "bootstrap script installs the pip part; use environment.index_url, extra_index_urls, "
    "find_links and proxy",
    "UV_": "uv reads UV_* (cache folder, index, hash checks, config file) when apply and the "
    "bundle install the pip part",
    "CONDA_": "conda reads CONDA_* (channels, package cache, safety checks) when the "
    "bootstrap script builds the environment; use environment.channels",
    "MAMBA_": "mamba and micromamba read MAMBA_* (root prefix, package cache) when the "
    "bootstrap script builds the environment",
}

# Names allowed with a warning: they change what programs in the environment trust or
# load, not what is installed (docs/profiles.md repeats these tables; a test keeps them equal).
_TLS = "the CA certificates TLS downloads trust"
WARNED_NAMES: Mapping[str, str] = {
    "REQUESTS_CA_BUNDLE": f"requests reads it: {_TLS}",
    "CURL_CA_BUNDLE": f"curl and requests read it: {_TLS}",
    "NODE_EXTRA_CA_CERTS": f"Node adds it to {_TLS}",
    "PYTHONHTTPSVERIFY": "0 turns off certificate checks in Python's urllib",
    "NODE_TLS_REJECT_UNAUTHORIZED": "0 turns off certificate checks in Node",
    "GIT_SSL_NO_VERIFY": "turns off certificate checks in git",
    "HTTP_PROXY": "sends downloads through another host (for the install, use environment.proxy)",
    "HTTPS_PROXY": "sends downloads through another host (for the install, use environment.proxy)",
    "ALL_PROXY": "sends downloads through another host (for the install, use environment.proxy)",
    "NO_PROXY": "changes which hosts are reached without the proxy",
    "BROWSER": "Python's webbrowser runs the command it names (PYTHONWARNINGS can make Python "
    "open a browser)",
    "PYTHONBREAKPOINT": "breakpoint() imports and calls what it names",
    "PYTHONWARNINGS": "sets Python's warning filters at every start (a filter that names a "
    "category in a module is refused: Python imports that module)",
    "PERL5OPT": "perl adds its options (-M loads a module) to every run",
    "PERL5LIB": "perl loads modules from its folders first",
    "RUBYOPT": "ruby adds its options (-r loads a library) to every run",
    "RUBYLIB": "ruby loads libraries from its folders first",
    "NODE_PATH": "node loads modules from its folders",
}
WARNED_PREFIXES: Mapping[str, str] = {
    "SSL_": f"OpenSSL and Python's ssl read SSL_CERT_FILE and SSL_CERT_DIR: {_TLS}",
}
WARNED_SUFFIXES: Mapping[str, str] = {
    "_OPTIONS": "runtimes read NAME_OPTIONS as extra options (NODE_OPTIONS --require, "
    "JAVA_TOOL_OPTIONS -javaagent): they load code into every such program",
}

POSIX_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Windows allows more (any text without '='), but cmd.exe and PowerShell's $env: read
# these without quoting; ProgramFiles(x86) style names stay possible.
WINDOWS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.()-]*$")
MAX_NAME = 255

_FREE_TEXT: tuple[Loc, ...] = ()
_FREE_TEXT_MAPS: tuple[Loc, ...] = (("requires", "gpu", "notes"),)
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F))


def refused_reason(name: str) -> str | None:
    """Why ``name`` may not be set by a profile; None when it may (case-insensitive)."""
    upper = name.upper()
    if upper in REFUSED_NAMES:
        return REFUSED_NAMES[upper]
    for prefix, why in REFUSED_PREFIXES.items():
        if upper.startswith(prefix):
            return why
    return None


def warned_reason(name: str) -> str | None:
    """Why ``name`` is allowed only with a warning; None when it is plain (case-insensitive)."""
    upper = name.upper()
    if upper in WARNED_NAMES:
        return WARNED_NAMES[upper]
    for prefix, why in WARNED_PREFIXES.items():
        if upper.startswith(prefix):
            return why
    for suffix, why in WARNED_SUFFIXES.items():
        if upper.endswith(suffix):
            return why
    return None


def imported_by_warning_filters(value: str) -> str | None:
    """The first module ``PYTHONWARNINGS`` makes Python import at start (a filter's
    category ``module.Class``: ``action:message:category:module:lineno``), else None."""
    for spec in value.split(","):
        fields = spec.split(":")
        category = fields[2].strip() if len(fields) > 2 else ""
        if "." in category:
            return category.rsplit(".", 1)[0]
    return None


def bad_character(text: str) -> str | None:
    """A description of the first character of ``text`` a script cannot carry, else None."""
    for ch in text:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0 or ch in "\u2028\u2029" or ch in _BIDI:
            label = "a NUL byte" if code == 0 else f"the control character {ch!a} (U+{code:04X})"
            if ch in _BIDI:
                label = f"the bidirectional control U+{code:04X}"
            return label
    return None


def check_text(merged: Merged) -> list[Diagnostic]:
    """Every key and string value with a character no script can carry safely."""
    out: list[Diagnostic] = []
    for loc, key, value in _strings(merged.data, ()):
        if key is not None:
            bad = bad_character(key)
            if bad:
                out.append(
                    Diagnostic(
                        f"key contains {bad}; write plain text",
                        merged.key_position(loc),
                        dotted(loc[:-1]),
                    )
                )
        if value is not None:
            bad = "a NUL byte" if "\x00" in value else None
            if not _free_text(loc):
                bad = bad_character(value)
            if bad:
                out.append(
                    Diagnostic(
                        f"contains {bad}, which a script cannot carry safely; remove it",
                        merged.position(loc),
                        dotted(loc),
                    )
                )
    return out


def check_variables(data: Mapping[str, Any], merged: Merged) -> list[Diagnostic]:
    """``environment.variables`` names: valid on the target, not refused, unique; a
    warning for each name that redirects trust or loads code (:func:`warned_reason`)."""
    env = data.get("environment")
    variables = env.get("variables") if isinstance(env, Mapping) else None
    if not isinstance(variables, Mapping):
        return []
    target = data.get("target")
    windows = isinstance(target, Mapping) and target.get("os") == "windows"
    out: list[Diagnostic] = []
    seen: dict[str, str] = {}
    for name in variables:
        loc: Loc = ("environment", "variables", str(name))
        at = merged.key_position(loc)
        problem = _name_problem(str(name), windows)
        if problem is None and windows and name.upper() in seen:
            problem = (
                f'"{name}" and "{seen[name.upper()]}" are the same variable on Windows '
                "(names ignore case); keep one"
            )
        if problem is not None:
            out.append(Diagnostic(problem, at, dotted(loc)))
        elif (warned := warned_reason(str(name))) is not None:
            message = (
                f'"{name}" {warned}; check that the environment needs it '
                "(see docs/profiles.md, Environment variables)"
            )
            out.append(Diagnostic(message, at, dotted(loc), severity="warning"))
        value = variables[name]
        module = imported_by_warning_filters(value) if isinstance(value, str) else None
        if str(name).upper() == "PYTHONWARNINGS" and module is not None:
            message = (
                f'a filter names a category in module "{module}": Python imports it at '
                "every start, before the smoke test; name a built-in category "
                "(DeprecationWarning) instead"
            )
            out.append(Diagnostic(message, merged.position(loc), dotted(loc)))
        seen.setdefault(str(name).upper(), str(name))
    return out


def _name_problem(name: str, windows: bool) -> str | None:
    if bad_character(name):
        return None  # check_text reports it
    rule = WINDOWS_NAME if windows else POSIX_NAME
    if not rule.match(name) or len(name) > MAX_NAME:
        shape = (
            "letters, digits and _ . ( ) -, not starting with a digit"
            if windows
            else "letters, digits and '_', not starting with a digit (POSIX)"
        )
        return f'"{name}" is not a valid environment variable name here: use {shape}'
    why = refused_reason(name)
    if why is not None:
        return (
            f'"{name}" may not be set by a profile: {why} '
            "(see docs/profiles.md, Environment variables)"
        )
    return None


def _free_text(loc: Loc) -> bool:
    return loc in _FREE_TEXT or (len(loc) > 1 and loc[:-1] in _FREE_TEXT_MAPS)


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str | None, str | None]]:
    """(loc, key, None) for every mapping key and (loc, None, text) for every string."""
    if isinstance(value, dict):
        for k, v in value.items():
            child = (*loc, str(k))
            yield child, str(k), None
            yield from _strings(v, child)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*loc, i))
    elif isinstance(value, str):
        yield loc, None, value
