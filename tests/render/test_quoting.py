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

from provisioner.templating import environment, quote_ps, quote_sh
from tests.support.powershell import nodes_of_type, parse_errors
from tests.support.ps_values import ps_decode_verbatim, ps_expression_value

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
    "\u0112; New-Item C:\\pwned.txt #",
    "\u00e9 starts non-ASCII",
    "x" * 5000,
]


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


def ps_string_literals(source: str) -> list[tree_sitter.Node]:
    assert not parse_errors(source), source
    return nodes_of_type(source, "string_literal")


@pytest.mark.parametrize("value", HOSTILE)
def test_ps_literal_parses_as_one_string(value: str) -> None:
    expression = quote_ps(value)
    assert expression.isascii()  # the same bytes under every Windows code page
    source = f"$x = {expression}\n"
    assert not parse_errors(source), source
    (assignment,) = nodes_of_type(source, "assignment_expression")
    value_node = assignment.children[-1]
    assert value_node.text == expression.encode("ascii")  # the node spans the whole value
    assert ps_expression_value(value_node) == value


def test_ascii_values_stay_one_verbatim_string() -> None:
    value = "it's $(x) `y` ; z"
    (node,) = ps_string_literals(f"$x = {quote_ps(value)}\n")
    assert node.text == ("'" + value.replace("'", "''") + "'").encode()


def test_naive_ps_quoting_would_leak_smart_quotes() -> None:
    """Control: without doubling the typographic quotes, the string ends early."""
    value = "a\u2019; Remove-Item C:\\ -Recurse; \u2019"
    naive = "'" + value.replace("'", "''") + "'"
    decoded, end = ps_decode_verbatim(naive)
    assert end < len(naive) and decoded != value


def test_utf8_literal_read_as_cp1252_would_end_early() -> None:
    """Control: why |ps writes non-ASCII as [char]: the UTF-8 bytes of U+0112 end in
    0x92, which Windows PowerShell 5.1 reads (cp1252, no BOM) as a closing quote."""
    naive = "'\u0112; New-Item C:\\pwned.txt #'"
    as_ansi = naive.encode("utf-8").decode("cp1252")
    _, end = ps_decode_verbatim(as_ansi)
    assert end < len(as_ansi) and "New-Item" in as_ansi[end:]
    assert quote_ps("\u0112; New-Item C:\\pwned.txt #").isascii()


def test_nul_cannot_be_quoted() -> None:
    for quote in (quote_sh, quote_ps):
        with pytest.raises(ValueError, match="NUL"):
            quote("a\x00b")


def test_filters_are_registered_in_the_template_environment() -> None:
    template = environment().from_string("echo {{ v|sh }}\nWrite-Output {{ v|ps }}\n")
    value = "it's $(x)"
    text = template.render(v=value)
    assert text.splitlines() == [f"echo {quote_sh(value)}", f"Write-Output {quote_ps(value)}"]
