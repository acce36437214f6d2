"""The bundle's ``bootstrap.ps1`` checks its installed tool on every run, before anything
of the tool venv runs, and two bootstraps of one bundle at once do not both install it:
the second waits (bounded) or stops with a ``busy:`` line.

PowerShell cannot run here, so each part is tested where it can be, on the rendered
script itself:

- the check: the script's own native call (found on its tree-sitter tree), with its
  arguments as Windows PowerShell 5.1 builds the command line and the C runtime splits
  it (tests/support/ps_native.py), run for real by the host Python against a real tool
  venv (a STAND-IN: the Linux layout, installed by the bundle's bootstrap.sh from the
  same stand-in bundle as tests/bundle/test_bundle_tool_venv.py), in a folder with a
  space: an intact tool passes, an edited file and a planted ``.pth`` are named;
- the lock: the script's own ``Enter-ToolLock`` and the line after it, run by the small
  interpreter (tests/support/ps_eval.py) against a model of Windows' file sharing
  (CreateFileW's share mode) and a stand-in clock;
- the order: no native call runs the tool venv's Python before the check.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from provisioner.bundle.scripts import bundle_scripts
from provisioner.profile import load_profile
from tests.bundle.conftest import HOST_PYTHON, PY, REPO, bootstrap_env
from tests.bundle.test_bundle_tool_venv import bootstrap, finish, site, stand_in_bundle, tool_venv
from tests.support.ps_calls import argument_values, native_calls, script_constants
from tests.support.ps_eval import DotNetError, Interpreter
from tests.support.ps_eval_script import ScriptInterpreter
from tests.support.ps_native import command_line, crt_argv, ps51_arguments

BEFORE = REPO / "tests" / "data" / "ps1_before_issue20"


def windows_script(bundle: Path) -> str:
    """The bundle's bootstrap.ps1 for win-64, carrying the stand-in bundle's tool files."""
    tool = bundle / "tool"
    requirements = (tool / f"requirements-{PY}.txt").read_bytes()
    files = bundle_scripts(
        resolved=load_profile(REPO / "profiles" / "torch-directml-windows.yaml"),
        platform="win-64",
        top=bundle.name,
        tool_ids={PY: hashlib.sha256(requirements).hexdigest()},
        locked=[],
        tool_files=sorted(f"tool/{p.name}" for p in tool.iterdir()),
    )
    return files["bootstrap.ps1"][0].lstrip("\ufeff")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the stand-in bundle, its installed tool venv), both under folders with a space."""
    root = tmp_path_factory.mktemp("ps1 tool")
    bundle = stand_in_bundle(root / "lab bundle")
    target = root / "lab pc"
    code, err = finish(bootstrap(bundle, target))
    assert code == 0, err
    return bundle, tool_venv(target)


