"""The profile language: pydantic v2 models at the boundary, frozen values inside.

Field names here are a public contract (README "Profile reference", and
``schema/profile.schema.json`` is generated from these models). Every field has a
description; it flows into the JSON Schema and editor tooltips.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from provisioner.frameworks import Device as Device
from provisioner.frameworks import Framework as Framework
from provisioner.profile.specs import check_conda_spec, check_pip_spec
from provisioner.profile.urls import check_find_link, check_index_url, check_proxy_url


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _number_not_bool(cls, value: object, info: ValidationInfo) -> object:
        """YAML 1.1 reads yes/no/on/off as booleans, and pydantic would take one as 1 or 0
        for a number (``requires.wsl.version: yes`` read as WSL 1)."""
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and field.annotation in (int, float):
            raise ValueError(
                f"expected a number, got the YAML boolean {str(value).lower()} "
                "(yes/no/on/off/true/false are booleans in YAML); write a number"
            )
        return value


class TargetOS(str, enum.Enum):
    wsl2 = "wsl2"
    windows = "windows"
    linux = "linux"


class GpuApi(str, enum.Enum):
    directml = "directml"
    cuda = "cuda"
    none = "none"


class Manager(str, enum.Enum):
    conda = "conda"
    venv = "venv"


class IndexStrategy(str, enum.Enum):
    """How the pip part is resolved across several indexes (uv's ``--index-strategy``)."""

    unsafe_best_match = "unsafe-best-match"
    first_index = "first-index"
    unsafe_first_match = "unsafe-first-match"


SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

Version = Annotated[
    str,
    Field(
        pattern=r"^\d+(\.\d+){0,3}$",
        description='A dotted version of 1 to 4 numbers, quoted in YAML (e.g. "3.10").',
    ),
]


CondaSpec = Annotated[str, AfterValidator(check_conda_spec)]
PipSpec = Annotated[str, AfterValidator(check_pip_spec)]
IndexUrl = Annotated[str, AfterValidator(check_index_url)]
FindLink = Annotated[str, AfterValidator(check_find_link)]
ProxyUrl = Annotated[str, AfterValidator(check_proxy_url)]
PipName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$",
        description="A pip package name (PEP 508), e.g. torch.",
    ),
]


class Target(_Frozen):
    os: TargetOS = Field(description="Where the environment runs: wsl2, windows or linux.")
    arch: str = Field(
        default="x86_64",
        pattern=r"^(x86_64|aarch64|arm64)$",
        description="CPU architecture of the target: x86_64, aarch64 or arm64.",
    )


class WindowsRequirements(_Frozen):
    min_build: int = Field(
        default=19044,
        ge=10240,
        le=99999,
        description="Lowest Windows build (cmd /c ver third number). 19044 is Win 10 21H2, "
        "22000 is Windows 11.",
    )


class WslRequirements(_Frozen):
    version: int = Field(default=2, ge=1, le=2, description="WSL version: 2 for any GPU path.")
    min_kernel: Version = Field(
        default="5.10.43.3",
        description="Lowest WSL kernel (first dotted number of /proc/version), 4 parts.",
    )


class VendorFloors(_Frozen):
    amd: Version | None = Field(default=None, description="Lowest AMD driver, e.g. 20.20.01.05.")
    intel: Version | None = Field(
        default=None, description="Lowest Intel driver, e.g. 28.20.100.8322."
    )
    nvidia: Version | None = Field(
        default=None,
        description="Lowest NVIDIA driver as the familiar number (e.g. 460.20, R495 is 495).",
    )


class GpuRequirements(_Frozen):
    api: GpuApi = Field(default=GpuApi.none, description="GPU API: directml, cuda or none.")
    vendors: VendorFloors = Field(
        default_factory=VendorFloors,
        description="Driver floor per vendor; a vendor left out is not supported by the profile.",
    )
    notes: dict[str, str] = Field(
        default_factory=dict,
        description="Per-vendor notes shown by doctor next to the driver check (vendor: text).",
    )


class Requirements(_Frozen):
    windows: WindowsRequirements | None = Field(
        default=None, description="Windows build floor; omit for native Linux."
    )
    wsl: WslRequirements | None = Field(
        default=None, description="WSL version and kernel floor; only for target.os wsl2."
    )
    gpu: GpuRequirements = Field(
        default_factory=GpuRequirements, description="GPU API and driver floors."
    )


