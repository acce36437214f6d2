"""Fixtures for lock tests: a real local conda channel and profile files that use it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.channels import PackageSpec, build_channel, demo_packages

ProfileWriter = Callable[..., Path]


def profile_data(
    channels: list[str],
    *,
    os_: str = "linux",
    conda: list[str] | None = None,
    pip: list[str] | None = None,
    python: str = "3.11",
    manager: str = "conda",
    gpu: str = "none",
    **env: object,
) -> dict[str, object]:
    """A valid profile document whose environment uses ``channels``."""
    data: dict[str, object] = {
        "name": "locktest",
        "target": {"os": os_},
        "environment": {
            "name": "locktest",
            "manager": manager,
            "channels": channels,
            "python": python,
            "conda": conda if conda is not None else ["app", "tool"],
            "pip": pip or [],
            **env,
        },
        "smoke_test": {"framework": "pytorch", "device": "cpu", "require_accelerator": False},
    }
    if os_ == "windows":
        data["requires"] = {"windows": {"min_build": 19044}}
    if gpu == "cuda":
        data["requires"] = {"gpu": {"api": "cuda", "vendors": {"nvidia": "530.30"}}}
        data["smoke_test"] = {"framework": "pytorch", "device": "cuda"}
    return data


@pytest.fixture(scope="session")
def demo_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo channel (noarch, linux-64, win-64; .tar.bz2 and .conda), plus a few extras."""
    root = tmp_path_factory.mktemp("channels") / "demo"
    extra = [
        PackageSpec("needs-cuda", "1.0", depends=("__cuda >=12",)),
        PackageSpec("needs-new-glibc", "1.0", "h0_0", "linux-64", depends=("__glibc >=2.35",)),
    ]
    return build_channel(root, [*demo_packages(formats=("tar.bz2", "conda")), *extra])


@pytest.fixture
def write_profile(tmp_path: Path) -> ProfileWriter:
    """Write a profile file into ``tmp_path`` (or ``folder``) and return its path."""

    def write(
        channels: list[str],
        *,
        name: str = "team.yaml",
        folder: Path | None = None,
        **kwargs: object,
    ) -> Path:
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(profile_data(channels, **kwargs), sort_keys=False))  # type: ignore[arg-type]
        return path

    return write
