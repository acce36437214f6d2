"""Answers of programs kept between runs (host/program_cache.py): ``python -V`` is asked
of every interpreter on PATH by every apply; an ELF program's answer is reused while it
is the very same file, never a script's."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from provisioner.host.probe import Probe


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "provision" / "programs.json"


def _elf(tmp_path: Path) -> Path:
    """A real ELF program named like an interpreter (coreutils' echo: it prints its
    arguments, so "-V" answers "-V")."""
    echo = shutil.which("echo")
    assert echo is not None
    with open(echo, "rb") as f:
        assert f.read(4) == b"\x7fELF"
    exe = tmp_path / "bin" / "python3"
    exe.parent.mkdir(exist_ok=True)
    shutil.copy2(echo, exe)
    return exe


def _ask(exe: Path) -> str:
    done = Probe(path=str(exe.parent)).command(str(exe), "-V", stable=True)
    assert done is not None and done.returncode == 0
    return done.out


def test_an_elf_programs_answer_is_kept_and_used_while_it_is_the_same_file(
    tmp_path: Path, cache: Path
) -> None:
    exe = _elf(tmp_path)
    assert _ask(exe) == "-V\n"  # it ran
    data = json.loads(cache.read_text())
    (key,) = data["entries"]
    data["entries"][key][1] = "Python 9.9.9\n"  # what only the cache could answer
    cache.write_text(json.dumps(data))
    assert _ask(exe) == "Python 9.9.9\n"  # a new run, answered from the cache
    os.chmod(exe, exe.stat().st_mode)  # same bytes, same mtime: a new ctime
    assert _ask(exe) == "-V\n"  # not the same file any more: it ran again


def test_a_scripts_answer_is_never_kept(tmp_path: Path, cache: Path) -> None:
    script = tmp_path / "bin" / "python3"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho Python 3.99.0\n")
    script.chmod(0o755)
    assert _ask(script) == "Python 3.99.0\n"
    assert not cache.exists() or json.loads(cache.read_text())["entries"] == {}


def test_a_damaged_cache_is_an_empty_one(tmp_path: Path, cache: Path) -> None:
    exe = _elf(tmp_path)
    cache.parent.mkdir(parents=True)
    cache.write_text('{"version": 1, "entries": {"x": [0, 1, 2]}, ')
    assert _ask(exe) == "-V\n"
    assert len(json.loads(cache.read_text())["entries"]) == 1  # rewritten whole
