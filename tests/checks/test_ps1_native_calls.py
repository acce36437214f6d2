"""Every native-program call in every rendered PowerShell script reaches its program with
exactly the arguments the script means, under Windows PowerShell 5.1 and PowerShell 7.3+.

PowerShell cannot run here. The calls are found on the scripts' tree-sitter trees
(``tests/support/ps_calls.py``: ``& $Exe ...``, bare program names, and the scripts'
own ProcessStartInfo wrappers such as check.ps1's ``Invoke-Probe``); their arguments are
evaluated for worst-case values of the variables they use (paths with spaces, a
trailing ``\\``, a quote, non-ASCII); the command line each caller builds and the way
the program splits it come from the model in ``tests/support/ps_native.py``, whose
rules cite their sources (and are held to those sources' own examples in
``test_ps_native_model.py``). A call the table below has no values for fails the test:
every call is covered, and a new one must be added here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from provisioner.host.patterns import PYTHON_PROBE
from tests.support.powershell import parse
from tests.support.ps1_scripts import rendered_scripts
from tests.support.ps_calls import (
    NativeCall,
    Value,
    argument_values,
    bindings,
    native_calls,
    process_wrappers,
    script_constants,
)
from tests.support.ps_native import (
    Arg,
    Param,
    Unmodelled,
    cmd_command,
    command_line,
    crt_argv,
    ps51_arguments,
    ps73_arguments,
    py_launcher_37,
    py_launcher_311,
)

# Worst cases: a user name with a space, an apostrophe and a non-ASCII letter (the
# profile folder, TEMP and LOCALAPPDATA are under it), a drive root, SYSTEM's folders.
USER = "C:\\Users\\Zo\u00eb O'Brien"
HERE = (USER + "\\Desktop\\dml env", "E:\\dml-win-64")
TEMP = (USER + "\\AppData\\Local\\Temp\\provision-bootstrap-0f3c", "C:\\Windows\\SystemTemp\\pb-1")
PREFIX = (USER + "\\ML Envs\\dml", "D:\\envs\\dml", "C:\\ProgramData\\provision\\envs\\dml")
PYTHON = (
    USER + "\\AppData\\Local\\Programs\\Python\\Python311\\python.exe",
    "C:\\Program Files\\Python311\\python.exe",
)
CODE_WORDS = ("ver",)


def _files(folder: tuple[str, ...], name: str) -> tuple[str, ...]:
    return tuple(f"{f}\\{name}" for f in folder)


# Variable (lower case) -> candidate values, for every variable a native call uses.
COMMON: dict[str, Sequence[Value]] = {
    "here": HERE,
    "work": TEMP,
    "prefix": PREFIX,
    "pythonversion": ("3.11", "3.7"),
    "pyversion": ("3.11",),
    "python": PYTHON,
    "envpython": _files(PREFIX, "Scripts\\python.exe") + _files(PREFIX, "python.exe"),
    "psexe": (
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "C:\\Program Files\\PowerShell\\7\\pwsh.exe",
    ),
    "checkscript": _files(HERE, "check.ps1"),
    "smokescript": _files(HERE, "smoke_test.py"),
    "smokefile": _files(TEMP, "smoke.json"),
    # bootstrap.ps1's helper (apply's packed Python): its file, and the mode it is run in
    "helper": _files(TEMP, "bootstrap-helper.py"),
    "mode": ("state-check", "state-write", "activation"),
    "reqfile": _files(TEMP, "requirements.txt"),
    "explicitfile": _files(TEMP, "explicit.txt"),
    "conda": (USER + "\\micromamba\\micromamba.exe", "C:\\Program Files\\mamba\\mamba.exe"),
    "pyexe": PYTHON,
    "tool": (USER + "\\.local\\share\\provision\\tool\\0123456789abcdef",),
    "toolpython": (USER + "\\.local\\share\\provision\\tool\\01\\venv\\Scripts\\python.exe",),
    "uv": (USER + "\\.local\\share\\provision\\tool\\01\\uv.exe",),
    # the bundle's tool check: the bundle's own wheel, its tool folder and requirements,
    # and the tool venv it checks
    "selfwheel": _files(HERE, "tool\\provisioner_gpu-0.1.0-py3-none-any.whl"),
    "toolfiles": _files(HERE, "tool"),
    "toolrequirements": _files(HERE, "tool\\requirements-3.11.txt"),
    "toolvenv": (
        USER + "\\.local\\share\\provision\\tool\\0123456789abcdef\\venv",
        "C:\\ProgramData\\provision\\tool\\0123456789abcdef\\venv",
    ),
    "verify": ("smoke", "import"),
    "report": (USER + "\\Desktop\\lab report.json",),
}
# Python commands the scripts try: the launcher with a version option, or an interpreter.
PY_COMMANDS: tuple[list[str], ...] = (["py", "-3.11"], ["python"], [PYTHON[0]], [PYTHON[1]])
COMMON.update(
    {
        "c": PY_COMMANDS,
        "py": PY_COMMANDS,
        "command": PY_COMMANDS,
        "rest": (["-3.11"], []),
        "pyrest": (["-3.11"], []),
        "exe": ("C:\\Windows\\py.exe", PYTHON[0], PYTHON[1]),
        "options": (["-3.11"], ["-3.7"], []),
        "pythonexe": PYTHON,
        "host64": ("C:\\Windows\\Sysnative\\WindowsPowerShell\\v1.0\\powershell.exe",),
        "scriptpath": _files(HERE, "bootstrap.ps1"),
        "forward": (
            ["-Prefix", PREFIX[0], "-DryRun", "-Report", USER + "\\Desktop\\lab report.json"],
            [
                "-Python",
                PYTHON[1],
                "-CondaExe",
                USER + "\\micromamba\\micromamba.exe",
                "-SkipChecks",
            ],
            ["-ProvisionHome", "C:\\ProgramData\\provision", "-Verify", "import", "-Json"],
            ["-Prefix", "D:\\", "-Report", "E:\\r.json"],
        ),
        "pass": (
            [
                *("-m", "provisioner.bundle.install", "--bundle", HERE[0], "--verify", "smoke"),
                *("--prefix", PREFIX[0], "--skip-checks", "--report", USER + "\\r.json", "--json"),
            ],
        ),
    }
)
# check.ps1 (Invoke-Probe): what it probes, on Windows and inside WSL (interop)
CHECK: dict[str, Sequence[Value]] = {
    "cmd": ("cmd.exe", "/mnt/c/Windows/system32/cmd.exe"),
    "ps": ("powershell.exe", "/mnt/c/Windows/System32/WindowsPowerShell/v1.0/powershell.exe"),
    "wsl": ("wsl.exe",),
    "windowsquery": ('$o=Get-CimInstance Win32_OperatingSystem;"os`t$($o.Caption)"',),
    "windowsqueryencoded": ("JABvAD0ARwBlAHQALQBDAGkAbQBJAG4AcwB0AGEAbgBjAGUA",),
    "rq": (["rpm", "-qa", "--qf", "%{NAME}\\n"],),
    "smi": ("/usr/lib/wsl/lib/nvidia-smi",),
    "exe": ("/usr/bin/python3", "/home/zo\u00eb o'brien/.pyenv/bin/python3.11", *PYTHON),
}
# Expressions (by their source text) the evaluator does not compute: their values.
EXTRA: dict[str, Value] = {
    "@($rq[1..($rq.Count - 1)])": ["-qa", "--qf", "%{NAME}\\n"],
    "(Get-HostPath $smi)": "/usr/lib/wsl/lib/nvidia-smi",
    "@($Py | Select-Object -Skip 1)": ["-3.11"],
    "$py.Source": "C:\\Windows\\py.exe",
    "$P['PYTHON_PROBE']": PYTHON_PROBE,  # check.ps1's table of provisioner/host/patterns.py
}


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return rendered_scripts(tmp_path_factory.mktemp("ps1"))


def _program_kind(program: str) -> str:
    base = re.split(r"[\\/]", program)[-1].lower()
    return base.removesuffix(".exe")


def wrapper_arguments(wrapper_source: str, args: Sequence[str]) -> str:
    """The ``ProcessStartInfo.Arguments`` string a script's process wrapper builds: the
    two forms the scripts have used, read from the wrapper's own code."""
    quoting = re.search(r"-replace '([^']*)', '([^']*)'", wrapper_source)
    if quoting and "$psi.Arguments = ($quoted -join ' ')" in wrapper_source:
        pattern = quoting.group(1)
        replacement = re.sub(r"\$(\d)", r"\\\1", quoting.group(2))
        return " ".join('"' + re.sub(pattern, replacement, a) + '"' for a in args)
    guard = re.search(r"-match '\[\\s\"\]'\)\s*\{\s*throw", wrapper_source)
    if guard and "$psi.Arguments = ($Arguments -join ' ')" in wrapper_source:
        bad = [a for a in args if a == "" or re.search(r'[\s"]', a)]
        if bad:
            raise Unmodelled(f"the wrapper refuses {bad!r}: it would need quoting")
        return " ".join(args)
    raise AssertionError(
        "a process wrapper this test does not know how to read:\n" + wrapper_source
    )


