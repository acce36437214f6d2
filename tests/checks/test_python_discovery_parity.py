"""check.ps1 and ``provision doctor`` find the same Pythons on a Windows host, in the same
order, and where the bootstrap scripts look: the 64-bit CPythons ``py -0p`` lists, then
``python.exe`` on PATH (not the Microsoft Store's alias) and in the python.org
installer's folders (per user under ``%LOCALAPPDATA%``, all users under
``%ProgramFiles%``), each asked what it is and kept when it is a 64-bit interpreter, each
once.

No Windows here. A host is written down once (PATH, the two variables, what each folder
holds, what each program prints: the ``py -0p`` outputs are the launchers' own formats,
as in test_py_launcher_parity.py), then read by both sides:

- doctor's side through the one host probe, replaying that host as a facts snapshot
  (``Probe.replay``, the code path of ``--facts``), and live on this machine with
  STAND-IN programs on PATH (shell scripts named ``python.exe`` and ``py`` that print
  what the host's programs print);
- check.ps1's side by running the script's own discovery statements (rendered, found on
  its tree-sitter tree) in the interpreter of tests/support/ps_eval_script.py; its
  cmdlets (``Invoke-Probe``, ``Test-Path``, ``Get-ChildItem``, ``Sort-Object``,
  ``ConvertFrom-Bytes``, ``New-Object``) are stand-ins answering from the same host.
"""

from __future__ import annotations

import base64
import json
import ntpath
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from provisioner.host.interpreters import find_interpreters
from provisioner.host.patterns import PYTHON_PROBE
from provisioner.host.probe import Probe
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_checks import render_check_ps1
from tests.support.ps_eval_script import ScriptInterpreter

REPO = Path(__file__).resolve().parents[2]
USER = "C:\\Users\\Zo\u00eb O'Brien"
LOCAL = USER + "\\AppData\\Local"
PF = "C:\\Program Files"
STORE = LOCAL + "\\Microsoft\\WindowsApps"


@dataclass
class Host:
    """A Windows host as the checks read it."""

    path: list[str]
    env: dict[str, str]
    folders: dict[str, list[str]]  # folder -> the names in it
    programs: dict[str, tuple[int, str]] = field(default_factory=dict)  # command -> (rc, out)

    def listing(self, folder: str) -> list[str] | None:
        for known, names in self.folders.items():
            if known.lower() == folder.rstrip("\\").lower():
                return names
        return None


def python(version: str, bits: int, exe: str) -> tuple[str, tuple[int, str]]:
    """What ``EXE -c PYTHON_PROBE`` prints for an interpreter."""
    return f"{exe} -c {PYTHON_PROBE}", (0, f"{version}|{bits}|{exe}")


