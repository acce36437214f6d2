"""The jinja2 environment for every template, with quoting filters for each shell.

``|sh`` makes a bash single-quoted literal, ``|ps`` a PowerShell single-quoted
literal (pure ASCII: other characters as ``[char]0xNNNN``), ``|json`` a JSON
literal (also a valid Python literal for str/int/bool/None only when used via
``|py``). Every profile value that reaches a script goes
through one of these; the filters are tested against hostile strings. ``|comment``
is for text inside a comment line (bash, PowerShell, Python, YAML): it keeps the
value on that line, so a file name or value cannot end the comment and run code.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2


def quote_sh(value: object) -> str:
    """A bash/POSIX-sh literal that expands to exactly ``str(value)``."""
    s = _text(value)
    return "'" + s.replace("'", "'\"'\"'") + "'"


def quote_ps(value: object) -> str:
    """A PowerShell expression for exactly ``str(value)``, in pure ASCII.

    ASCII text is one single-quoted literal (no expansion). Windows PowerShell 5.1
    reads a BOM-less script in the ANSI code page, where the UTF-8 bytes of ``Ē``
    end in 0x92, which cp1252 reads as ``’``, a closing quote to PowerShell; so a
    non-ASCII character is never written as such but as ``[char]0xNNNN`` in a
    parenthesised concatenation that starts with a string (``[char] + [char]`` would
    add numbers): ``('Caf' + [char]0x00E9)``. The script then reads
    the same under every code page. https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_character_encoding
    """
    s = _text(value)
    parts: list[str] = []
    run = ""
    for ch in s:
        if ch.isascii():
            run += ch + ch if ch == "'" else ch
            continue
        if run:
            parts.append(f"'{run}'")
            run = ""
        parts.extend(f"[char]0x{unit:04X}" for unit in _utf16_units(ch))
    if run or not parts:
        parts.append(f"'{run}'")
    if len(parts) == 1:
        return parts[0]
    if not parts[0].startswith("'"):  # a string first, so every + concatenates text:
        parts.insert(0, "''")  # [char] + [char] would add numbers
    return "(" + " + ".join(parts) + ")"


def _utf16_units(ch: str) -> list[int]:
    data = ch.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def ps_comment(value: object) -> str:
    """:func:`comment_safe` in pure ASCII (non-ASCII as ``\u00e9``), for PowerShell
    comments: a .ps1 stays ASCII and reads the same under every code page."""
    return comment_safe(value).encode("ascii", "backslashreplace").decode("ascii")


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
    env.filters["ps_comment"] = ps_comment
    env.filters["json"] = lambda v: json.dumps(_pyable(v))
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
