"""Fixtures for the smoke-test tests: the cached real venvs, profiles written from
``tests/smoke/profiles`` with overrides, and the rendered script loaded as a module."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from provisioner.profile import ResolvedProfile, load_profile
from tests.smoke.smoke_fixtures import (
    PROFILES,
    TF_CPU,
    TF_DIRECTML,
    TORCH_CPU,
    build_venv,
    render_script,
)


@pytest.fixture(scope="session")
def tf_cpu_python() -> Path:
    """Python 3.11 with tensorflow-cpu 2.21.0 (TF 2's CPU build)."""
    return build_venv("3.11", TF_CPU)


@pytest.fixture(scope="session")
def tf_directml_python() -> Path:
    """Python 3.7 with tensorflow-directml 1.15.8 (finds 0 adapters on this machine)."""
    return build_venv("3.7", TF_DIRECTML)


@pytest.fixture(scope="session")
def torch_cpu_python() -> Path:
    """Python 3.11 with torch 2.13.0 (the local CPU wheel)."""
    return build_venv("3.11", TORCH_CPU)


@pytest.fixture
def profile_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a copy of ``tests/smoke/profiles/<name>.yaml`` with smoke_test overrides."""
    import yaml

    def make(name: str, **smoke: object) -> Path:
        data = yaml.safe_load((PROFILES / f"{name}.yaml").read_text("utf-8"))
        data["smoke_test"].update(smoke)
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
        return path

    return make


@pytest.fixture
def resolved_profile(profile_file: Callable[..., Path]) -> Callable[..., ResolvedProfile]:
    def make(name: str, **smoke: object) -> ResolvedProfile:
        return load_profile(profile_file(name, **smoke))

    return make


@pytest.fixture
def smoke_module(
    resolved_profile: Callable[..., ResolvedProfile], tmp_path: Path
) -> Callable[..., ModuleType]:
    """The rendered smoke_test.py imported as a module, to call its pure functions."""

    def load(name: str = "torch-cpu", **smoke: object) -> ModuleType:
        path = render_script(resolved_profile(name, **smoke), tmp_path)
        spec = importlib.util.spec_from_file_location(f"rendered_smoke_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