NEW_LAUNCHER = (  # PC/launcher2.c (3.11+): " %-16s %s", the default marked in the tag column
    f" -V:3.12 *        {LOCAL}\\Programs\\Python\\Python312\\python.exe\r\n"
    f" -V:3.11          {PF}\\Python311\\python.exe\r\n"
    " -V:3.11-32       C:\\Python311-32\\python.exe\r\n"
)
OLD_LAUNCHER = (  # PC/launcher.c (3.7-3.10): "\n %-15ls%ls", the default's " *" after the path
    f"\n -3.10-64       {LOCAL}\\Programs\\Python\\Python310\\python.exe *"
    "\n -3.9-32        C:\\Python39-32\\python.exe"
)
LAB = Host(
    path=[
        "C:\\Windows\\system32",
        "C:\\Windows",
        USER + "\\venvs\\tools\\Scripts\\",  # a venv's python.exe, first on PATH
        PF + "\\Python311\\",  # the same as the launcher's 3.11: once
        STORE,  # the Store's alias: never asked
        "C:\\Python38-32",  # a 32-bit python.exe: asked, not kept
        "",
    ],
    env={"LOCALAPPDATA": LOCAL, "PROGRAMFILES": PF},
    folders={
        "C:\\Windows\\system32": ["cmd.exe", "python3.dll"],
        "C:\\Windows": ["py.exe", "pyw.exe"],
        USER + "\\venvs\\tools\\Scripts": ["python.exe", "pip.exe"],
        PF + "\\Python311": ["python.exe", "pythonw.exe"],
        STORE: ["python.exe", "python3.exe"],
        "C:\\Python38-32": ["python.exe"],
        LOCAL + "\\Programs\\Python": ["Launcher", "Python312", "Python313", "Python39-32"],
        LOCAL + "\\Programs\\Python\\Python312": ["python.exe"],
        LOCAL + "\\Programs\\Python\\Python313": ["python.exe", "python3.13t.exe"],
        LOCAL + "\\Programs\\Python\\Python39-32": ["python.exe"],
        PF: ["Python311", "Python314", "Common Files"],
        PF + "\\Python311": ["python.exe", "pythonw.exe"],
        PF + "\\Python314": ["README.txt"],  # an uninstall left the folder: no python.exe
    },
    programs=dict(
        [
            ("py -0p", (0, NEW_LAUNCHER)),
            python("3.10", 64, USER + "\\venvs\\tools\\Scripts\\python.exe"),
            python("3.11", 64, PF + "\\Python311\\python.exe"),
            python("3.8", 32, "C:\\Python38-32\\python.exe"),
            python("3.12", 64, LOCAL + "\\Programs\\Python\\Python312\\python.exe"),
            python("3.13", 64, LOCAL + "\\Programs\\Python\\Python313\\python.exe"),
            (f"{STORE}\\python.exe -c {PYTHON_PROBE}", (9009, "")),
        ]
    ),
)
# (version, path) in the order the bootstraps try them
LAB_FOUND = [
    ("3.12", LOCAL + "\\Programs\\Python\\Python312\\python.exe"),
    ("3.11", PF + "\\Python311\\python.exe"),
    ("3.10", USER + "\\venvs\\tools\\Scripts\\python.exe"),
    ("3.13", LOCAL + "\\Programs\\Python\\Python313\\python.exe"),
]
HOSTS = {
    "lab PC (new launcher, PATH, both folders)": (LAB, LAB_FOUND),
    "old launcher, nothing else": (
        Host(
            ["C:\\Windows"],
            {"LOCALAPPDATA": LOCAL},
            {"C:\\Windows": ["py.exe"]},
            {"py -0p": (0, OLD_LAUNCHER)},
        ),
        [("3.10", LOCAL + "\\Programs\\Python\\Python310\\python.exe")],
    ),
    "no launcher: python.org all users, on PATH": (
        Host(
            [PF + "\\Python311", PF + "\\Python311\\Scripts"],
            {"PROGRAMFILES": PF},
            {PF: ["Python311"], PF + "\\Python311": ["python.exe"]},
            dict([python("3.11", 64, PF + "\\Python311\\python.exe")]),
        ),
        [("3.11", PF + "\\Python311\\python.exe")],
    ),
    "only the Store's alias": (
        Host(
            [STORE],
            {"LOCALAPPDATA": LOCAL},
            {STORE: ["python.exe"]},
            {f"{STORE}\\python.exe -c {PYTHON_PROBE}": (0, "3.12|64|" + STORE + "\\python.exe")},
        ),
        [],
    ),
}


# -- doctor's side ------------------------------------------------------------------------------
def doctor_replayed(host: Host, tmp_path: Path) -> list[tuple[str, str]]:
    """find_interpreters through a replayed probe of ``host`` (what ``--facts`` reads)."""
    commands: dict[str, Any] = {}
    for key, (rc, out) in host.programs.items():
        commands[key] = {
            "argv": [key],
            "returncode": rc,
            "stdout_b64": base64.b64encode(out.encode()).decode(),
            "stderr_b64": "",
            "timed_out": False,
        }
    snapshot = {
        "format": 1,
        "platform": "win32",
        "env": host.env,
        "files": {},
        "dirs": {},
        "exists": {},
        "which": {},
        "path": ";".join(host.path),
        "pathdirs": host.folders,
        "commands": commands,
    }
    facts = tmp_path / "host.json"
    facts.write_text(json.dumps(snapshot))
    return [(i.version, i.path) for i in find_interpreters(Probe.replay(facts))]


# -- check.ps1's side ----------------------------------------------------------------------
def check_ps1_source() -> str:
    return render_check_ps1(RenderContext(load_profile(REPO / "profiles" / "cpu.yaml"), "t"))