def run_tool_check(bundle: Path, venv: Path) -> subprocess.CompletedProcess[str]:
    """The script's tool check as Windows PowerShell 5.1 would start it, run here."""
    script = windows_script(bundle)
    (call,) = [c for c in native_calls(script) if "$ToolCheckCode" in c.text]
    values = {
        "pyexe": str(HOST_PYTHON),
        "toolcheckcode": script_constants(script)["toolcheckcode"][0],
        "selfwheel": str(next((bundle / "tool").glob("provisioner_gpu-*.whl"))),
        "toolvenv": str(venv),
        "toolfiles": str(bundle / "tool"),
        "toolrequirements": str(bundle / "tool" / f"requirements-{PY}.txt"),
    }
    program, args = argument_values(call, values, {})
    argv = crt_argv(command_line(program, ps51_arguments(args)))
    assert argv[0] == str(HOST_PYTHON) and argv[1:3] == ["-I", "-c"]
    return subprocess.run(
        argv,
        env=bootstrap_env(bundle.parent),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tool_check_passes_an_intact_tool(installed: tuple[Path, Path]) -> None:
    done = run_tool_check(*installed)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_tool_check_names_an_edited_file_and_a_planted_pth(
    installed: tuple[Path, Path],
) -> None:
    bundle, venv = installed
    module = site(venv) / "provisioner" / "bundle" / "install.py"
    original = module.read_bytes()
    pth = site(venv) / "zz_evil.pth"
    try:
        module.write_bytes(original + b"\nimport os  # the edited code would run\n")
        pth.write_text("import os; os.system('touch PWNED')\n")
        done = run_tool_check(bundle, venv)
    finally:
        module.write_bytes(original)
        pth.unlink()
    assert done.returncode == 1, done.stderr
    assert "pip:provisioner-gpu: provisioner/bundle/install.py (changed)" in done.stdout
    assert "pip:?: zz_evil.pth (added)" in done.stdout


def test_nothing_of_the_tool_venv_runs_before_the_check() -> None:
    """In source order, the check comes before any run of the tool venv's Python; the
    script before (tests/data/ps1_before_issue20) ran it unchecked."""
    for source, checked in (
        (bundle_script_for_order(), True),
        ((BEFORE / "torch-directml-windows.bundle.bootstrap.ps1").read_text("utf-8"), False),
    ):
        calls = native_calls(source)
        tool_runs = [c.line for c in calls if c.text.startswith("& $ToolPython")]
        checks = [c.line for c in calls if "$ToolCheckCode" in c.text]
        assert tool_runs
        assert bool(checks and min(checks) < min(tool_runs)) is checked


def bundle_script_for_order() -> str:
    from provisioner.render import RenderContext
    from tests.support.ps1_scripts import bundle_bootstrap_ps1

    ctx = RenderContext(load_profile(REPO / "profiles" / "torch-directml-windows.yaml"), "t")
    return bundle_bootstrap_ps1(ctx, top="t", tool_ids={"3.11": "a" * 64})


# -- the lock -------------------------------------------------------------------------------
class Sharing:
    """Windows' file sharing, as CreateFileW documents it: an open handle's share mode
    says what other opens may do while it is open ("dwShareMode": FILE_SHARE_NONE
    "prevents other processes from opening a file ... if they request delete, read, or
    write access"; a conflicting open fails with ERROR_SHARING_VIOLATION, which .NET
    throws as an IOException), https://learn.microsoft.com/windows/win32/api/fileapi/nf-fileapi-createfilew
    and https://learn.microsoft.com/dotnet/api/system.io.file.open. FileMode
    ``OpenOrCreate`` creates a missing file; a closed handle shares nothing any more."""

    PARTS: ClassVar[dict[str, set[str]]] = {
        "None": set(),
        "Read": {"r"},
        "Write": {"w"},
        "ReadWrite": {"r", "w"},
    }

    def __init__(self) -> None:
        self.open_handles: list[Handle] = []

    def open(self, path: str, mode: str, access: str, share: str) -> Handle:
        assert mode == "OpenOrCreate", mode  # the lock file may be missing: it is made
        for other in self.open_handles:
            if other.path == path and not (
                self.PARTS[access] <= self.PARTS[other.share]
                and self.PARTS[other.access] <= self.PARTS[share]
            ):
                raise DotNetError("System.IO.IOException", "System.SystemException")
        handle = Handle(self, path, access, share)
        self.open_handles.append(handle)
        return handle


class Handle:
    def __init__(self, sharing: Sharing, path: str, access: str, share: str) -> None:
        self.sharing, self.path, self.access, self.share = sharing, path, access, share

    def Dispose(self) -> None:  # the .NET name the script calls
        self.sharing.open_handles.remove(self)


class Clock:
    """Stand-in time: Start-Sleep advances it; the other bootstrap lets go at ``release``."""

    def __init__(self, other: Any, release: float | None) -> None:
        self.now = 0.0
        self.sleeps = 0
        self.other, self.release = other, release

    def start_sleep(self, *args: Any) -> None:
        assert args[0].lower() == "-milliseconds"
        self.now += int(args[1]) / 1000
        self.sleeps += 1
        if self.other is not None and self.release is not None and self.now >= self.release:
            self.other.Dispose()
            self.other = None

    def stopwatch(self) -> SimpleNamespace:
        """``[Diagnostics.Stopwatch]::StartNew()``: its ``.Elapsed`` is this clock."""
        return SimpleNamespace(Elapsed=self)

    @property
    def TotalSeconds(self) -> float:  # TimeSpan's name
        return self.now


def lock_code(sharing: Sharing, clock: Clock, failed: list[tuple[Any, ...]]) -> Interpreter:
    """One bootstrap's run of the script's lock code, on the shared model and clock."""
    return Interpreter(
        bundle_script_for_order(),
        env={},
        variables={"Tool": "C:\\pd\\tool\\a", "ToolLockPath": "C:\\pd\\tool\\a.lock"},
        dotnet={
            "[IO.File]::Open": sharing.open,
            "[Diagnostics.Stopwatch]::StartNew": clock.stopwatch,
        },
        commands={"Start-Sleep": clock.start_sleep, "Fail": lambda *a: failed.append(a)},
    )


def take_the_lock(held: bool, release: float | None) -> tuple[Any, Clock, list[tuple[Any, ...]]]:
    """Run the script's ``$ToolLock = Enter-ToolLock ...`` and the line after it, while
    another bootstrap holds the lock (taken by the same code) or not."""
    sharing = Sharing()
    clock = Clock(None, release)
    failed: list[tuple[Any, ...]] = []
    if held:
        first = lock_code(sharing, clock, failed)
        first.run_top_level({"toolwaits", "toollock"})
        clock.other = first.get("ToolLock")
        assert isinstance(clock.other, Handle) and clock.sleeps == 0
    run = lock_code(sharing, clock, failed)
    run.run_top_level({"toolwaits", "toollock"})
    statements = next(c for c in run.root.children if c.type == "statement_list")
    (after,) = [
        s
        for s in statements.named_children
        if s.type == "if_statement" and "$null -eq $ToolLock" in (s.text or b"").decode()
    ]
    run.statement(after)
    return run.get("ToolLock"), clock, failed


def test_a_free_lock_is_taken_at_once() -> None:
    lock, clock, failed = take_the_lock(held=False, release=None)
    assert isinstance(lock, Handle) and clock.sleeps == 0 and not failed


def test_the_second_bootstrap_waits_for_the_first() -> None:
    lock, clock, failed = take_the_lock(held=True, release=42.0)
    assert isinstance(lock, Handle) and not failed
    assert 42.0 <= clock.now <= 43.0  # it waited, and not much longer than needed


def test_the_second_bootstrap_stops_busy_after_ten_minutes() -> None:
    lock, clock, failed = take_the_lock(held=True, release=None)
    assert lock is None
    assert 600 <= clock.now <= 601
    ((code, message),) = failed
    assert code == 1 and message.startswith("busy: another bootstrap of this bundle")
    assert "C:\\pd\\tool\\a for 600s (fix: wait for it to finish, then run this again)" in message


# -- the manifest ---------------------------------------------------------------------------
class PSObject:
    """STAND-IN for what ConvertFrom-Json makes of a JSON object: its names read without
    case; under ``Set-StrictMode -Version 3`` (the script sets it) a name it lacks throws
    PropertyNotFoundException."""

    def __init__(self, data: dict[str, object]) -> None:
        self._data = {k.lower(): v for k, v in data.items()}

    def __getattr__(self, name: str) -> object:
        if name.lower() not in self.__dict__.get("_data", {}):
            raise DotNetError("System.Management.Automation.PropertyNotFoundException")
        return self._data[name.lower()]


class PSScalar:
    """STAND-IN for a JSON string or number where the script reads a member of it: under
    strict mode a string has no ``path``, ``files`` or ``sha256`` and reading one throws."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __getattr__(self, name: str) -> object:
        raise DotNetError("System.Management.Automation.PropertyNotFoundException")


def ps_json(value: object, *, member: bool = True) -> object:
    """A JSON value as ConvertFrom-Json gives it (``member``: the script reads members of it)."""
    if isinstance(value, dict):
        return PSObject({k: ps_json(v, member=k in ("files",)) for k, v in value.items()})
    if isinstance(value, list):
        return [ps_json(v) for v in value]
    if value is None or not member:
        return value
    return PSScalar(value)


def read_manifest(
    text: str, empty_is_null: bool = False
) -> tuple[object, list[tuple[object, ...]]]:
    """The script's own manifest-reading statements (the read, the check of every entry,
    the stop), run by the interpreter with STAND-INS for ``Get-Content`` (the file's text)
    and ``ConvertFrom-Json``: text that is not JSON throws an ArgumentException; an empty
    text throws a ParameterBindingException in Windows PowerShell 5.1 (an empty string
    does not bind to ``-InputObject``) and gives $null with ``empty_is_null`` (PowerShell
    7); JSON objects and scalars are :class:`PSObject` and :class:`PSScalar`. Returns
    ``$ManifestFiles`` and the ``Fail`` calls."""

    def from_json(*args: object) -> object:
        assert args[0] == "-InputObject"
        if args[1] == "":
            if empty_is_null:
                return None
            raise DotNetError("System.Management.Automation.ParameterBindingException")
        try:
            return ps_json(json.loads(str(args[1])))
        except json.JSONDecodeError:
            raise DotNetError("System.ArgumentException") from None

    failed: list[tuple[object, ...]] = []
    run = ScriptInterpreter(
        bundle_script_for_order(),
        env={},
        variables={"ManifestFile": "C:\\b\\t\\manifest.json"},
        dotnet={},
        commands={
            "Get-Content": lambda *a, input=None: text,
            "ConvertFrom-Json": from_json,
            "Fail": lambda *a: failed.append(a),
        },
    )
    run.run_top_level({"manifestvalid"})
    statements = next(c for c in run.root.children if c.type == "statement_list")
    (stop,) = [
        c
        for c in statements.named_children
        if (c.text or b"").startswith(b"if (-not $ManifestValid)")
    ]
    run.statement(stop)
    files = run.scopes[-1].get("manifestfiles")
    return files, failed


DAMAGED = "the bundle is damaged: manifest.json is not a bundle manifest"


@pytest.mark.parametrize(
    ("text", "empty_is_null"),
    [
        ("{not json", False),
        ("", False),  # Windows PowerShell 5.1: '' does not bind to -InputObject
        ("", True),  # PowerShell 7: $null, whose members are never read
        ("null", False),
        ('"a manifest"', False),
        ('{"other": []}', False),
        ('{"files": []}', False),
        ('{"files": ["a.whl"]}', False),
        ('{"files": [null]}', False),
        ('{"files": [{"path": "a"}]}', False),
        ('{"files": [{"path": null, "sha256": "0"}]}', False),
        ('{"files": [{"path": "", "sha256": "0"}]}', False),  # Join-Path refuses an empty path
        ('{"files": [{"path": "a", "sha256": "0"}, 7]}', False),
    ],
)
def test_a_manifest_that_is_not_one_is_a_damaged_bundle_not_an_internal_error(
    text: str, empty_is_null: bool
) -> None:
    _, failed = read_manifest(text, empty_is_null)
    assert failed == [(1, f"{DAMAGED} (fix: copy the bundle again)")]


def test_a_manifest_gives_its_files() -> None:
    files, failed = read_manifest('{"files": [{"path": "a", "sha256": "0"}]}')
    assert failed == []
    assert isinstance(files, list) and len(files) == 1
    assert (files[0].path, files[0].sha256) == ("a", "0")