@dataclass(frozen=True)
class Delivery:
    """What the program got, for one caller."""

    caller: str
    received: object
    expected: object


def deliveries(
    program: str, args: Sequence[Arg], arguments_by_caller: Mapping[str, str]
) -> list[Delivery]:
    intended = [a.text if isinstance(a, Param) else a for a in args]
    kind = _program_kind(program)
    out = []
    for caller, arguments in arguments_by_caller.items():
        line = command_line(program, arguments)
        if kind == "py":
            first = intended[0] if intended else ""
            option = (
                first if re.fullmatch(r"-([23][\w.-]*|V:\S+|0p?|-list(-paths)?)", first) else None
            )
            listing = option in ("-0", "-0p", "--list", "--list-paths")
            expected = (option, None if listing else tuple(intended[1:] if option else intended))
            for launcher in (py_launcher_311, py_launcher_37):
                try:
                    got = launcher(line)
                    received: object = (got.option, got.python_argv)
                except Unmodelled as e:
                    received = f"unmodelled: {e}"
                out.append(Delivery(f"{caller} -> {launcher.__name__}", received, expected))
        elif kind == "cmd":
            try:
                received = cmd_command(line)
            except Unmodelled as e:
                received = f"unmodelled: {e}"
            assert intended[:1] == ["/c"], intended
            out.append(Delivery(caller, received, " ".join(intended[1:])))
        else:
            try:
                received = crt_argv(line)[1:]
            except Unmodelled as e:
                received = f"unmodelled: {e}"
            out.append(Delivery(caller, received, intended))
    return out


