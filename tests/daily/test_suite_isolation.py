"""The suite does not depend on what earlier tests, the README tour or the clock leave.

The failure this guards against (reproduced): six offline locks of the cpu profile and
the two interrupt tests failed with ``numpy==2.4.0 was yanked`` and "need to be
downloaded from a registry". uv, offline, resolves from the registry data in its cache;
the tests shared one cache with the tests that reach PyPI, so an offline lock saw PyPI's
numpy page (with its yank flags at that hour) and the metadata of whichever versions an
earlier test had resolved. Offline runs now have a cache no online run writes, and a test
that locks the cpu profile offline first asks whether this machine's own sources can
(tests/support/machine.py ``cpu_profile_offline``), skipping with the reason if not."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from provisioner.uvbin import uv_executable
from tests.pypi_index import Wheel, build_wheel
from tests.support import machine


def test_offline_tests_use_a_cache_that_no_online_test_writes() -> None:
    assert os.environ["UV_OFFLINE"] == "1"
    assert Path(os.environ["UV_CACHE_DIR"]) == machine.OFFLINE_UV_CACHE


@pytest.mark.network
def test_online_tests_cache_elsewhere() -> None:
    assert "UV_OFFLINE" not in os.environ
    assert Path(os.environ["UV_CACHE_DIR"]) != machine.OFFLINE_UV_CACHE


@pytest.mark.network
def test_an_offline_resolve_ignores_what_an_online_one_cached(tmp_path: Path) -> None:
    """An online test resolves numpy from PyPI (its page and one version's metadata land
    in the online cache); an offline test then resolves `numpy` from a local folder that
    has only a numpy 0.0.1 of ours: it gets that one, never a registry version."""
    compile_ = [uv_executable(), "pip", "compile", "-", "--quiet", "--no-header"]
    compile_ += ["--python-version", "3.11"]
    online = {**os.environ}
    compiled = subprocess.run(
        compile_,
        input="numpy<2.4\n",
        capture_output=True,
        text=True,
        env=online,
        check=False,
        timeout=300,
    )
    assert compiled.returncode == 0, compiled.stderr
    links = tmp_path / "links"
    build_wheel(Wheel("numpy", "0.0.1"), links)
    offline = dict(machine.offline(dict(os.environ)))
    local = subprocess.run(
        [*compile_, "--find-links", str(links)],
        input="numpy\n",
        capture_output=True,
        text=True,
        env=offline,
        check=False,
        timeout=300,
    )
    assert local.returncode == 0, local.stderr
    assert "numpy==0.0.1" in local.stdout
