"""Loading is bounded: hostile files end in exit 2 with a position, never a hang,
a MemoryError, a RecursionError or a crashed interpreter.

Each case runs ``provision validate`` in a child process under a 1 GiB address-space
limit and a time limit, so a regression shows up as a failed test, not as a
stuck or killed test run.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.profile import load_profile
from provisioner.profile.reading import MAX_BYTES

REPO = Path(__file__).resolve().parents[2]
CPU = (REPO / "profiles" / "cpu.yaml").read_text(encoding="utf-8")
MEMORY_LIMIT = 1024**3
TIME_LIMIT_S = 60  # a guard against hangs, not a speed test (speed lives in benchmarks/)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def validate(path: Path | str) -> subprocess.CompletedProcess[str]:
    """``provision validate PATH`` in a child with bounded memory and time."""
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_S,
        preexec_fn=_limit_memory,
        cwd=Path(path).parent if isinstance(path, Path) else None,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert fragment in first, result.stderr
    assert not first.startswith("provision:"), "a positioned error starts with FILE:LINE:COL"


def test_alias_bomb_is_refused_at_its_line(tmp_path: Path) -> None:
    # 370 bytes that expand to 9**9 (387 million) strings when built naively.
    rows = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        rows.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert len(path.read_bytes()) < 400
    assert_refused(validate(path), "an alias bomb?")


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rec.yaml"
    path.write_text("name: &a [*a]\n", encoding="utf-8")
    assert_refused(validate(path), "rec.yaml:1:7: error: nested deeper than 32 levels")


@pytest.mark.parametrize("depth", [600, 200_000])
def test_deep_nesting_is_refused_without_recursion(tmp_path: Path, depth: int) -> None:
    # 600 was a RecursionError (exit 3); 200,000 crashed libyaml's composer (SIGSEGV).
    path = tmp_path / "deep.yaml"
    path.write_text("name: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    assert_refused(validate(path), "deep.yaml:1:")


def test_deep_block_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("".join(" " * i + "a:\n" for i in range(700)), encoding="utf-8")
    assert_refused(validate(path), "nested deeper than 32 levels")


def test_fifo_is_refused_before_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)  # nobody writes: reading it would block forever
    assert_refused(validate(fifo), "p.yaml:1:1: error: cannot read profile: not a regular file")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_device_as_profile_or_extends_is_refused(tmp_path: Path, device: str) -> None:
    assert_refused(validate(device), "not a regular file (a device)")
    path = tmp_path / "p.yaml"
    path.write_text(f"extends: {device}\n{CPU}", encoding="utf-8")
    assert_refused(
        validate(path), f'p.yaml:1:10: error: extends: cannot read extended profile "{device}"'
    )


def test_folder_and_symlink_loop_are_refused(tmp_path: Path) -> None:
    assert_refused(validate(tmp_path), "not a regular file (a folder)")
    loop = tmp_path / "loop.yaml"
    loop.symlink_to("loop.yaml")
    assert_refused(validate(loop), "a symlink loop")
    path = tmp_path / "p.yaml"
    path.write_text(f"extends: loop.yaml\n{CPU}", encoding="utf-8")
    assert_refused(validate(path), "p.yaml:1:10: error: extends: cannot read extended profile")


def test_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(CPU + "#" * MAX_BYTES + "\n", encoding="utf-8")
    assert_refused(validate(path), "big.yaml:1:1: error: cannot read profile: the file is larger")


def test_nul_in_an_extends_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text('extends: "base\\0.yaml"\n' + CPU, encoding="utf-8")
    assert_refused(validate(path), "p.yaml:1:10: error: extends: extends takes a file path")


def write_diamond(folder: Path, levels: int) -> Path:
    """d0 extends [d1, d1], d1 extends [d2, d2], ...: 2**levels paths, ``levels`` files."""
    for i in range(levels):
        nxt = f"d{i + 1}.yaml"
        (folder / f"d{i}.yaml").write_text(f"extends: [{nxt}, {nxt}]\n", encoding="utf-8")
    (folder / f"d{levels}.yaml").write_text(CPU, encoding="utf-8")
    return folder / "d0.yaml"


def test_diamond_of_24_extends_loads_each_file_once(tmp_path: Path) -> None:
    top = write_diamond(tmp_path, 24)
    result = validate(top)  # 2**24 loads before: it never finished
    assert result.returncode == 0, result.stderr
    resolved = load_profile(top)
    assert len(resolved.sources) == 25  # each file listed once
    assert resolved.profile.name == "cpu"


def test_too_long_extends_chain_is_refused(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"c{i}.yaml").write_text(f"extends: c{i + 1}.yaml\n", encoding="utf-8")
    (tmp_path / "c40.yaml").write_text(CPU, encoding="utf-8")
    assert_refused(validate(tmp_path / "c0.yaml"), "extends goes deeper than 32 files")
