"""The bundle's installed tool (the venv its ``bootstrap.sh`` makes under
``$PROVISION_HOME/tool/<id>/``) is checked against the bundle's wheels on every run: an
edited file or a planted ``.pth`` is found and the tool installed again; two bootstraps
of one bundle at once install it once (the second waits), never ``Text file busy``.

STAND-IN bundle (no network here): the real ``bootstrap.sh`` rendered for the cpu
profile, a ``tool/`` with provision's own wheel (built here) and two small wheels
(tests/pypi_index.py) as its requirements, and uv's wheel made from the uv binary this
tool uses. Without provision's dependencies step 4 (apply) cannot run: these tests stop
the script there (``--help`` of a stand-in ``provisioner.bundle.install`` is not
needed: the script's own lines before step 4 are what is tested)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from provisioner.bundle.scripts import bundle_scripts
from provisioner.bundle.tool import build_self_wheel, requirements_text
from provisioner.bundle.toolcheck import main as toolcheck
from provisioner.profile import load_profile
from provisioner.uvbin import uv_executable
from tests.bundle.conftest import HOST_PYTHON, PY, REPO, bootstrap_env
from tests.pypi_index import Wheel, build_wheel

SHELLCHECK = Path(sys.executable).with_name("shellcheck")


def uv_wheel(folder: Path) -> Path:
    """A wheel carrying this machine's uv binary where uv's wheel has it."""
    path = folder / "uv-0.0.1-py3-none-linux_x86_64.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.write(uv_executable(), "uv-0.0.1.data/scripts/uv")
    return path


def stand_in_bundle(root: Path) -> Path:
    top = root / "cpu-linux-64"
    tool = top / "tool"
    tool.mkdir(parents=True)
    own = build_self_wheel(tool)
    deps = [build_wheel(Wheel("six", "1.17.0", single_module=True), tool)]
    deps.append(build_wheel(Wheel("demo-dep", "1.0"), tool))
    uv = uv_wheel(tool)
    pins = [("provisioner-gpu", own.name.split("-")[1], sha(own))]
    pins += [("six", "1.17.0", sha(deps[0])), ("demo-dep", "1.0", sha(deps[1]))]
    text = requirements_text(pins)
    (tool / f"requirements-{PY}.txt").write_text(text)
    tool_id = hashlib.sha256(text.encode()).hexdigest()
    scripts = bundle_scripts(
        resolved=load_profile(REPO / "profiles" / "cpu.yaml"),
        platform="linux-64",
        top=top.name,
        tool_ids={PY: tool_id},
        locked=[],
        tool_files=[f"tool/{p.name}" for p in (own, *deps, uv)],
    )
    script, _ = scripts["bootstrap.sh"]
    # Stop before step 4 (apply needs provision's dependencies, which are not here).
    script = script.replace('exec "$TOOL/venv/bin/python"', 'say "step 4"; exit 0 #')
    (top / "bootstrap.sh").write_text(script)
    (top / "bootstrap.sh").chmod(0o755)
    files = sorted(p for p in top.rglob("*") if p.is_file())
    sums = "".join(f"{sha(p)}  {p.relative_to(top).as_posix()}\n" for p in files)
    (top / "SHA256SUMS").write_text(sums)
    return top


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bootstrap(
    top: Path, target: Path, python: Path = HOST_PYTHON, *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            str(top / "bootstrap.sh"),
            *("--home", str(target / "home"), "--python", str(python)),
            *extra,
        ],
        env=bootstrap_env(target),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    return proc.returncode, err


def tool_venv(target: Path) -> Path:
    (venv,) = (target / "home" / "tool").glob("*/venv")
    return venv


def site(venv: Path) -> Path:
    (found,) = venv.glob("lib/python3*/site-packages")
    return found


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return stand_in_bundle(tmp_path / "bundle")


def test_the_bundle_bootstrap_passes_shellcheck(bundle: Path) -> None:
    done = subprocess.run(
        [str(SHELLCHECK), str(bundle / "bootstrap.sh")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_an_edited_tool_file_is_found_and_the_tool_installed_again(
    bundle: Path, tmp_path: Path
) -> None:
    code, err = finish(bootstrap(bundle, tmp_path / "t"))
    assert code == 0 and "step 4" in err, err
    venv = tool_venv(tmp_path / "t")
    module = site(venv) / "provisioner" / "bundle" / "install.py"
    original = module.read_bytes()
    module.write_bytes(original + b"\nimport os  # the edited code would run\n")
    code, err = finish(bootstrap(bundle, tmp_path / "t"))
    assert code == 0, err
    assert "was altered (pip:provisioner-gpu: provisioner/bundle/install.py (changed))" in err
    assert "installing it again from the bundle" in err
    assert module.read_bytes() == original
    code, err = finish(bootstrap(bundle, tmp_path / "t"))  # intact now: nothing to do
    assert code == 0 and "installing" not in err, err


def test_a_pth_planted_in_the_tool_venv_is_found_and_removed(bundle: Path, tmp_path: Path) -> None:
    assert finish(bootstrap(bundle, tmp_path / "t"))[0] == 0
    pth = site(tool_venv(tmp_path / "t")) / "zz_evil.pth"
    pth.write_text("import os; os.system('touch PWNED')\n")
    code, err = finish(bootstrap(bundle, tmp_path / "t"))
    assert code == 0 and "pip:?: zz_evil.pth (added)" in err, err
    assert not pth.exists()


def test_two_bootstraps_at_once_install_the_tool_once(bundle: Path, tmp_path: Path) -> None:
    target = tmp_path / "t"
    runs = [bootstrap(bundle, target) for _ in range(2)]
    results = [finish(p) for p in runs]
    assert [code for code, _ in results] == [0, 0], results
    errs = "".join(err for _, err in results)
    assert "Text file busy" not in errs
    assert errs.count("installing provision from the bundle") == 1, errs


def test_toolcheck_passes_an_intact_tool_and_names_a_missing_file(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert finish(bootstrap(bundle, tmp_path / "t"))[0] == 0
    venv = tool_venv(tmp_path / "t")
    args = ["--venv", str(venv), "--tool", str(bundle / "tool")]
    args += ["--requirements", str(bundle / "tool" / f"requirements-{PY}.txt")]
    args += ["--python", str(HOST_PYTHON)]
    assert toolcheck(args) == 0
    (site(venv) / "six.py").unlink()
    assert toolcheck(args) == 1
    assert capsys.readouterr().out.strip() == "pip:six: six.py (missing)"


def test_a_host_python_named_through_a_launcher_script_passes_the_check(
    bundle: Path, tmp_path: Path
) -> None:
    """A pyenv shim (a script that execs the interpreter) names the host Python by
    another path than the one the tool venv links to; the check ran the shim's path
    through realpath and refused every bootstrap on a pyenv machine."""
    shim = tmp_path / "shims" / f"python{PY}"
    shim.parent.mkdir()
    calls = tmp_path / "calls"
    shim.write_text(f'#!/bin/sh\necho "$*" >> "{calls}"\nexec "{HOST_PYTHON}" "$@"\n')
    shim.chmod(0o755)
    code, err = finish(bootstrap(bundle, tmp_path / "t", python=shim))
    assert code == 0, err
    assert "does not match the bundle's wheels" not in err
    calls.unlink()
    code, err = finish(bootstrap(bundle, tmp_path / "t", python=shim))  # checked, kept
    assert code == 0 and "installing provision from the bundle" not in err, err
    # The launcher is asked once (version and interpreter); every later call of the run
    # (the lock, the tool check) runs the interpreter: a pyenv shim costs ~0.15 s a call.
    assert len(calls.read_text().splitlines()) == 1, calls.read_text()


def test_a_lock_file_that_is_a_link_is_refused(bundle: Path, tmp_path: Path) -> None:
    target = tmp_path / "t"
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    tool_dir = target / "home" / "tool"
    tool_dir.mkdir(parents=True)
    text = (bundle / "tool" / f"requirements-{PY}.txt").read_bytes()
    (tool_dir / f"{hashlib.sha256(text).hexdigest()[:16]}.lock").symlink_to(victim)
    code, err = finish(bootstrap(bundle, target))
    assert code == 1 and "is a link or not a regular file: refusing to open it" in err
    assert victim.read_text() == "precious\n"
    assert os.path.islink(tool_dir / f"{hashlib.sha256(text).hexdigest()[:16]}.lock")


def stamps(target: Path) -> tuple[Path, Path]:
    """Where a passed check of the bundle and of the tool is remembered."""
    home = target / "home"
    (bundle_stamp,) = (home / "checked").glob("bundle-*")
    (tool_stamp,) = (home / "tool").glob("*/checked")
    return bundle_stamp, tool_stamp


def converged(bundle: Path, target: Path) -> tuple[Path, Path]:
    """Bootstrap until both checks are remembered: a file changed in the clock tick the
    tool check starts in, or less than 2 s before the bundle check, is racy (the bundle
    was just built, the tool just installed), and nothing is remembered that run."""
    for _ in range(8):
        code, err = finish(bootstrap(bundle, target))
        assert code == 0 and "step 4" in err, err
        try:
            return stamps(target)
        except ValueError:
            time.sleep(1)  # let the racy window pass; bounded by the loop
    checked = sorted(p.name for p in (target / "home").rglob("checked*"))
    raise AssertionError(f"nothing remembered after eight runs (found: {checked})")


def same_size_same_mtime_edit(path: Path) -> None:
    """Change one byte, keep the size and the modification time (``touch -r``): only the
    change time (ctime), which no program sets back, says the file was written."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def test_a_bundle_file_edited_behind_the_remembered_stat_is_found(
    bundle: Path, tmp_path: Path
) -> None:
    bundle_stamp, _ = converged(bundle, tmp_path / "t")
    assert (
        bundle_stamp.read_text().count("\n")
        == len((bundle / "SHA256SUMS").read_text().splitlines()) + 1
    )
    (wheel,) = (bundle / "tool").glob("six-*.whl")
    same_size_same_mtime_edit(wheel)
    code, err = finish(bootstrap(bundle, tmp_path / "t"))
    assert code == 1, err
    assert f"the bundle is damaged: tool/{wheel.name}: FAILED" in err
    assert not bundle_stamp.exists()  # nothing remembered of a damaged bundle


