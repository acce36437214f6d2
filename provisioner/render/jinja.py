"""The jinja2 environment for every template, with quoting filters for each shell.

``|sh`` makes a bash single-quoted literal, ``|ps`` a PowerShell single-quoted
literal, ``|json`` a JSON literal (also a valid Python literal for str/int/bool/None
only when used via ``|py``). Every profile value that reaches a script goes
through one of these; the filters are tested against hostile strings. ``|comment``
is for text inside a comment line (bash, PowerShell, Python, YAML): it keeps the
value on that line, so a file name or value cannot end the comment and run code.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2

# PowerShell treats these as single quotes too, and doubles any of them inside a
# single-quoted string: https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_quoting_rules
_PS_SINGLE_QUOTES = ("'", "\u2018", "\u2019", "\u201a", "\u201b")


def quote_sh(value: object) -> str:
    """A bash/POSIX-sh literal that expands to exactly ``str(value)``."""
    s = _text(value)
    return "'" + s.replace("'", "'\"'\"'") + "'"


def quote_ps(value: object) -> str:
    """A PowerShell single-quoted literal (no expansion) for ``str(value)``."""
    s = _text(value)
    for q in _PS_SINGLE_QUOTES:
        s = s.replace(q, q + q)
    return "'" + s + "'"


def quote_py(value: object) -> str:
    """A Python literal (str, int, float, bool, None, list, dict) via ``repr``-safe JSON."""
    return repr(_pyable(value))


def comment_safe(value: object) -> str:
    """``str(value)`` with line breaks (``\\n``, ``\\r``, ``\\v``, ``\\f``, U+0085, U+2028/9)
    and every other control or format character written as a visible escape (``\\n``,
    ``\\u2028``), so the text stays inside the one comment line it is put in."""
    s = value if isinstance(value, str) else str(getattr(value, "value", value))
    if s.isprintable():
        return s
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in s)


def _pyable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _pyable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pyable(v) for v in value]
    return str(value)


def _text(value: object) -> str:
    s = value if isinstance(value, str) else str(getattr(value, "value", value))
    if "\x00" in s:
        raise ValueError("a NUL byte cannot be passed to a shell")
    return s


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("provisioner", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["sh"] = quote_sh
    env.filters["ps"] = quote_ps
    env.filters["py"] = quote_py
    env.filters["comment"] = comment_safe
    env.filters["json"] = lambda v: json.dumps(_pyable(v))
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
