"""Values written into comment lines (the profile's file name, names, versions) cannot end
the comment: ``|comment`` escapes every line break and control character.

A profile copied to a file whose name holds line breaks once rendered
``touch PWNED`` as its own line of bootstrap.sh, run before bash reached an error.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from provisioner.cli import main
from provisioner.templating import comment_safe, environment

REPO = Path(__file__).resolve().parents[2]

# Every character bash, PowerShell, Python, YAML or str.splitlines() ends a line at.
LINE_BREAKS = ["\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
# A file name that injects a command on its own line through each kind of break.
# Line breaks in a file name are refused at load (conda-lock writes the name into the
# lockfile's header comment); everything else a file name can hold is rendered.
LINE_BREAK_FILE = "x\ntouch PWNED_LF\n\rtouch PWNED_CR\r\u2028touch PWNED_LS\u2028\x85\v\f.yaml"
HOSTILE_FILE = "x $(touch PWNED_S) `touch PWNED_B` '\"; touch PWNED_Q # \u2019\u00e9 *.yaml"


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=[ascii(b) for b in LINE_BREAKS])
def test_comment_filter_keeps_text_on_one_line(brk: str) -> None:
    value = f"a{brk}touch PWNED"
    safe = comment_safe(value)
    assert len(f"# {safe}".splitlines()) == 1
    assert safe.isprintable() and "touch PWNED" in safe
    assert environment().from_string("# {{ v|comment }}\n").render(v=value) == f"# {safe}\n"


def test_comment_filter_escapes_controls_and_keeps_plain_text() -> None:
    assert comment_safe("cpu.yaml") == "cpu.yaml"
    assert comment_safe("caf\u00e9 \U0001f600 it's $(x)") == "caf\u00e9 \U0001f600 it's $(x)"
    assert comment_safe("a\nb") == "a\\nb"
    assert comment_safe("a\u2028b\x1bc\u202ed") == "a\\u2028b\\x1bc\\u202ed"  # also bidi/ESC
    assert comment_safe("\x00") == "\\x00"


def test_templates_put_no_unfiltered_value_in_a_comment() -> None:
    """Every ``{{ }}`` after a comment start (``#``, ``<#``, at the start of a line or after
    a space) in every template ends with ``|comment``."""
    templates = [  # in Markdown a leading # is a heading, not a comment
        p
        for p in sorted((REPO / "provisioner" / "templates").rglob("*.j2"))
        if not p.name.endswith(".md.j2")
    ]
    assert len(templates) >= 6
    checked = 0
    for path in templates:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            start = re.search(r"(?:^|\s)<?#(?![{%#])", line)
            if start is None:
                continue
            for expr in line[start.end() :].split("{{")[1:]:
                inner = expr.split("}}")[0].strip()
                assert inner.endswith(("|comment", "|ps_comment")), (
                    f"{path.name}:{n}: {inner} is not |comment"
                )
                checked += 1
    assert checked >= 8


def header(text: str) -> list[str]:
    """The leading comment lines of a rendered file (shebang included)."""
    lines = text.splitlines()
    end = next((i for i, ln in enumerate(lines) if not ln.startswith("#")), len(lines))
    return lines[:end]


def render_pair(tmp_path: Path, shipped: str) -> tuple[Path, Path, Path]:
    """A shipped profile copied to a file with line breaks in its name, rendered next to
    the same profile under a plain name. Returns (plain, hostile, cwd)."""
    text = (REPO / "profiles" / shipped).read_text(encoding="utf-8")
    (tmp_path / "plain").mkdir(parents=True)
    (tmp_path / "hostile").mkdir()
    (tmp_path / "plain" / shipped).write_text(text, encoding="utf-8")
    (tmp_path / "hostile" / HOSTILE_FILE).write_text(text, encoding="utf-8")
    for kind, name in (("plain", shipped), ("hostile", HOSTILE_FILE)):
        assert (
            main(["render", str(tmp_path / kind / name), "-o", str(tmp_path / f"{kind}-out")]) == 0
        )
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return tmp_path / "plain-out", tmp_path / "hostile-out", cwd


@pytest.fixture
def hostile_render(tmp_path: Path) -> tuple[Path, Path, Path]:
    return render_pair(tmp_path, "cpu.yaml")


def test_hostile_file_name_adds_no_line_to_any_artifact(
    hostile_render: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    plain, hostile, _ = hostile_render
    names = sorted(p.name for p in hostile.iterdir())
    assert names == sorted(p.name for p in plain.iterdir())
    assert {"bootstrap.sh", "check.sh", "environment.yml", "smoke_test.py"} <= set(names)
    # The Windows scripts too: bootstrap.ps1 from a shipped windows profile.
    win_plain, win_hostile, _ = render_pair(tmp_path / "win", "directml-windows.yaml")
    ps1 = (win_hostile / "bootstrap.ps1").read_text(encoding="utf-8")
    assert len(header(ps1)) == len(header((win_plain / "bootstrap.ps1").read_text("utf-8")))
    assert all(ln.isprintable() for ln in header(ps1))
    assert "from x $(touch PWNED_S) `touch PWNED_B`" in header(ps1)[2]
    assert header(ps1)[2].isascii()  # |ps_comment: the same under every code page
    for name in names:
        text = (hostile / name).read_text(encoding="utf-8")
        want = (plain / name).read_text(encoding="utf-8")
        # The leading comment block has as many lines as with a plain name, each printable.
        # (The name also sits in quoted literals further down: line breaks are data there.)
        got_header, want_header = header(text), header(want)
        assert len(got_header) == len(want_header), name
        assert all(ln.isprintable() for ln in got_header), name
    script = (hostile / "bootstrap.sh").read_text(encoding="utf-8")
    (line5,) = [ln for ln in script.splitlines() if ln.startswith("# Rendered by provision")]
    assert f"from {HOSTILE_FILE}" in line5
    ast.parse((hostile / "smoke_test.py").read_text(encoding="utf-8"))
    env_yml = yaml.safe_load((hostile / "environment.yml").read_text(encoding="utf-8"))
    assert set(env_yml) == {"name", "channels", "dependencies"}


def test_file_name_with_line_breaks_is_refused_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / LINE_BREAK_FILE
    path.write_text((REPO / "profiles" / "cpu.yaml").read_text("utf-8"), encoding="utf-8")
    assert main(["render", str(path), "-o", str(tmp_path / "out")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.isprintable() and "the file name contains the control character" in line
    assert not (tmp_path / "out").exists()


def test_bootstrap_and_check_scripts_run_no_injected_command(
    hostile_render: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, hostile, cwd = hostile_render
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PROVISION_HOME": str(tmp_path / "h")}
    boot = subprocess.run(
        ["bash", str(hostile / "bootstrap.sh"), "--dry-run"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert list(cwd.iterdir()) == []  # no PWNED_* marker: no injected line ran
    # No lockfile beside the profile: the script stops with its "run provision lock" error,
    # after bash has read (and would have run) the comment lines.
    assert boot.returncode == 2, boot.stderr
    assert "no conda-lock.yml here" in boot.stderr
    check = subprocess.run(
        ["bash", str(hostile / "check.sh")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode in (0, 1), check.stderr
    assert "command not found" not in boot.stderr + check.stderr
    assert list(cwd.iterdir()) == []
