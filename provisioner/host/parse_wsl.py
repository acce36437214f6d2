"""Parsers for ``wsl.exe`` output: UTF-16LE decoding and the localized ``--version`` table.

``wsl.exe`` writes UTF-16LE unless ``WSL_UTF8=1`` is set; labels are translated
(English, Spanish, Chinese captures exist), so values are taken by line position and
number shape. The inbox ``wsl.exe`` rejects ``--version`` entirely.
"""

from __future__ import annotations

import re

_DOTTED = re.compile(r"\d+(?:\.\d+){2,3}")


def decode_wsl_output(data: bytes) -> str:
    """Text of wsl.exe output, UTF-16LE (BOM or NUL bytes) or UTF-8; CRs dropped."""
    if data.startswith(b"\xff\xfe") or b"\x00" in data:
        text = data.decode("utf-16-le", "replace").lstrip("\ufeff")
    else:
        text = data.decode("utf-8", "replace")
    return text.replace("\r", "")


def package_version(version_output: str) -> str | None:
    """The WSL package version: the dotted number on the first non-empty line.

    ``wsl --version`` prints "label: number" rows in a fixed order (WSL, kernel, WSLg,
    MSRDC, Direct3D, DXCore, Windows) whatever the language. The inbox wsl.exe prints
    a usage text instead, whose first line has no version number.
    """
    lines = [ln for ln in version_output.splitlines() if ln.strip()]
    if not lines:
        return None
    m = _DOTTED.search(lines[0])
    return m.group(0) if m else None


def kernel_from_version_table(version_output: str) -> str | None:
    """The kernel version: the dotted number on the second row of ``wsl --version``."""
    lines = [ln for ln in version_output.splitlines() if ln.strip()]
    if len(lines) < 2 or package_version(version_output) is None:
        return None
    m = _DOTTED.search(lines[1])
    return m.group(0) if m else None


def kernel_from_status(status_output: str) -> str | None:
    """The kernel named by ``wsl --status`` (its only 3-4 part dotted number)."""
    for line in status_output.splitlines():
        m = _DOTTED.search(line)
        if m:
            return m.group(0)
    return None
