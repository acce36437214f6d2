"""check.ps1: rendered from the same records; parses cleanly under tree-sitter-powershell
(no ERROR/MISSING nodes), names every check id, and quotes every profile value.

PowerShell itself is not on the CI machine, so the script is parsed, not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tree_sitter_powershell
from host_replay import profile_paths
from tree_sitter import Language, Node, Parser

from provisioner.checks.plan import plan_checks
from provisioner.checks.records import load_checks
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_checks import render_check_ps1, script_args
from provisioner.render.jinja import quote_ps

PS = Language(tree_sitter_powershell.language())


def bad_nodes(node: Node) -> list[str]:
    """The innermost nodes that carry an error: ERROR, MISSING, or a node whose error
    is in a token tree-sitter does not expose as a child."""
    if not node.has_error:
        return []
    inner = [b for child in node.children for b in bad_nodes(child)]
    if inner and node.type != "ERROR" and not node.is_missing:
        return inner
    return [f"{node.type} (missing={node.is_missing}) at {node.start_point}", *inner]


def rendered(profile: Path) -> str:
    return render_check_ps1(RenderContext(load_profile(profile), "test"))


@pytest.mark.parametrize("profile", profile_paths(), ids=lambda p: p.stem)
def test_check_ps1_parses_without_errors(profile: Path) -> None:
    tree = Parser(PS).parse(rendered(profile).encode("utf-8"))
    assert not tree.root_node.has_error, bad_nodes(tree.root_node)[:10]


def test_parser_catches_a_broken_script() -> None:
    """The parse test can fail: a script with an unclosed block has ERROR/MISSING nodes."""
    tree = Parser(PS).parse(b"if ($x) { Write-Output 'a' \n")
    assert tree.root_node.has_error


@pytest.mark.parametrize("profile", profile_paths(), ids=lambda p: p.stem)
def test_every_check_id_appears_once_with_its_quoted_values(profile: Path) -> None:
    text = rendered(profile)
    resolved = load_profile(profile)
    for pc in plan_checks(resolved):
        calls = re.findall(rf"^(Invoke-Check|Skip-Check) {re.escape(quote_ps(pc.id))} ", text, re.M)
        assert calls == ["Invoke-Check" if pc.applicable else "Skip-Check"], pc.id
        if pc.applicable:
            line = next(
                ln for ln in text.splitlines() if ln.startswith(f"Invoke-Check {quote_ps(pc.id)} ")
            )
            for value in script_args(pc):
                assert quote_ps(value) in line, (pc.id, value)
    assert len(load_checks()) == len(re.findall(r"^(?:Invoke|Skip)-Check ", text, re.M))


def test_profile_values_are_single_quoted_literals(tmp_path: Path) -> None:
    """A hostile profile name and threshold stay inert single-quoted literals."""
    src = (profile_paths()[0]).read_text()
    hostile = src.replace(
        "name: cpu\n", "name: \"cpu'; Remove-Item C:\\\\ -Recurse; '$(evil)\"\n", 1
    )
    path = tmp_path / "hostile.yaml"
    path.write_text(hostile)
    text = render_check_ps1(RenderContext(load_profile(path), "test"))
    assert "$Profile_ = 'cpu''; Remove-Item C:\\ -Recurse; ''$(evil)'" in text
    tree = Parser(PS).parse(text.encode("utf-8"))
    assert not tree.root_node.has_error
    # every line that calls a check passes its arguments as '...' literals or @('...')
    for line in text.splitlines():
        if line.startswith(("Invoke-Check ", "Skip-Check ")):
            rest = re.sub(r"'(?:[^']|'')*'", "", line.split(" ", 1)[1])
            assert set(rest) <= set(" @(),"), line


def test_check_ps1_is_ascii() -> None:
    """Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page."""
    for profile in profile_paths():
        rendered(profile).encode("ascii")