def check_call(call: NativeCall, source: str, env: Mapping[str, Sequence[Value]]) -> list[str]:
    """Problems of one call over every binding of its variables."""
    wrappers = process_wrappers(parse(source).root_node)
    problems = []
    for values in bindings(call, env):
        program, args = argument_values(call, values, EXTRA)
        if call.wrapper is not None:
            fn = (wrappers[call.wrapper.lower()].text or b"").decode()
            try:
                by_caller = {"ProcessStartInfo": wrapper_arguments(fn, [str(a) for a in args])}
            except Unmodelled as e:
                problems.append(f"line {call.line}: {call.text!r}: {e}")
                continue
        else:
            by_caller = {
                "Windows PowerShell 5.1": ps51_arguments(args),
                "PowerShell 7.3+": ps73_arguments(args, program),
            }
        for d in deliveries(program, args, by_caller):
            if d.received != d.expected:
                problems.append(
                    f"line {call.line}: {call.text.splitlines()[0]!r} with {values}\n"
                    f"    {d.caller}: {_program_kind(program)} receives {d.received!r}, "
                    f"meant {d.expected!r}"
                )
    return problems


def env_for(name: str, source: str) -> dict[str, Sequence[Value]]:
    """The table, and the script's own top-level string constants (``$PythonProbe``)."""
    base = {**COMMON, **CHECK} if name.endswith(".check.ps1") else dict(COMMON)
    return {**base, **script_constants(source)}


def test_every_native_call_reaches_its_program_intact(scripts: dict[str, str]) -> None:
    problems: list[str] = []
    counted = 0
    for name, source in sorted(scripts.items()):
        calls = native_calls(source)
        assert calls, f"{name}: no native call found (the finder is broken)"
        env = env_for(name, source)
        for call in calls:
            counted += 1
            problems += [f"{name}: {p}" for p in check_call(call, source, env)]
    assert counted >= 20
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} problems)"


BEFORE = Path(__file__).resolve().parents[1] / "data" / "ps1_before_issue20"


def test_the_scripts_before_issue_20_fail_it() -> None:
    """The scripts as they were (tests/data/ps1_before_issue20, rendered at f0e2461):
    bootstrap.ps1's and the bundle's Python probe (embedded quotes under 5.1) and
    check.ps1's Invoke-Probe quoting (``py "-0p"``, ``cmd.exe "/c" "ver"``) are found."""
    found: dict[str, list[str]] = {}
    for path in sorted(BEFORE.glob("*.ps1")):
        source = path.read_text(encoding="utf-8")
        env = env_for(path.name, source)
        found[path.name] = [p for c in native_calls(source) for p in check_call(c, source, env)]
    boot = "\n".join(found["torch-directml-windows.bootstrap.ps1"])
    bundle = "\n".join(found["torch-directml-windows.bundle.bootstrap.ps1"])
    check = "\n".join(found["torch-directml-windows.check.ps1"])
    mangled = "'import sys; print(%d.%d % sys.version_info[:2])'"
    assert "Windows PowerShell 5.1" in boot and mangled in boot
    assert "Windows PowerShell 5.1" in bundle and mangled in bundle
    assert "PowerShell 7.3+" not in boot  # 7.3+ escapes the quotes: only 5.1 breaks
    assert "py receives (None, ('-0p',)), meant ('-0p', None)" in check
    assert "cmd.exe reads" in check and "where it expects a /c switch" in check