def test_a_tool_file_edited_behind_the_remembered_stat_is_found(
    bundle: Path, tmp_path: Path
) -> None:
    converged(bundle, tmp_path / "t")
    module = site(tool_venv(tmp_path / "t")) / "provisioner" / "bundle" / "install.py"
    original = module.read_bytes()
    same_size_same_mtime_edit(module)
    code, err = finish(bootstrap(bundle, tmp_path / "t"))
    assert code == 0, err
    assert "was altered (pip:provisioner-gpu: provisioner/bundle/install.py (changed))" in err
    assert module.read_bytes() == original


def test_a_file_planted_deep_in_the_tool_venv_is_found_after_a_remembered_check(
    bundle: Path, tmp_path: Path
) -> None:
    converged(bundle, tmp_path / "t")
    planted = site(tool_venv(tmp_path / "t")) / "provisioner" / "env" / "sitecustomize.py"
    planted.write_text("import os\n")
    code, err = finish(bootstrap(bundle, tmp_path / "t"))
    assert code == 0, err
    assert "provisioner/env/sitecustomize.py (added)" in err
    assert not planted.exists()


def test_force_hashes_everything_whatever_the_stamps_say(bundle: Path, tmp_path: Path) -> None:
    """A stamp rewritten to match an edited tool (what only someone who can write
    $PROVISION_HOME can do) is trusted by a plain run; --force (the playbook's verify tag,
    provision_force_verify) reads every hash and finds the edit."""
    target = tmp_path / "t"
    _, tool_stamp = converged(bundle, target)
    venv = tool_venv(target)
    module = site(venv) / "provisioner" / "bundle" / "install.py"
    module.write_bytes(module.read_bytes() + b"# edited\n")
    requirements = bundle / "tool" / f"requirements-{PY}.txt"
    # The record as the bootstrap's check makes it: run by the host Python.
    forge = (
        "import sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path as P;"
        "from provisioner.bundle.toolcheck import STAMP_FORMAT, tree_stat;"
        "d, _ = tree_stat(*map(P, sys.argv[2:])); print(STAMP_FORMAT, d)"
    )
    args = [str(REPO), str(venv), str(bundle / "tool"), str(requirements), str(HOST_PYTHON)]
    done = subprocess.run(
        [str(HOST_PYTHON), "-I", "-c", forge, *args], capture_output=True, text=True, check=True
    )
    tool_stamp.write_text(done.stdout)
    code, err = finish(bootstrap(bundle, target))
    assert code == 0 and "was altered" not in err, err  # the forged stamp is believed
    code, err = finish(bootstrap(bundle, target, HOST_PYTHON, "--force"))
    assert code == 0, err
    assert "was altered (pip:provisioner-gpu: provisioner/bundle/install.py (changed))" in err


def test_a_tool_check_with_a_stamp_names_a_missing_interpreter(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The stat record cannot be taken of a venv without its python; the check still
    names what is missing (not 'cannot check it: [Errno 2] ...')."""
    converged(bundle, tmp_path / "t")
    venv = tool_venv(tmp_path / "t")
    (tool_stamp,) = (tmp_path / "t" / "home" / "tool").glob("*/checked")
    (venv / "bin" / "python").unlink()
    args = ["--venv", str(venv), "--tool", str(bundle / "tool")]
    args += ["--requirements", str(bundle / "tool" / f"requirements-{PY}.txt")]
    args += ["--python", str(HOST_PYTHON), "--stamp", str(tool_stamp)]
    assert toolcheck(args) == 1
    assert capsys.readouterr().out.strip() == f"{venv / 'bin' / 'python'} is missing"
