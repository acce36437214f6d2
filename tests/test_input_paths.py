"""Every command that takes a path, given what no input should be: a named pipe nobody
writes, ``/dev/zero``, a link to it, a folder, a file far past its size cap. Each ends
in one line on stderr and exit 2 within seconds: never a hang, a MemoryError or exit 3.

Each case runs ``provision`` in a child process under a 1 GiB address-space limit and
a time limit (as ``tests/profile/test_bounded_loading.py`` does), so a regression is a
failed test, not a stuck or killed test run. The one reader they share is
``provisioner.inputs`` (unit tests: ``tests/test_inputs.py``)."""

from __future__ import annotations

import gzip
import io
import os
import resource
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from provisioner.inputs import LOCKFILE

REPO = Path(__file__).resolve().parents[1]
CPU = REPO / "profiles" / "cpu.yaml"
MEMORY_LIMIT = 1024**3
TIME_LIMIT_S = 60  # a guard against hangs; each case takes a second or two


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def provision(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``provision ARGS`` in a child with bounded memory and time, stdin closed."""
    env = {**os.environ, "PROVISION_HOME": str(cwd / "home"), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_S,
        preexec_fn=_limit_memory,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def assert_one_line_exit_2(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def fifo(folder: Path, name: str) -> Path:
    path = folder / name
    os.mkfifo(path)  # nobody writes: a blocking open or read would wait forever
    return path


def zero_link(folder: Path, name: str) -> Path:
    path = folder / name
    path.symlink_to("/dev/zero")
    return path


# --- a profile given to every command that takes one --------------------------------

PROFILE_COMMANDS: list[list[str]] = [
    ["validate", "{p}"],
    ["show", "{p}"],
    ["render", "{p}", "-o", "out"],
    ["doctor", "{p}"],
    ["lock", "{p}"],
    ["plan", "{p}"],
    ["apply", "{p}"],
    ["verify", "{p}"],
    ["bundle", "{p}", "-o", "b.tar.gz"],
    ["export", "ansible", "{p}", "-o", "ansible"],
    ["explain", "log.txt", "--profile", "{p}"],
    ["add", "-p", "{p}", "six"],
    ["remove", "-p", "{p}", "six"],
    ["list", "{p}"],
    ["shell", "{p}"],
]


@pytest.mark.parametrize("argv", PROFILE_COMMANDS, ids=lambda a: a[0])
@pytest.mark.parametrize("make", [fifo, zero_link], ids=["fifo", "link-to-dev-zero"])
def test_a_profile_that_is_a_pipe_or_a_device(
    tmp_path: Path, argv: list[str], make: Callable[[Path, str], Path]
) -> None:
    (tmp_path / "log.txt").write_text("nothing to see\n")
    path = make(tmp_path, "p.yaml")
    done = provision(*[a.format(p=path.name) for a in argv], cwd=tmp_path)
    if argv[0] == "validate":  # validate counts what it found on a line of its own
        assert done.stderr.splitlines()[1:] == ["1 error(s)"]
        done.stderr = done.stderr.splitlines()[0]
    assert_one_line_exit_2(done, "p.yaml:1:1: error: cannot read profile: not a regular file")


@pytest.mark.parametrize("command", ["validate", "render", "bundle", "lock"])
@pytest.mark.parametrize(
    ("field", "value", "at"),
    [("name", '"cpu\\nrem x"', "1:7"), ("description", '"a\\r\\ncalc.exe\\r\\nrem "', "2:14")],
)
def test_a_profile_whose_name_or_description_holds_a_line_break(
    tmp_path: Path, command: str, field: str, value: str, at: str
) -> None:
    """A line break reached the bundled profile.yaml's comment (exit 3) and conda's .bat
    activation; refused at load by every command, at its position."""
    lines = {
        "name": "name: t",
        "description": "description: d",
        "rest": 'target: {os: linux}\nenvironment: {manager: venv, name: t, python: "3.11", '
        "pip: [numpy]}\nsmoke_test: {framework: pytorch, device: cpu, require_accelerator: false}",
    }
    lines[field] = f"{field}: {value}"
    text = "\n".join(lines.values()) + "\n"
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    argv = {"validate": [], "render": ["-o", "out"], "bundle": ["-o", "b.tar.gz"], "lock": []}
    done = provision(command, "p.yaml", *argv[command], cwd=tmp_path)
    if command == "validate":
        assert done.stderr.splitlines()[1:] == ["1 error(s)"]
        done.stderr = done.stderr.splitlines()[0]
    assert_one_line_exit_2(done, f"p.yaml:{at}: error: {field}: contains the control character")


# --- logs, facts snapshots, lockfiles, reports -----------------------------------------

SPECIAL: dict[str, Callable[[Path], Path]] = {
    "fifo": lambda d: fifo(d, "in.txt"),
    "dev-zero": lambda d: Path("/dev/zero"),
    "link-to-dev-zero": lambda d: zero_link(d, "in.txt"),
    "folder": lambda d: d,
}

FILE_COMMANDS: dict[str, tuple[list[str], str]] = {
    "explain": (["explain", "{f}"], "cannot read the log: "),
    "doctor --facts": (["doctor", str(CPU), "--facts", "{f}"], "cannot read the facts snapshot: "),
    "facts --facts": (["facts", "--facts", "{f}"], "cannot read the facts snapshot: "),
    "render --lockfile": (
        ["render", str(CPU), "-o", "out", "--lockfile", "{f}"],
        "cannot read lockfile",
    ),
    "report": (["report", "{f}"], ": not a report"),
}


@pytest.mark.parametrize("command", sorted(FILE_COMMANDS))
@pytest.mark.parametrize("special", sorted(SPECIAL))
def test_a_command_input_that_is_not_a_regular_file(
    tmp_path: Path, command: str, special: str
) -> None:
    argv, fragment = FILE_COMMANDS[command]
    if command == "report" and special == "folder":
        pytest.skip("a folder is a valid `provision report` input (its *.json files)")
    path = SPECIAL[special](tmp_path)
    done = provision(*[a.format(f=path) for a in argv], cwd=tmp_path)
    assert_one_line_exit_2(done, fragment, "not a regular file")


def test_explain_reads_stdin_with_dash(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "provisioner", "explain", "-"],
        input="ERROR: Could not find a version that satisfies the requirement x\n",
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_S,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    assert "verdict:" in done.stdout


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as f:  # costs no disk and no time
        f.truncate(size)
    return path


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["explain", "{f}"], "cannot read the log: the file is larger than 256 MiB"),
        (["facts", "--facts", "{f}"], "cannot read the facts snapshot: the file is larger"),
        (["report", "{f}"], "the file is larger than 8 MiB"),
        (["render", str(CPU), "-o", "out", "--lockfile", "{f}"], "the file is larger than 32"),
    ],
    ids=["explain", "facts", "report", "render"],
)
def test_an_input_past_its_cap_is_refused_before_reading(
    tmp_path: Path, argv: list[str], fragment: str
) -> None:
    path = sparse(tmp_path / "huge.json", 2**40)  # a TiB, sparse
    done = provision(*[a.format(f=path) for a in argv], cwd=tmp_path)
    assert_one_line_exit_2(done, fragment)


def test_a_report_of_a_million_empty_objects_is_refused_before_parsing(tmp_path: Path) -> None:
    """3 MB of ``{}``: parsed, it took 50 times its size in memory."""
    path = tmp_path / "r.json"
    path.write_text('{"schema": "provision-report/2", "x": [' + ",".join(["{}"] * 10**6) + "]}")
    done = provision("report", str(path), cwd=tmp_path)
    assert_one_line_exit_2(done, "more than 600000 JSON values: not a report")


# --- lockfiles ---------------------------------------------------------------------------


def locked_venv_profile(folder: Path, lock_text: str) -> Path:
    profile = folder / "big.yaml"
    profile.write_text(
        "name: big\ntarget: {os: linux}\n"
        'environment: {manager: venv, name: big, python: "3.11", pip: [numpy]}\n'
        "smoke_test: {framework: pytorch, device: cpu, require_accelerator: false}\n"
    )
    (folder / "big.conda-lock.yml").write_text(lock_text)
    return profile


def lock_text(packages: int, platforms: str = "  - linux-64\n") -> str:
    head = (
        "version: 1\nmetadata:\n  content_hash:\n    linux-64: abc\n  channels: []\n"
        f"  platforms:\n{platforms}  sources: []\npackage:\n"
    )
    entry = (
        "- name: pkg{i}\n  version: 1.0.{i}\n  manager: pip\n  platform: linux-64\n"
        "  dependencies:\n    dep{i}: '>=1.0'\n"
        "  url: https://files.example/packages/{h}/pkg{i}-1.0.{i}-py3-none-any.whl\n"
        "  hash:\n    sha256: {h}\n  category: main\n  optional: false\n"
    )
    return head + "".join(entry.format(i=i, h=f"a{i:063x}") for i in range(packages))


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("platforms", ["  - [linux-64]\n", "  - 64\n", "  - {a: b}\n"])
def test_a_lock_whose_platforms_are_not_strings_is_exit_2_under_frozen(
    tmp_path: Path, command: str, platforms: str
) -> None:
    profile = locked_venv_profile(tmp_path, lock_text(2, platforms))
    done = provision(command, str(profile), "--frozen", "--skip-checks", cwd=tmp_path)
    assert_one_line_exit_2(done, "not a valid conda-lock file: metadata.platforms[0]: expected str")


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda t: t.replace("version: 1\n", "version: &v 1\nx: *v\n", 1), "anchors and aliases"),
        (lambda t: t.replace("name: pkg0", "name: !!python/name:os.system", 1), "YAML tag"),
        (lambda t: t + "---\nversion: 1\n", "more than one YAML document"),
        (lambda t: t.replace("- name: pkg1", "- just a string\n- name: pkg1", 1), "package[1]"),
        (lambda t: t.replace("    dep0: '>=1.0'", "    dep0: [a, b]", 1), "version spec"),
    ],
    ids=["alias", "python-tag", "two-documents", "scalar-entry", "list-spec"],
)
def test_a_lock_that_is_not_plain_conda_lock_yaml_is_exit_2(
    tmp_path: Path, edit: Callable[[str], str], why: str
) -> None:
    profile = locked_venv_profile(tmp_path, edit(lock_text(3)))
    done = provision("plan", str(profile), "--frozen", "--skip-checks", cwd=tmp_path)
    assert_one_line_exit_2(done, "not a valid conda-lock file", why)


def _plan_peak(folder: Path, lock: str) -> int:
    """The peak resident memory of ``provision plan --frozen`` on a profile with ``lock``."""
    profile = locked_venv_profile(folder, lock)
    probe = (
        "import resource, sys; from provisioner.cli import main; "
        "code = main(['plan', sys.argv[1], '--frozen', '--skip-checks', '--quiet']); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(profile)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
        cwd=folder,
        env={**os.environ, "PROVISION_HOME": str(folder / "home"), "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


@pytest.mark.slow
def test_a_lock_at_its_cap_is_planned_in_a_small_multiple_of_its_size(tmp_path: Path) -> None:
    """About 85,000 packages in 32 MiB: composed as a whole document it took 45 times
    its size (and 17 s for 21 MB); streamed, a few times its size, over what the same
    plan of a 10-package lock takes (the interpreter and its imports)."""
    count = LOCKFILE.cap // (len(lock_text(100_001)) - len(lock_text(100_000)))
    (tmp_path / "big").mkdir()
    (tmp_path / "small").mkdir()
    peak = _plan_peak(tmp_path / "big", lock_text(count))
    size = (tmp_path / "big" / "big.conda-lock.yml").stat().st_size
    assert LOCKFILE.cap * 0.95 < size <= LOCKFILE.cap
    base = _plan_peak(tmp_path / "small", lock_text(10))
    assert peak - base < 5 * size, (
        f"peak {peak >> 20} MiB for a {size >> 20} MiB lock, {base >> 20} MiB for 10 packages"
    )


def test_a_lock_past_its_cap_is_refused_before_reading(tmp_path: Path) -> None:
    profile = locked_venv_profile(tmp_path, "")
    sparse(tmp_path / "big.conda-lock.yml", LOCKFILE.cap + 1)
    done = provision("plan", str(profile), "--frozen", "--skip-checks", cwd=tmp_path)
    assert_one_line_exit_2(done, "cannot read the lockfile: the file is larger than 32 MiB")


# --- bundles -----------------------------------------------------------------------------


def huge_manifest_tar_gz(path: Path, size: int = 2**30) -> Path:
    """A valid ``.tar.gz`` whose ``top/manifest.json`` is ``size`` bytes of spaces, in
    about a megabyte: gzip files may be several members in a row, so one compressed MiB
    of spaces is written again and again instead of compressing a GiB here."""
    info = tarfile.TarInfo("top/manifest.json")
    info.size = size
    header = info.tobuf(format=tarfile.PAX_FORMAT)
    mib = gzip.compress(b" " * 2**20, mtime=0)
    with path.open("wb") as out:
        out.write(gzip.compress(header, mtime=0))
        for _ in range(size // 2**20):
            out.write(mib)
        out.write(gzip.compress(b"\0" * 1024, mtime=0))  # the end-of-archive blocks
    return path


def test_the_huge_manifest_archive_is_what_it_says(tmp_path: Path) -> None:
    """The stand-in is a real archive: tarfile lists the 1 GiB member (headers only)."""
    path = huge_manifest_tar_gz(tmp_path / "x.tar.gz")
    assert path.stat().st_size < 8 * 2**20
    with tarfile.open(path, "r:gz") as tar:
        first = tar.next()
        assert first is not None and (first.name, first.size) == ("top/manifest.json", 2**30)
        stream = tar.extractfile(first)
        assert stream is not None and stream.read(4) == b"    "


def folder_with_fifo_manifest(folder: Path) -> Path:
    bundle = folder / "bundle"
    bundle.mkdir()
    os.mkfifo(bundle / "manifest.json")
    (bundle / "SHA256SUMS").write_text("")
    return bundle


BUNDLE_CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "fifo named x.tar.gz": (lambda d: fifo(d, "x.tar.gz"), "not a regular file (a named pipe)"),
    "folder whose manifest is a fifo": (folder_with_fifo_manifest, "manifest.json is not a reg"),
    "link to /dev/zero named x.tar.gz": (
        lambda d: zero_link(d, "x.tar.gz"),
        "not a regular file (a device)",
    ),
    "link to /dev/zero": (lambda d: zero_link(d, "x"), "not a bundle"),
    "1 GiB manifest in a tar.gz": (
        lambda d: huge_manifest_tar_gz(d / "x.tar.gz"),
        "top/manifest.json: the file is larger than 16 MiB (1073741824 bytes)",
    ),
    "a file that is no archive": (lambda d: d / "notes.txt", "not a bundle"),
}


@pytest.mark.parametrize("case", sorted(BUNDLE_CASES))
def test_bundle_check_of_what_no_bundle_is(tmp_path: Path, case: str) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    make, fragment = BUNDLE_CASES[case]
    done = provision("bundle", "--check", str(make(tmp_path)), cwd=tmp_path)
    assert_one_line_exit_2(done, fragment)


def test_a_zip_bundle_with_a_huge_manifest_is_refused_by_its_declared_size(
    tmp_path: Path,
) -> None:
    import zipfile

    path = tmp_path / "x.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("top/manifest.json", "w", force_zip64=True) as entry,
    ):
        for _ in range(20):  # 20 MiB of spaces: past the 16 MiB cap
            entry.write(b" " * 2**20)
    done = provision("bundle", "--check", str(path), cwd=tmp_path)
    assert_one_line_exit_2(done, "top/manifest.json: the file is larger than 16 MiB")


def test_facts_under_a_root_with_a_pipe_for_a_host_file_does_not_hang(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "proc").mkdir(parents=True)
    os.mkfifo(root / "proc" / "version")
    done = provision("facts", "--root", str(root), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_gzip_members_in_a_row_are_one_stream() -> None:
    """What the huge-manifest stand-in relies on (RFC 1952: members are concatenated)."""
    data = gzip.compress(b"ab", mtime=0) + gzip.compress(b"cd", mtime=0)
    assert gzip.GzipFile(fileobj=io.BytesIO(data)).read() == b"abcd"


@pytest.mark.parametrize("name", ["manifest.json", "check.sh"])
def test_render_into_a_folder_holding_a_pipe_does_not_hang(tmp_path: Path, name: str) -> None:
    """render reads its folder's earlier manifest.json and compares each file's bytes
    before writing: a pipe there would block the read forever."""
    out = tmp_path / "out"
    out.mkdir()
    fifo(out, name)
    done = provision("render", str(CPU), "-o", str(out), cwd=tmp_path)
    # (an unreadable manifest owns nothing: render goes on, then refuses the pipe)
    assert_one_line_exit_2(done, f"{out / name}: a named pipe where provision writes a file")
