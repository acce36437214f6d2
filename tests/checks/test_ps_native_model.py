"""The argument-passing model (tests/support/ps_native.py) against the examples its
sources give: each test quotes the rule it holds and where it is written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.ps_native import (
    Arg,
    Param,
    Unmodelled,
    cmd_command,
    command_line,
    crt_argv,
    paste_argument,
    ps51_arguments,
    ps73_arguments,
    py_launcher_37,
    py_launcher_311,
)

PY = "C:\\Windows\\py.exe"


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        # The table of https://learn.microsoft.com/cpp/c-language/parsing-c-command-line-arguments
        ('"a b c" d e', ["a b c", "d", "e"]),
        ('"ab\\"c" "\\\\" d', ['ab"c', "\\", "d"]),
        ('a\\\\\\b d"e f"g h', ["a\\\\\\b", "de fg", "h"]),
        ('a\\\\\\"b c d', ['a\\"b', "c", "d"]),
        ('a\\\\\\\\"b c" d e', ["a\\\\b c", "d", "e"]),
        # "If the command line ends before a closing double quotation mark is found, then
        # all the characters read so far are output as the last argument."
        ('"D:\\ML Envs\\" -Python x', ['D:\\ML Envs" -Python x']),
    ],
)
def test_crt_splits_like_the_documented_examples(line: str, argv: list[str]) -> None:
    assert crt_argv("prog.exe " + line)[1:] == argv


def test_crt_refuses_the_pair_of_quotes_its_versions_read_differently() -> None:
    """``a"b"" c d``: ``ab" c d`` in the page's table until MicrosoftDocs/cpp-docs#4643
    changed it to ``ab"``, ``c``, ``d``: the model does not pick one."""
    with pytest.raises(Unmodelled):
        crt_argv('prog a"b"" c d')


def test_crt_program_name_has_no_escapes() -> None:
    """argv[0]: "quotes are removed, but backslashes and quotes inside are not escapes"
    (the same page, first rule)."""
    assert crt_argv('"C:\\Program Files\\x\\" y')[0] == "C:\\Program Files\\x\\"


def test_ps51_adds_quotes_only_around_unquoted_whitespace() -> None:
    """appendOneNativeArgument's own comment: ``$a = 'a"b c"d'`` passed three ways
    "should see 3 identical arguments in argv": no quotes are added, the receiver
    drops the embedded ones."""
    arguments = ps51_arguments(['a"b c"d'])
    assert arguments == 'a"b c"d'
    assert crt_argv(command_line("echoargs", arguments))[1:] == ["ab cd"]
    assert ps51_arguments(["C:\\a b"]) == '"C:\\a b"'


def test_ps51_does_not_escape_embedded_quotes() -> None:
    """PowerShell/PowerShell#1995: embedded ``"`` reach the program unescaped, so the
    C runtime removes them (the issue's Python probe)."""
    code = 'import sys; print("%d.%d" % sys.version_info[:2])'
    line = command_line("python.exe", ps51_arguments([Param("-c"), code]))
    assert crt_argv(line)[1:] == ["-c", "import sys; print(%d.%d % sys.version_info[:2])"]
    line73 = command_line("python.exe", ps73_arguments([Param("-c"), code], "python.exe"))
    assert crt_argv(line73)[1:] == ["-c", code]  # 7.3+: escaped (ArgumentList)


def test_ps51_drops_empty_strings() -> None:
    """PowerShell/PowerShell#1995 (and #15143): an empty-string argument is not passed."""
    assert crt_argv(command_line("x", ps51_arguments(["a", "", "b"])))[1:] == ["a", "b"]
    assert crt_argv(command_line("x", ps73_arguments(["a", "", "b"], "x")))[1:] == ["a", "", "b"]


def test_ps51_trailing_backslash_escapes_the_added_quote() -> None:
    """No doubling of trailing backslashes before PowerShell/PowerShell#4965 (6.0): the
    added closing quote becomes a literal one and the next arguments join this one."""
    args: list[Arg] = [Param("-Prefix"), "D:\\ML Envs\\", Param("-Python"), "x"]
    assert crt_argv(command_line("p", ps51_arguments(args)))[1:] == [
        "-Prefix",
        'D:\\ML Envs" -Python x',
    ]
    assert crt_argv(command_line("p", ps73_arguments(args, "p")))[1:] == [
        "-Prefix",
        "D:\\ML Envs\\",
        "-Python",
        "x",
    ]


def test_ps73_keeps_legacy_passing_for_cmd_and_batch_files() -> None:
    """NativeCommandProcessor.cs s_legacyCommands / s_legacyFileExtensions."""
    assert ps73_arguments(['a "b"'], "C:\\Windows\\System32\\cmd.exe") == '"a "b""'
    assert ps73_arguments(['a "b"'], "conda.bat") == '"a "b""'
    assert ps73_arguments(['a "b"'], "python.exe") == '"a \\"b\\""'


@given(st.lists(st.text(alphabet=st.sampled_from('ab \\"\t\u00e9'), max_size=8), max_size=5))
def test_pasted_arguments_round_trip_through_the_crt(args: list[str]) -> None:
    """.NET's PasteArguments is the C runtime's inverse: every argv survives."""
    line = command_line("prog", " ".join(paste_argument(a) for a in args))
    assert crt_argv(line)[1:] == args


def test_launcher_takes_only_a_raw_first_dash_argument_as_its_option() -> None:
    """launcher2.c parseCommandLine: ``if (*arg && *arg == L'-' && *++arg)`` on the raw
    command line; "-0p" in quotes is not an option, and python.exe then reads ``-0p``
    ("Unknown option: -0")."""
    assert py_launcher_311(f'"{PY}" -0p').option == "-0p"
    assert py_launcher_311(f'"{PY}" "-0p"').python_argv == ("-0p",)
    call = py_launcher_311(f'"{PY}" -3.11 -c "import sys"')
    assert (call.option, call.python_argv) == ("-3.11", ("-c", "import sys"))
    assert py_launcher_311(f'"{PY}" -V:3.12 -c x').option == "-V:3.12"
    assert py_launcher_311(f'"{PY}" -c x').python_argv == ("-c", "x")  # not a launcher option


def test_old_launcher_skips_the_unquoted_length_of_its_option() -> None:
    """launcher.c (3.7-3.10): ``command += wcslen(p)`` on the raw line, with ``p`` the
    C runtime's argv[1]: quotes around the version option shift the cut."""
    call = py_launcher_37(f'"{PY}" "-3.9" -c x')
    assert call.option == "-3.9" and call.python_argv != ("-c", "x")
    assert py_launcher_37(f'"{PY}" -3.9 -c x').python_argv == ("-c", "x")
    assert py_launcher_37(f'"{PY}" "-0p"').option == "-0p"  # argv[1] is unquoted there


def test_cmd_runs_the_text_after_a_bare_c_switch() -> None:
    """``cmd /?``: the remainder after /C is the command; a leading quote and the last
    one are stripped unless the narrow keep-quotes case applies."""
    assert cmd_command('"C:\\Windows\\system32\\cmd.exe" /c ver') == "ver"
    assert cmd_command('"cmd.exe" /d /c "echo a&b"') == "echo a&b"
    with pytest.raises(Unmodelled):
        cmd_command('"cmd.exe" "/c" "ver"')
    with pytest.raises(Unmodelled):
        cmd_command('"cmd.exe" /c "C:\\Program Files\\x.exe"')
