"""check.ps1: rendered from the same records; parses cleanly under tree-sitter-powershell
(no ERROR/MISSING nodes), names every check id, and quotes every profile value.

PowerShell itself is not on the CI machine, so the script is parsed, not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provisioner.checks.plan import plan_checks
from provisioner.checks.records import load_checks
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_checks import render_check_ps1, script_args
from provisioner.templating import quote_ps
from tests.checks.host_replay import profile_paths
from tests.support.powershell import parse_errors


def rendered(profile: Path) -> str:
    return render_check_ps1(RenderContext(load_profile(profile), "test"))


@pytest.mark.parametrize("profile", profile_paths(), ids=lambda p: p.stem)
def test_check_ps1_parses_without_errors(profile: Path) -> None:
    bad = parse_errors(rendered(profile))
    assert not bad, bad[:10]


def test_parser_catches_a_broken_script() -> None:
    """The parse test can fail: a script with an unclosed block has ERROR/MISSING nodes."""
    assert parse_errors("if ($x) { Write-Output 'a' \n")


@pytest.mark.parametrize("profile", profile_paths(), ids=lambda p: p.stem)
def test_every_check_id_appears_once_with_its_quoted_values(profile: Path) -> None:
    text = rendered(profile)
    resolved = load_profile(profile)
    for pc in plan_checks(resolved):
        if not pc.record.in_scripts:  # doctor-only (records.DOCTOR_ONLY_KINDS)
            assert quote_ps(pc.id) not in text, pc.id
            continue
        calls = re.findall(rf"^(Invoke-Check|Skip-Check) {re.escape(quote_ps(pc.id))} ", text, re.M)
        assert calls == ["Invoke-Check" if pc.applicable else "Skip-Check"], pc.id
        if pc.applicable:
            line = next(
                ln for ln in text.splitlines() if ln.startswith(f"Invoke-Check {quote_ps(pc.id)} ")
            )
            for value in script_args(pc):
                assert quote_ps(value) in line, (pc.id, value)
    scripted = [r for r in load_checks() if r.in_scripts]
    assert len(scripted) == len(re.findall(r"^(?:Invoke|Skip)-Check ", text, re.M))


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
    assert not parse_errors(text)
    # every line that calls a check passes its arguments as '...' literals or @('...')
    for line in text.splitlines():
        if line.startswith(("Invoke-Check ", "Skip-Check ")):
            rest = re.sub(r"'(?:[^']|'')*'", "", line.split(" ", 1)[1])
            assert set(rest) <= set(" @(),"), line


def test_check_ps1_is_ascii() -> None:
    """Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page."""
    for profile in profile_paths():
        rendered(profile).encode("ascii")


def test_inside_wsl_the_adapter_query_goes_encoded_and_prints_utf8() -> None:
    """powershell.exe -EncodedCommand takes base64 of UTF-16LE: no space or quote for any
    caller to mangle; the script it carries is doctor's query after setting UTF-8 output
    (a GPU name outside the OEM code page would become '?')."""
    import base64

    from provisioner.host.parse_windows import WINDOWS_QUERY

    text = rendered(profile_paths()[0])
    (line,) = [ln for ln in text.splitlines() if ln.startswith("$WindowsQueryEncoded = ")]
    encoded = line.split(" = ", 1)[1].strip("'")
    script = base64.b64decode(encoded).decode("utf-16-le")
    assert script == "[Console]::OutputEncoding=[Text.Encoding]::UTF8;" + WINDOWS_QUERY
    assert "'-EncodedCommand', $WindowsQueryEncoded" in text
