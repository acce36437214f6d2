"""Exit codes end to end, through the installed ``provision`` console script.

0 ok, 1 host not ready or verification failed, 2 invalid input, 3 a bug. Every error
is one line: ``FILE:LINE:COL: error: ...`` when it has a position, else
``provision: error: CAUSE (fix: ...)``, and never a traceback.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stand_in_framework import stand_in_python

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
PROVISION = Path(sys.executable).parent / "provision"
POSITIONED = re.compile(r"^[^:]+:\d+:\d+: error: \S")
UNPOSITIONED = re.compile(r"^provision: error: .+ \(fix: .+\)$")


def provision(
    *argv: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if not PROVISION.exists():
        pytest.skip(f"the console script is not installed beside {sys.executable}")
    return subprocess.run(
        [str(PROVISION), *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def first_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr, f"exit {done.returncode} without a message"
    return done.stderr.splitlines()[0]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with a few things to point commands at."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "text.txt").write_text("x", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- name: x\n", encoding="utf-8")
    (tmp_path / "bad.json").write_text("{\n", encoding="utf-8")
    (tmp_path / "latin1.yaml").write_bytes(b"name: caf\xe9\n")
    return tmp_path


# (argv, exit code, a fragment of the first stderr line); {invalid} is tests/data/invalid.
ERRORS = [
    (["validate", "missing.yaml"], "missing.yaml:1:1: error: cannot read profile: No such file"),
    (["validate", "folder"], "folder:1:1: error: cannot read profile: not a regular file"),
    (["validate", "list.yaml"], "list.yaml:1:1: error: a profile is a mapping of keys"),
    (["validate", "latin1.yaml"], "latin1.yaml:1:1: error: cannot read profile: not UTF-8"),
    (["validate", "{invalid}/bad-version.yaml"], 'environment.python: "3.x" is not a version'),
    (["show", "{invalid}/duplicate-key.yaml"], "duplicate key"),
    (["render", "{invalid}/hostile-var-bash-env.yaml", "-o", "out"], "BASH_ENV"),
    (["doctor", "{invalid}/dml-on-linux.yaml"], "error: "),
    (["lock", "{invalid}/extends-cycle.yaml"], "extends"),
    (["plan", "{invalid}/missing-python.yaml"], "python"),
    (
        ["apply", "{invalid}/enum-manager.yaml"],
        '"pip" is not one of: conda, venv (did you mean "venv"?)',
    ),
    (["verify", "{invalid}/not-a-mapping.yaml"], "a profile is a mapping"),
    (["doctor", "--facts", "bad.json"], "bad.json:2:1: error: not a facts file: Expecting"),
    (["facts", "--facts", "missing.json"], "missing.json: cannot read the facts snapshot"),
    (["facts", "--facts", "text.txt"], "not a facts file"),
    (["explain", "missing.log"], "missing.log: cannot read the log"),
    (["explain", "folder"], "folder: cannot read the log"),
    (["verify", "--python", "missing/python"], "--python missing/python: no such interpreter"),
    (["render", "-o", "text.txt"], "-o text.txt: exists and is not a folder"),
    (["lock", "-o", "folder"], "-o folder: is a folder"),
    (["apply", "--junit", "text.txt/r.xml"], "text.txt is not a folder"),
    (["schema", "-o", "folder"], "-o folder: is a folder"),
    (["bundle", "--check", "missing.tar.gz"], "missing.tar.gz"),
]


@pytest.mark.parametrize(("argv", "fragment"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_invalid_input_is_exit_2_with_a_compiler_line_or_a_fix(
    argv: list[str], fragment: str, work: Path
) -> None:
    argv = [a.format(invalid=DATA / "invalid") for a in argv]
    done = provision(*argv, cwd=work)
    assert done.returncode == 2, done.stderr
    line = first_error(done)
    assert fragment in line
    assert POSITIONED.match(line) or UNPOSITIONED.match(line), line


@pytest.mark.parametrize(
    "argv",
    [["no-such-command"], [], ["validate", "--no-such-option"], ["render", "--only", "x"]],
    ids=["unknown-command", "no-command", "unknown-option", "unknown-render-option"],
)
def test_usage_errors_are_exit_2_with_argparse_usage(argv: list[str], work: Path) -> None:
    done = provision(*argv, cwd=work)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: provision") and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("argv", "stdout"),
    [
        (["--version"], "provision 0."),
        (["validate"], ""),
        (["validate", str(REPO / "profiles" / "examples" / "vision-team.yaml")], ""),
        (["show", "--json"], '"name": "cpu"'),
        (["schema"], '"$schema"'),
        (
            ["explain", str(DATA / "fixtures" / "ldconfig_libcuda_not_symlink_warning.txt")],
            "benign",
        ),
    ],
    ids=["version", "validate-default", "validate-extends", "show", "schema", "explain-benign"],
)
def test_success_is_exit_0_and_nothing_on_stderr(argv: list[str], stdout: str, work: Path) -> None:
    done = provision(*argv, cwd=work)
    assert (done.returncode, done.stderr) == (0, "")
    assert stdout in done.stdout


def test_render_writes_every_artifact_and_a_second_run_changes_nothing(work: Path) -> None:
    first = provision("render", "-o", "out", cwd=work)
    assert first.returncode == 0, first.stderr
    written = {p.name: p.read_bytes() for p in (work / "out").iterdir()}
    assert {"bootstrap.sh", "check.sh", "smoke_test.py", "environment.yml"} <= set(written)
    second = provision("render", "-o", "out", cwd=work)
    assert second.returncode == 0
    assert {p.name: p.read_bytes() for p in (work / "out").iterdir()} == written
    assert "identical" in second.stdout and "overwrite" not in second.stdout


def test_explain_of_a_failure_log_is_exit_1(work: Path) -> None:
    log = DATA / "fixtures" / "tfdml_log_no_adapter_amd_vega8_wsl.txt"
    done = provision("explain", str(log), cwd=work)
    assert done.returncode == 1 and done.stdout.rstrip().endswith("verdict: failure")


def host_root(folder: Path) -> Path:
    """A host root with the /proc/version captured in this container."""
    root = folder / "root"
    (root / "proc").mkdir(parents=True)
    fixture = DATA / "fixtures" / "proc_version_linux_this_container.txt"
    (root / "proc" / "version").write_bytes(fixture.read_bytes())
    return root


def host_env(folder: Path, path: list[Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYENV", "CONDA"))}
    env["PATH"] = os.pathsep.join(map(str, path))
    env["PYENV_ROOT"] = str(folder / "no-pyenv")
    return env


def test_doctor_is_exit_0_when_the_python_is_on_path_and_1_when_not(work: Path) -> None:
    """The cpu profile needs Python 3.11 on the host: a stand-in ``python3.11`` on
    PATH (it answers ``-V`` as CPython does) makes the host ready."""
    root = host_root(work)
    bin_dir = work / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python3.11"
    fake.write_text("#!/bin/sh\necho 'Python 3.11.9'\n", encoding="utf-8")
    fake.chmod(0o755)
    ready = provision(
        "doctor", "--root", str(root), "--json", cwd=work, env=host_env(work, [bin_dir])
    )
    assert ready.returncode == 0, ready.stdout + ready.stderr
    verdicts = {c["id"]: c["status"] for c in json.loads(ready.stdout)["checks"]}
    assert verdicts["python.available"] == "pass"
    empty = work / "empty-bin"
    empty.mkdir()
    bare = provision("doctor", "--root", str(root), cwd=work, env=host_env(work, [empty]))
    assert bare.returncode == 1
    assert "fail python.available: Install the Python the profile names" in bare.stdout
    assert bare.stdout.rstrip().endswith("cpu: this host is NOT ready")


@pytest.mark.parametrize(
    ("preset", "code", "summary"),
    [
        ("pass", 0, "PASS"),
        ("bug", 1, "smoke_test.py error: KeyError: 'placed'"),
    ],
)
def test_verify_exit_code_follows_the_smoke_result(
    preset: str, code: int, summary: str, work: Path
) -> None:
    """``verify --python`` runs the rendered script's stages for real with a stand-in
    framework (no GPU framework exists here) and exits 0 on pass, 1 on failure."""
    python = stand_in_python(work, preset)
    done = provision("verify", "--python", str(python), "--junit", "r.xml", cwd=work)
    assert done.returncode == code, done.stdout + done.stderr
    assert summary in done.stdout
    junit = (work / "r.xml").read_text(encoding="utf-8")
    assert ("<failure" in junit) == (code == 1)


def test_verify_json_is_the_report_and_a_crashing_python_is_exit_1(work: Path) -> None:
    crash = work / "python-crash"
    crash.write_text(
        "#!/bin/sh\necho 'Fatal Python error: Segmentation fault' >&2\nkill -SEGV $$\n"
    )
    crash.chmod(0o755)
    done = provision("verify", "--python", str(crash), "--json", cwd=work)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["mode"], report["result"], report["exit_code"]) == ("verify", "failed", 1)
    assert report["verify"]["result"]["reason"] == "crashed with SIGSEGV (exit -11)"
    assert "Fatal Python error: Segmentation fault" in report["verify"]["lines"][-1]


def test_a_bug_is_exit_3_with_one_line_and_a_log(work: Path) -> None:
    """The error boundary through the console script: a profile loader that raises a
    non-ProvisionError is a bug (provoked here by a sitecustomize in the child)."""
    site = work / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import provisioner.commands.validate as v\n"
        "def boom(**_):\n    raise ZeroDivisionError('planted for the test')\n"
        "v.validate = boom\n",
        encoding="utf-8",
    )
    env = dict(os.environ, PYTHONPATH=str(site), XDG_STATE_HOME=str(work / "state"))
    done = provision("validate", cwd=work, env=env)
    assert done.returncode == 3
    (line,) = done.stderr.splitlines()
    assert line.startswith("provision: internal error: ZeroDivisionError: planted for the test")
    log = Path(line.rsplit("details in ", 1)[1].rstrip(")"))
    assert log.parent == work / "state" / "provision" / "logs"
    assert "ZeroDivisionError" in log.read_text(encoding="utf-8")
