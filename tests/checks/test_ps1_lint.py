"""The Windows PowerShell 5.1 lint rules (tests/support/ps_lint.py): each finds its
pitfall in a small failing example, and every rendered script and golden file is clean.
PowerShell cannot run here; the rules read the tree-sitter tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ps1_scripts import rendered_scripts
from tests.support.ps_lint import RULES, lint

STOP = "$ErrorActionPreference = 'Stop'\n"
REPORTING = (
    "function Write-Report { 'r' }\n"
    "function Finish([int]$Code) { Write-Report; exit $Code }\n"
    "function Die([string]$M) { [Console]::Error.WriteLine($M); exit 2 }\n"
)

# rule -> (a script it must flag, the same script fixed)
EXAMPLES: dict[str, tuple[str, str]] = {
    "native-stderr-under-stop": (
        STOP + "$v = & $Exe -c 'print(1)' 2>$null\n",
        STOP + "try { $v = & $Exe -c 'print(1)' 2>$null } catch { $v = '' }\n",
    ),
    "date-format-without-culture": (
        "$s = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')\n",
        "$s = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', $Invariant)\n",
    ),
    "web-request-before-tls12": (
        "Invoke-WebRequest -UseBasicParsing -Uri $u -OutFile $f\n"
        "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12\n",
        "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12\n"
        "Invoke-WebRequest -UseBasicParsing -Uri $u -OutFile $f\n",
    ),
    "get-content-without-encoding": (
        "$m = Get-Content -Raw -LiteralPath $f | ConvertFrom-Json\n",
        "$m = Get-Content -Raw -Encoding UTF8 -LiteralPath $f | ConvertFrom-Json\n",
    ),
    "get-command-not-application": (
        "$c = Get-Command micromamba -ErrorAction SilentlyContinue\n& $c.Source create\n",
        "$c = Get-Command micromamba -CommandType Application -ErrorAction SilentlyContinue\n",
    ),
    "method-on-maybe-null": (
        "if ((Get-Content -Raw -Encoding UTF8 -LiteralPath $S).Trim() -eq $x) { 1 }\n",
        "if (([string](Get-Content -Raw -Encoding UTF8 -LiteralPath $S)).Trim() -eq $x) { 1 }\n",
    ),
    "remove-recurse-outside-try": (
        "Remove-Item -Recurse -Force -LiteralPath $Prefix\n",
        "try { Remove-Item -Recurse -Force -LiteralPath $Prefix } catch { Finish 1 }\n",
    ),
    "exit-before-report": (
        REPORTING + "New-Item -ItemType Directory -Path $Work | Out-Null\nDie 'no python'\n",
        REPORTING
        + "Die 'no python'\nNew-Item -ItemType Directory -Path $Work | Out-Null\nFinish 1\n",
    ),
    "powershell-7-only": (
        "$a = $b ?? 'x'\n$c = $d ? 1 : 2\nGet-Thing && Get-Other\n$p = $line.Split(' @ ')\n"
        "$j = Get-Content -Raw -Encoding UTF8 $f | ConvertFrom-Json -AsHashtable\n",
        "if ($null -eq $b) { $a = 'x' } else { $a = $b }\n$p = $line -split ' @ '\n",
    ),
    "predictable-temp-name": (
        '$tmp = "$latest.tmp-$PID"\n$Aside = "$Prefix.old-" + (Get-Random)\n',
        "$tmp = \"$latest.\" + [Guid]::NewGuid().ToString('N') + '.tmp'\n"
        "$PsExe = (Get-Process -Id $PID).Path\n",
    ),
    "temp-file-not-exclusive": (
        "[IO.File]::WriteAllText($tmp, $Text, $Utf8)\n"
        "Move-Item -Force -LiteralPath $tmp -Destination $latest\n",
        "$s = [IO.File]::Open($tmp, 'CreateNew', 'Write', 'None')\n"
        "try { $s.Write($b, 0, $b.Length) } finally { $s.Dispose() }\n"
        "Move-Item -Force -LiteralPath $tmp -Destination $latest\n",
    ),
    "file-redirection-utf16": (
        "& $Exe --version > $Out\n",
        "& $Exe --version | Set-Content -Encoding UTF8 -LiteralPath $Out\n",
    ),
}


def test_every_rule_has_an_example() -> None:
    assert set(EXAMPLES) == set(RULES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_rule_flags_its_failing_example_and_not_the_fix(name: str) -> None:
    bad, good = EXAMPLES[name]
    assert [f.rule for f in lint(bad, only=name)], f"{name} missed:\n{bad}"
    assert not lint(good, only=name), lint(good, only=name)


def test_the_ps7_rule_finds_each_construct() -> None:
    bad = EXAMPLES["powershell-7-only"][0]
    assert len(lint(bad, only="powershell-7-only")) >= 5


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return rendered_scripts(tmp_path_factory.mktemp("ps1"))


def test_every_rendered_script_and_golden_file_is_clean(scripts: dict[str, str]) -> None:
    assert len(scripts) >= 12
    problems = [
        f"{name}:{finding}" for name, source in sorted(scripts.items()) for finding in lint(source)
    ]
    assert not problems, "\n".join(problems)


def test_the_scripts_before_issue_20_are_flagged() -> None:
    """The scripts as they were (tests/data/ps1_before_issue20): each pitfall issue 20
    names is found where it was."""
    before = Path(__file__).resolve().parents[1] / "data" / "ps1_before_issue20"
    rules = {
        path.name: {f.rule for f in lint(path.read_text(encoding="utf-8"))}
        for path in before.glob("*.ps1")
    }
    assert rules["torch-directml-windows.bootstrap.ps1"] >= {
        "native-stderr-under-stop",
        "date-format-without-culture",
        "web-request-before-tls12",
        "get-content-without-encoding",
        "get-command-not-application",
        "method-on-maybe-null",
        "remove-recurse-outside-try",
        "exit-before-report",
    }
    assert rules["torch-directml-windows.bundle.bootstrap.ps1"] >= {
        "get-content-without-encoding",
        "remove-recurse-outside-try",
    }
