"""One home for the target's platform (provisioner.platforms): the lock, the rendered
bootstrap and uv all follow target.os and target.arch."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from provisioner import platforms
from provisioner.cli import main
from provisioner.lock.lockfile import lock_profile
from provisioner.profile import load_profile
from provisioner.profile.model import Target
from tests.channels import PackageSpec, build_channel
from tests.support.profiles import profile_document, write_profile


@pytest.mark.parametrize(
    ("os_", "arch", "subdir", "uv_platform"),
    [
        ("linux", "x86_64", "linux-64", "x86_64-manylinux_2_31"),
        ("linux", "aarch64", "linux-aarch64", "aarch64-manylinux_2_31"),
        ("wsl2", "arm64", "linux-aarch64", "aarch64-manylinux_2_31"),
        ("windows", "x86_64", "win-64", "x86_64-pc-windows-msvc"),
        ("windows", "arm64", "win-arm64", "aarch64-pc-windows-msvc"),
    ],
)
def test_target_to_conda_subdir_and_uv_platform(
    os_: str, arch: str, subdir: str, uv_platform: str
) -> None:
    target = Target.model_validate({"os": os_, "arch": arch})
    assert platforms.target_subdir(target) == subdir
    assert platforms.python_platform(subdir) == uv_platform


def test_windows_is_detected_from_sys_platform_values() -> None:
    assert platforms.is_windows("win32")
    assert not platforms.is_windows("linux") and not platforms.is_windows("cygwin")


@pytest.fixture(scope="module")
def two_arch_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``app`` (noarch) needs ``libcore``, built for linux-64 and linux-aarch64 with a
    different dependency each, so a lock for the wrong subdir shows in its names."""
    return build_channel(
        tmp_path_factory.mktemp("arch") / "chan",
        [
            PackageSpec("app", "1.0", depends=("libcore >=1",)),
            PackageSpec("libcore", "1.2", "x64_0", "linux-64", depends=("libx64",)),
            PackageSpec("libx64", "1.0", "h0_0", "linux-64"),
            PackageSpec("libcore", "1.2", "arm_0", "linux-aarch64", depends=("libarm",)),
            PackageSpec("libarm", "1.0", "h0_0", "linux-aarch64"),
        ],
    )


def aarch64_profile(folder: Path, channel: Path) -> Path:
    environment = {
        "manager": "conda",
        "channels": [channel.as_uri()],
        "python": "3.11",
        "conda": ["app"],
    }
    document = profile_document("arm", environment)
    document["target"]["arch"] = "aarch64"
    return write_profile(folder / "arm.yaml", document)


def test_an_aarch64_profile_locks_for_linux_aarch64(two_arch_channel: Path, tmp_path: Path) -> None:
    lock = lock_profile(load_profile(aarch64_profile(tmp_path, two_arch_channel)))
    assert lock.platforms == ("linux-aarch64",)
    assert {p.platform for p in lock.packages} == {"linux-aarch64"}
    names = {p.name: p.subdir for p in lock.packages}
    assert names == {"app": "noarch", "libcore": "linux-aarch64", "libarm": "linux-aarch64"}


def test_its_bootstrap_installs_exactly_the_locked_aarch64_packages(
    two_arch_channel: Path, tmp_path: Path
) -> None:
    profile = aarch64_profile(tmp_path / "p", two_arch_channel)
    assert main(["lock", str(profile)]) == 0
    out = tmp_path / "out"
    assert main(["render", str(profile), "-o", str(out)]) == 0
    lockfile = yaml.safe_load((out / "conda-lock.yml").read_text("utf-8"))
    locked = {pkg["url"] for pkg in lockfile["package"]}
    assert {pkg["platform"] for pkg in lockfile["package"]} == {"linux-aarch64"}
    script = out / "bootstrap.sh"
    # bash itself reads the script's arrays: PLATFORM and the explicit list it installs.
    listed = subprocess.run(
        [
            "bash",
            "-c",
            'eval "$(sed -n -e "/^PLATFORM=/p" -e "/^EXPLICIT=(/,/^)/p" "$1")"; '
            'echo "$PLATFORM"; printf "%s\\n" "${EXPLICIT[@]}"',
            "-",
            str(script),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.splitlines()
    assert listed[0] == "linux-aarch64"
    assert {line.split("#", 1)[0] for line in listed[1:]} == locked
    assert any("/linux-aarch64/libarm-1.0-h0_0" in url for url in locked)
