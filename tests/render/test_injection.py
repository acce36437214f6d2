"""Injection: every rendered script, with a hostile value in every free-text field and in
the profile's file name, runs (bash) or parses (PowerShell) without executing it.

- bash: ``check.sh --json`` and ``bootstrap.sh --dry-run`` run for real in a scratch
  folder; every value that would run a command ``touch``es a ``PWNED-*`` file there,
  so any file that appears is an injection. ``check.sh --json`` must print valid
  JSON carrying the name byte for byte.
- PowerShell (cannot run here): each ``.ps1`` is decoded as UTF-8 and as cp1252 (what
  Windows PowerShell 5.1 uses for a BOM-less file), both decodings parse with
  tree-sitter to the same tokens, the command names are those of a benign render,
  and every place the value is used is one string expression that evaluates to it.

The lock is a stand-in: real conda-lock format made by the tool's own writer, but
its one package (six) is never downloaded, since only ``--dry-run`` runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import tree_sitter

from provisioner.cli import main
from provisioner.lock import Lock, LockedPackage
from provisioner.lock.inputs import input_digests, inputs_hash
from provisioner.lock.location import lock_location
from provisioner.lock.lockfile import platforms_for, write_lockfile
from provisioner.profile import load_profile
from provisioner.profile.values import bad_character
from provisioner.templating import quote_ps
from tests.support.powershell import parse, parse_errors, walk
from tests.support.ps_values import ps_expression_value

HOSTILE = [
    "$(touch PWNED-subst)",
    "`touch PWNED-backtick`",
    "'; touch PWNED-squote; '",
    '"; touch PWNED-dquote; "',
    "a\ntouch PWNED-newline",
    "a\rtouch PWNED-cr",
    "a\u2028touch PWNED-ls \u2029touch PWNED-ps",
    "a\x85touch PWNED-nel",
    "; touch PWNED-semi",
    "| touch PWNED-pipe",
    "&& touch PWNED-and || touch PWNED-or",
    "$((7*7)) ${IFS} $HOME ${PATH:0:1} $0 $@",
    "* ? [a-z] {a,b} ~ ~root",
    "\\ trailing backslash\\",
    "-n --help -- -e",
    "# not a comment",
    "!! !$ !-1",
    "%PATH% %COMSPEC%",
    "$env:PATH $(New-Item PWNED-ps-subst) @(1) $x",
    "'; New-Item PWNED-ps-squote; '",
    "\u2018; New-Item PWNED-ps-lsquo; \u2019",
    "\u201a\u201b\u2019\u2018 smart single quotes",
    "\u201c; New-Item PWNED-ps-ldquo; \u201d \u201e",
    "\u0112; New-Item C:\\pwned.txt #",  # UTF-8 C4 92: cp1252 reads 0x92 as a closing quote
    "caf\u00e9\u2019s \u00c0\u00ff \u0100\u017f",
    "\U0001f600 \u4e2d\u6587 \u0627\u0644\u0639",
    "\x1b[31mred\x1b[0m \x07 \x7f \x01\x02\x1f",
    "\ttab\t\v\f",
    "a\u202eevil\u202c b\u200f",
    "PYEOF\ntouch PWNED-heredoc\nPYEOF",
    "EOF\n'EOF'\n\"EOF\"",
    "{{ 7*7 }} {% raw %} {# x #}",
    "</script><!-- ]]>",
    "x" * 3000,
    "  leading and trailing spaces  ",
]
BENIGN = "plain"
MARKER = "PWNED"
# Line breaks and other control characters are refused at validate on every target
# (conda's activate.d/*.bat would run what follows a line break): those values never
# reach a script; the others must render inert.
ACCEPTED = [v for v in HOSTILE if bad_character(v) is None]
REFUSED = [v for v in HOSTILE if bad_character(v) is not None]


def file_stem(value: str) -> str:
    """A file name made of ``value``: '/' cannot be in a name; other characters stay
    unless validate refuses them (then a fixed stem)."""
    stem = value.replace("/", "_")[:120]
    if not stem or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in stem):
        return "hostile"
    if any(
        0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 or c in "\u200e\u200f"
        for c in stem
    ):
        return "hostile"
    return stem


def write_profile(folder: Path, value: str, os_: str, *, check: bool = True) -> Path:
    import yaml

    data = {
        "name": value or "x",
        "description": value,
        "target": {"os": os_},
        **({"requires": {"windows": {"min_build": 19044}}} if os_ == "windows" else {}),
        "environment": {
            "manager": "venv",
            "name": "hostile-env",
            "python": "3.11",
            "pip": ["six==1.17.0"],
            "variables": {"HOSTILE_VALUE": value},
        },
        "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{file_stem(value)}.yaml"
    text = yaml.safe_dump(data, allow_unicode=True, default_style='"', width=10**6)
    path.write_text(text, encoding="utf-8")
    if check:
        assert load_profile(path).profile.environment.variables["HOSTILE_VALUE"] == value
    return path


def write_stand_in_lock(profile: Path) -> Path:
    """A lockfile in conda-lock's format whose one package is never installed (dry run)."""
    resolved = load_profile(profile)
    platforms = platforms_for(resolved)
    packages = tuple(
        LockedPackage(
            manager="pip",
            name="six",
            version="1.17.0",
            platform=platform,
            url="https://files.pythonhosted.org/packages/six-1.17.0-py2.py3-none-any.whl",
            sha256="0" * 64,
        )
        for platform in platforms
    )
    inputs = tuple(input_digests(resolved).items())
    lock = Lock(inputs_hash(resolved), platforms, (), packages, inputs)
    return write_lockfile(lock, resolved, lock_location(resolved).path)


