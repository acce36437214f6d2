"""The ``|sh`` and ``|ps`` filters against hostile strings.

bash: the quoted literal is executed (``bash -c 'printf %s '<literal>``) and the
bytes must come back unchanged. PowerShell cannot run here: the literal is parsed
with tree-sitter-powershell (one string-literal node, no error) and decoded by the
documented verbatim-string rule, which also covers the typographic single quotes
that tree-sitter's grammar does not treat as quotes.
"""

from __future__ import annotations

import subprocess

import pytest
import tree_sitter
from support.powershell import nodes_of_type, parse_errors

from provisioner.render.jinja import environment, quote_ps, quote_sh

HOSTILE = [
    "plain",
    "",
    "it's",
    "''",
    'double "quotes"',
    "$(touch /tmp/pwned)",
    "`touch /tmp/pwned`",
    "${HOME}",
    "$HOME",
    "a\nb\n",
    "line\r\nbreak",
    "semi;colon",
    "amp & and && or ||",
    "pipe | tee",
    "glob * ? [a-z] {a,b} ~",
    "-n",
    "--help",
    "back\\slash\\",
    "bang !! !$",
    "hash # comment",
    "tab\there",
    "\u2018smart\u2019 \u201asingle\u201b",
    "a\u2019; Remove-Item C:\\ -Recurse; \u2019",
    "\u201cdouble smart\u201d",
    "$env:PATH @(1,2) $(Get-Date) `$x",
    "caf\u00e9 \U0001f600 \u4e2d\u6587",
    "x" * 5000,
]

# PowerShell's single-quote characters: about_Quoting_Rules
PS_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


@pytest.mark.parametrize("value", HOSTILE)
def test_sh_literal_round_trips_through_bash(value: str) -> None:
    script = "printf %s " + quote_sh(value)
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    assert out == value.encode("utf-8")


@pytest.mark.parametrize("value", HOSTILE)
def test_sh_literal_is_one_word_in_a_larger_command(value: str) -> None:
    script = f'set -- {quote_sh(value)} tail; printf \'%s|\' "$#" "$1"'
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    assert out == f"2|{value}|".encode()


def ps_decode_verbatim(literal: str) -> tuple[str, int]:
    """Decode a PowerShell verbatim string at the start of ``literal`` the way its lexer
    does: any single-quote character opens and closes it; two in a row stand for the
    second. Returns the value and the index just after the closing quote."""
    assert literal[0] in PS_SINGLE_QUOTES
    out, i = [], 1
    while i < len(literal):
        c = literal[i]
        if c in PS_SINGLE_QUOTES:
            if i + 1 < len(literal) and literal[i + 1] in PS_SINGLE_QUOTES:
                out.append(literal[i + 1])
                i += 2
                continue
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise AssertionError("unterminated string")


def ps_string_literals(source: str) -> list[tree_sitter.Node]:
    assert not parse_errors(source), source
    return nodes_of_type(source, "string_literal")


@pytest.mark.parametrize("value", HOSTILE)
def test_ps_literal_parses_as_one_string(value: str) -> None:
    literal = quote_ps(value)
    source = f"$x = {literal}\n"
    (node,) = ps_string_literals(source)
    assert node.text is not None
    assert node.text.decode("utf-8") == literal  # the node spans the whole literal
    decoded, end = ps_decode_verbatim(literal)
    assert (decoded, end) == (value, len(literal))  # nothing leaks after the string


def test_naive_ps_quoting_would_leak_smart_quotes() -> None:
    """Control: without doubling the typographic quotes, the string ends early."""
    value = "a\u2019; Remove-Item C:\\ -Recurse; \u2019"
    naive = "'" + value.replace("'", "''") + "'"
    decoded, end = ps_decode_verbatim(naive)
    assert end < len(naive) and decoded != value


def test_nul_cannot_be_quoted() -> None:
    for quote in (quote_sh, quote_ps):
        with pytest.raises(ValueError, match="NUL"):
            quote("a\x00b")


def test_filters_are_registered_in_the_template_environment() -> None:
    template = environment().from_string("echo {{ v|sh }}\nWrite-Output {{ v|ps }}\n")
    value = "it's $(x)"
    text = template.render(v=value)
    assert text.splitlines() == [f"echo {quote_sh(value)}", f"Write-Output {quote_ps(value)}"]