def check_ps1_found(host: Host) -> list[tuple[str, str]]:
    """check.ps1's own discovery statements, run on ``host``: (version, path) pairs."""
    source = check_ps1_source()
    facts: dict[str, str] = {}

    def invoke_probe(name: str, arguments: list[str]) -> dict[str, Any]:
        key = " ".join([name, *arguments])
        if key not in host.programs:
            return {"Ran": "missing", "Rc": 127, "Out": b"", "Err": ""}
        rc, out = host.programs[key]
        return {"Ran": "ran", "Rc": rc, "Out": out.encode(), "Err": ""}

    def test_path(*args: Any) -> bool:
        options = dict(zip(args[::2], args[1::2], strict=True))
        assert options["-PathType"] == "Leaf", args
        folder, name = ntpath.split(options["-LiteralPath"])
        return name.lower() in [n.lower() for n in host.listing(folder) or []]

    def get_child_item(*args: Any) -> list[SimpleNamespace]:
        assert args[:2] == ("-LiteralPath", args[1]) and "-Force" in args, args
        return [SimpleNamespace(Name=n) for n in host.listing(args[1]) or []]

    def sort_object(prop: str, *, input: list[Any]) -> list[Any]:  # `input`: what the pipe passes
        return sorted(input, key=lambda o: getattr(o, prop))  # names of one shape: ordinal

    run = ScriptInterpreter(
        source,
        env={"PATH": ";".join(host.path), **host.env, "OS": "Windows_NT"},
        variables={"IsWin": True},
        dotnet={},
        commands={
            "Invoke-Probe": invoke_probe,
            "Test-Path": test_path,
            "Get-ChildItem": get_child_item,
            "Sort-Object": sort_object,
            "New-Object": lambda *a: [],
            "ConvertFrom-Bytes": lambda b: b.decode("utf-8").replace("\r", ""),
            "Set-Fact": lambda name, value, *rest: facts.__setitem__(name, value),
        },
    )
    statements = next(s for s in run.root.children if s.type == "statement_list").named_children
    texts = [(s.text or b"").decode() for s in statements]
    for s, text in zip(statements, texts, strict=True):
        if text.startswith(("$P = @{}", "$P['")):
            run.statement(s)
    start = texts.index("$pythons = @()")
    end = next(i for i, t in enumerate(texts) if t.startswith("Set-Fact 'python_versions'"))
    for s in statements[start : end + 1]:
        run.statement(s)
    versions = facts["python_versions"].split("\n") if facts["python_versions"] else []
    paths = run.get("pythonPaths")
    assert len(paths) == len(versions)
    return list(zip(versions, paths, strict=True))


@pytest.mark.parametrize("name", sorted(HOSTS))
def test_check_ps1_and_doctor_find_the_same_pythons_in_the_same_order(
    name: str, tmp_path: Path
) -> None:
    host, expected = HOSTS[name]
    assert doctor_replayed(host, tmp_path) == expected
    assert check_ps1_found(host) == expected


# -- doctor's side, live, with stand-in programs ------------------------------------------------
def stand_in(path: Path, output: str, rc: int = 0) -> None:
    """A STAND-IN program: prints ``output`` (what the real one prints) and exits ``rc``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\nprintf '%s' {shlex.quote(output)}\nexit {rc}\n")
    path.chmod(0o755)


def test_doctor_runs_the_probe_on_stand_ins_on_path(tmp_path: Path) -> None:
    """The live probe (listing PATH folders, running each candidate): STAND-IN
    ``python.exe`` scripts on a PATH of this machine's folders, as a Windows host lays
    them out (the store alias and a 32-bit interpreter among them)."""
    local, pf = tmp_path / "Local", tmp_path / "Program Files"
    venv = tmp_path / "venv" / "Scripts" / "python.exe"
    store = local / "Microsoft" / "WindowsApps" / "python.exe"
    x86 = tmp_path / "Python38-32" / "python.exe"
    user312 = local / "Programs" / "Python" / "Python312" / "python.exe"
    all311 = pf / "Python311" / "python.exe"
    launcher = tmp_path / "Windows" / "py"
    stand_in(venv, f"3.10|64|{venv}")
    stand_in(store, "", rc=9009)
    stand_in(x86, f"3.8|32|{x86}")
    stand_in(user312, f"3.12|64|{user312}")
    stand_in(all311, f"3.11|64|{all311}")
    stand_in(launcher, f" -V:3.11          {all311}\r\n")
    (pf / "Python314").mkdir()  # no python.exe left in it
    path = ";".join(str(p.parent) for p in (launcher, venv, store, x86, all311))
    probe = Probe(
        Path("/"),
        path=path,
        env={"LOCALAPPDATA": str(local), "PROGRAMFILES": str(pf)},
        platform="win32",
    )
    # `py` found on PATH: shutil.which cannot read a ';' PATH on Linux, so the probe's
    # record of where `py` is is given (what it records on Windows)
    probe._which["py"] = str(launcher)
    found = [(i.version, i.path, i.source) for i in find_interpreters(probe)]
    assert found == [
        ("3.11", str(all311), "py"),
        ("3.10", str(venv), "path"),
        ("3.12", str(user312), "folder"),
    ]
    saved = probe.snapshot()
    assert saved["env"] == {"LOCALAPPDATA": str(local), "PROGRAMFILES": str(pf)}
    assert saved["pathdirs"][str(venv.parent)] == ["python.exe"]  # only what is read
    assert not any(str(store) in key for key in saved["commands"])  # never asked