def render(profile: Path, out: Path) -> Path:
    write_stand_in_lock(profile)
    assert main(["render", str(profile), "-o", str(out)]) == 0
    return out


def planted(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(f"{MARKER}*"))


@pytest.mark.parametrize("value", REFUSED, ids=range(len(REFUSED)))
@pytest.mark.parametrize("os_", ["linux", "windows"])
def test_values_with_line_breaks_or_controls_are_refused_before_any_script(
    value: str, os_: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write_profile(tmp_path / "p", value, os_, check=False)
    assert main(["render", str(profile), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    for field in ("name", "description", "environment.variables.HOSTILE_VALUE"):
        assert f": error: {field}: contains " in err, err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("value", ACCEPTED, ids=range(len(ACCEPTED)))
def test_bash_scripts_run_without_executing_the_value(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = render(write_profile(tmp_path / "p", value, "linux"), tmp_path / "out")
    capsys.readouterr()
    scratch = tmp_path / "cwd"
    scratch.mkdir()
    env = {**os.environ, "PROVISION_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
    env.pop("PROVISION_ENVS_DIR", None)
    check = subprocess.run(
        ["bash", str(out / "check.sh"), "--json"],
        cwd=scratch,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert check.returncode in (0, 1), check.stderr
    report = json.loads(check.stdout.decode("utf-8"))  # valid JSON whatever the name holds
    assert report["profile"] == (value or "x")
    boot = subprocess.run(
        ["bash", str(out / "bootstrap.sh"), "--dry-run"],
        cwd=scratch,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert boot.returncode in (0, 1), boot.stderr
    assert planted(tmp_path) == []


def ps_leaves(tree: tree_sitter.Tree) -> list[tuple[str, bytes]]:
    return [(n.type, n.text or b"") for n in walk(tree.root_node) if n.child_count == 0]


def command_names(source: str) -> set[str]:
    tree = parse(source)
    return {
        (n.text or b"").decode()
        for n in walk(tree.root_node)
        if n.type == "command_name" and n.text is not None
    }


def render_windows(value: str, folder: Path) -> dict[str, bytes]:
    out = render(write_profile(folder / "p", value, "windows"), folder / "out")
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.ps1"))}


@pytest.fixture(scope="module")
def benign_commands(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    scripts = render_windows(BENIGN, tmp_path_factory.mktemp("benign"))
    return {name: command_names(data.decode("utf-8")) for name, data in scripts.items()}


@pytest.mark.parametrize("value", ACCEPTED, ids=range(len(ACCEPTED)))
def test_powershell_reads_the_same_under_utf8_and_cp1252(
    value: str, tmp_path: Path, benign_commands: dict[str, set[str]]
) -> None:
    scripts = render_windows(value, tmp_path)
    assert set(scripts) == {"check.ps1", "bootstrap.ps1"}
    for name, data in scripts.items():
        assert not data.startswith(b"\xef\xbb\xbf") and data.isascii(), name  # pure ASCII
        as_utf8 = data.decode("utf-8")
        as_ansi = data.decode("cp1252")
        trees = [parse(as_utf8), parse(as_ansi)]
        assert not parse_errors(as_utf8) and not parse_errors(as_ansi), name
        assert ps_leaves(trees[0]) == ps_leaves(trees[1]), name
        assert command_names(as_ansi) == benign_commands[name], name
        expression = quote_ps(value).encode("ascii")
        spans = {(n.start_byte, n.end_byte): n for n in walk(trees[1].root_node)}
        start = data.find(expression)
        assert start >= 0, f"{name} does not carry the value"
        while start >= 0:
            node = spans.get((start, start + len(expression)))
            assert node is not None, f"{name}: the value at byte {start} is not one expression"
            assert ps_expression_value(node) == value
            start = data.find(expression, start + 1)