class Environment(_Frozen):
    manager: Manager = Field(
        default=Manager.conda,
        description="conda: embedded py-rattler installs a conda prefix; venv: a host Python "
        "plus pip.",
    )
    name: str = Field(
        description="Environment name: letters, digits, '.', '_' and '-', at most 64 chars.",
    )
    channels: tuple[str, ...] = Field(
        default=("conda-forge",),
        description="Conda channels in priority order: a name, a URL, a file:// URL or a "
        "local path (relative to the profile).",
    )
    python: Version = Field(description='Python version, quoted: "3.7", "3.10".')
    conda: tuple[CondaSpec, ...] = Field(
        default=(),
        description='Conda match specs (e.g. "numpy>=1.19,<1.20"). Merge by name under '
        'extends; "!name" removes an inherited entry.',
    )
    pip: tuple[PipSpec, ...] = Field(
        default=(),
        description='PEP 508 requirements installed with pip (e.g. "tensorflow-cpu==2.10.1"). '
        'Merge by name under extends; "!name" removes an inherited entry.',
    )
    variables: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables set in the environment (activation and smoke test).",
    )
    index_url: IndexUrl | None = Field(
        default=None,
        description="pip index URL replacing PyPI (also used by uv): http(s):// or file://, "
        "no spaces or quotes (percent-encode them).",
    )
    extra_index_urls: tuple[IndexUrl, ...] = Field(
        default=(),
        description="Extra pip index URLs (http(s):// or file://), searched after index_url.",
    )
    find_links: tuple[FindLink, ...] = Field(
        default=(),
        description="Extra pip find-links locations: http(s):// or file:// URLs, or local "
        "folders (no spaces or quotes).",
    )
    package_indexes: dict[PipName, IndexUrl] = Field(
        default_factory=dict,
        description="Indexes that serve only the packages named here (uv's explicit "
        "indexes): {torch: https://download.pytorch.org/whl/cpu} takes torch from "
        "PyTorch's CPU index and every other package from the usual indexes. pip's own "
        "find-links win for a package when they hold a wheel that fits its pin.",
    )
    index_strategy: IndexStrategy = Field(
        default=IndexStrategy.unsafe_first_match,
        description="How locking picks versions across the configured pip indexes (the "
        "profile's and pip's own config). unsafe-first-match (default): every index is "
        "considered in order and a package comes from the first one with a version that "
        "fits, so a pin missing from a mirror is found on the next index; "
        "unsafe-best-match: pip's behaviour, the best version across all indexes; "
        "first-index (uv's default): only the first index that has the package at all, "
        "which guards against dependency confusion when a private index must shadow PyPI.",
    )
    proxy: ProxyUrl | None = Field(
        default=None, description="HTTP(S) proxy for downloads, e.g. http://proxy:3128."
    )

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not SAFE_NAME_RE.match(v) or ".." in v:
            raise ValueError(
                f"environment name {v!r} is not a safe identifier: use letters, digits, "
                "'.', '_' and '-' (no '/', '..', spaces or shell characters)"
            )
        return v


class SmokeTest(_Frozen):
    framework: Framework = Field(description="Framework the smoke test trains with.")
    device: Device = Field(description="Device the smoke test must train on: dml, cuda or cpu.")
    steps: int = Field(default=200, ge=10, le=100_000, description="Training steps.")
    min_loss_drop: float = Field(
        default=10.0,
        gt=1.0,
        le=1e6,
        allow_inf_nan=False,
        description="The final loss must be at least this many times below the first "
        "(a finite number above 1, at most 1e6).",
    )
    require_accelerator: bool = Field(
        default=True,
        description="Fail when no accelerator is used; false allows a reported CPU run.",
    )
    timeout_s: int = Field(default=600, ge=10, le=86_400, description="Smoke-test time limit.")


class Profile(_Frozen):
    """A resolved profile (after ``extends``): what every other module reads."""

    name: str = Field(description="Profile name, shown in reports.", min_length=1)
    description: str = Field(default="", description="One line saying what it is for.")
    target: Target = Field(description="Where the environment runs.")
    requires: Requirements = Field(
        default_factory=Requirements, description="What the host must provide."
    )
    environment: Environment = Field(description="The environment to build.")
    smoke_test: SmokeTest = Field(description="The training smoke test that proves the GPU.")


class ProfileDocument(Profile):
    """One profile file as written, before ``extends`` is resolved (the JSON Schema root)."""

    extends: str | list[str] | None = Field(
        default=None,
        description="A path or list of paths, relative to this file, of profiles to extend. "
        "Mappings deep-merge; package lists merge by name.",
    )
