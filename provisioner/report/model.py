"""The report of one apply, verify or bootstrap run: a frozen, typed, versioned value.

Built once per run (``provisioner.apply.report``, ``provisioner.commands.verify``, or
the skeleton the bootstrap scripts fill in) and read by the terminal summary,
``--json``, the report file, JUnit and ``provision report``. Schema: docs/report.md.

Pydantic is the boundary: :meth:`Report.to_json` writes the file, :func:`parse_report`
reads one back. Reading is tolerant where the writers differ (reports of schema 1,
Windows PowerShell 5.1's ``{"value": [...], "Count": n}`` arrays) and strict on what
``provision report`` relies on.
"""

from __future__ import annotations

import json
import os
import platform
import socket
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from provisioner.state import PackageRecord

if TYPE_CHECKING:
    from provisioner.profile import ResolvedProfile

SCHEMA = "provision-report/2"
SCHEMA_VERSION = 2
SUPPORTED_VERSIONS = (2,)  # provision 0.1.0, the first release, writes 2
HOST_NAME_VAR = "PROVISION_HOST_NAME"
RUN_ID_VAR = "PROVISION_RUN_ID"
BUNDLE_ID_VAR = "PROVISION_BUNDLE_ID"

Mode = Literal["apply", "dry-run", "plan", "verify"]
Result = Literal[
    "converged", "changed", "planned", "not-ready", "failed", "verified", "unreachable"
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def _unwrap_ps_array(value: Any) -> Any:
    """Windows PowerShell 5.1 can serialise an array as ``{"value": [...], "Count": n}``
    (https://github.com/PowerShell/PowerShell/issues/5797); read it as the array."""
    if isinstance(value, dict) and set(value) == {"value", "Count"}:
        return value["value"]
    return value


T = TypeVar("T")
# A JSON array (also read from PowerShell 5.1's wrapped form).
Items = Annotated[tuple[T, ...], BeforeValidator(_unwrap_ps_array)]


class ProfileInfo(_Frozen):
    name: str
    path: str = ""
    content_hash: str = ""
    target: str = ""
    manager: str = ""
    python: str = ""
    framework: str = ""
    device: str = ""

    @classmethod
    def of(cls, resolved: ResolvedProfile, path: str | None = None) -> ProfileInfo:
        """The profile as a report names it (``path``: the file's, unless given)."""
        p = resolved.profile
        return cls(
            name=p.name,
            path=str(resolved.path) if path is None else path,
            content_hash=resolved.content_hash,
            target=p.target.os.value,
            manager=p.environment.manager.value,
            python=p.environment.python,
            framework=p.smoke_test.framework.value,
            device=p.smoke_test.device.value,
        )


class HostInfo(_Frozen):
    """The host as the fleet knows it (``name``: ``--host-name``, ``PROVISION_HOST_NAME``
    or else the hostname) and as it calls itself (``hostname``)."""

    name: str
    hostname: str
    platform: str = ""
    system: str = ""
    release: str = ""
    machine: str = ""


class CheckItem(_Frozen):
    id: str
    status: str
    summary: str = ""
    fix: str = ""


class Checks(_Frozen):
    """``provision doctor --json`` / ``check.sh --json`` / ``check.ps1 --json``."""

    profile: str = ""
    ready: bool
    checks: Items[CheckItem] = ()


class LockInfo(_Frozen):
    path: str | None = None
    sha256: str | None = None
    fresh: bool = False


class RepairedFile(_Frozen):
    path: str
    problem: str = "changed"  # changed | missing


class Repair(_Frozen):
    """One package whose installed files had drifted from what was verified."""

    manager: str = ""
    package: str
    files: Items[RepairedFile] = ()

    def text(self) -> str:
        """``1 file of torch (torch/nn/functional.py missing)``."""
        n = len(self.files)
        shown = ", ".join(f"{f.path} {f.problem}" for f in self.files[:3])
        more = f", {n - 3} more" if n > 3 else ""
        return f"{n} {'file' if n == 1 else 'files'} of {self.package} ({shown}{more})"


class EnvironmentInfo(_Frozen):
    name: str
    prefix: str = ""
    action: str = "none"
    diff: dict[str, Any] | None = None
    repair: Items[Repair] = ()


class PreviousRun(_Frozen):
    """What the host's last report said, kept by a report the controller wrote for a
    host that sent none this run (unreachable, or failed before provision ran)."""

    result: str = ""
    finished_at: str = ""
    verified: bool = False
    run_id: str = ""


class Finding(_Frozen):
    model_config = ConfigDict(frozen=True, extra="allow")

    id: str = ""
    severity: str = ""
    meaning: str = ""
    fix: str = ""


class SmokeRecord(_Frozen):
    """The fields of the smoke test's own JSON (docs/smoke-test.md) that reports read;
    the rest of that record is kept as it was."""

    model_config = ConfigDict(frozen=True, extra="allow")

    verdict: str = ""
    reason: str = ""
    device_used: str | None = None
    device_name: str | None = None
    accelerator_used: bool = False
    steps_per_s: float | None = None
    cpu_steps_per_s: float | None = None
    speedup: float | None = None
    diagnosis: Items[Finding] = ()


class Verification(_Frozen):
    kind: str = "smoke"  # smoke | import
    passed: bool
    summary: str = ""
    lines: Items[str] = ()
    result: SmokeRecord | None = None
    cached: bool = False
    verified_at: str | None = None
    duration_s: float | None = None
    output: str = ""  # the import check's output when it failed


class StepEntry(_Frozen):
    name: str
    status: Literal["ok", "change", "fail", "skipped"]
    changed: bool = False
    reason: str = ""
    duration_s: float = 0.0


class Report(_Frozen):
    """One run's report (schema ``provision-report/2``, docs/report.md)."""

    schema_: str = Field(default=SCHEMA, alias="schema")
    schema_version: int = SCHEMA_VERSION
    tool: str
    mode: Mode
    result: Result
    exit_code: int
    started_at: str
    finished_at: str
    duration_s: float
    profile: ProfileInfo
    host: HostInfo
    checks: Checks | None = None
    lock: LockInfo | None = None
    environment: EnvironmentInfo
    packages: Items[PackageRecord] = ()  # the state's package record
    verify: Verification | None = None
    steps: Items[StepEntry] = ()
    # The fleet run this report belongs to ("" outside one) and the bundle the
    # environment came from ("" when not from a bundle).
    run_id: str = ""
    bundle_id: str = ""
    # Only in a report the controller wrote for a host that sent none this run.
    cause: str = ""
    fix: str = ""
    previous: PreviousRun | None = None

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"schema_version {v} is not one this provision reads "
                f"({', '.join(map(str, SUPPORTED_VERSIONS))}): upgrade provision"
            )
        return v

    @property
    def durations(self) -> dict[str, float]:
        return {s.name: s.duration_s for s in self.steps}

    @property
    def verified(self) -> bool:
        """The run ended with the environment proven: exit 0 and a passed verification."""
        return (
            self.exit_code == 0
            and self.result in ("changed", "converged", "verified")
            and self.verify is not None
            and self.verify.passed
        )

    def as_json(self) -> dict[str, Any]:
        """The documented JSON (``durations`` kept for readers of schema 1)."""
        data = self.model_dump(mode="json", by_alias=True)
        data["durations"] = self.durations
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_json(), indent=2) + "\n"


class InvalidReport(ValueError):
    """A file that is not a report this version reads: one line naming the cause."""


def parse_report(data: Any) -> Report:
    """Validate one report document (any supported schema version)."""
    if not isinstance(data, dict):
        raise InvalidReport("not a JSON object")
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema.startswith("provision-report/"):
        raise InvalidReport("not a provision report (no 'schema: provision-report/N')")
    try:
        return Report.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "report"
        raise InvalidReport(f"{where}: {first['msg']}") from None


def run_ids(run_id: str | None = None, bundle_id: str | None = None) -> dict[str, str]:
    """The fleet run and bundle this run belongs to: given, else ``$PROVISION_RUN_ID``
    and ``$PROVISION_BUNDLE_ID`` (the playbook and a bundle's bootstrap set them)."""
    return {
        "run_id": run_id or os.environ.get(RUN_ID_VAR, ""),
        "bundle_id": bundle_id or os.environ.get(BUNDLE_ID_VAR, ""),
    }


def host_info(host_name: str | None, platform_subdir: str) -> HostInfo:
    """This machine, named ``host_name`` (or ``$PROVISION_HOST_NAME``, else its hostname)."""
    hostname = socket.gethostname() or platform.node()
    name = host_name or os.environ.get(HOST_NAME_VAR) or hostname
    return HostInfo(
        name=name,
        hostname=hostname,
        platform=platform_subdir,
        system=platform.system(),
        release=platform.release(),
        machine=platform.machine(),
    )


# The fields a report has before its run: what provision knows when it renders the
# bootstrap scripts (render/artifacts_bootstrap.py), which add the rest when they run.
SKELETON_FIELDS = ("schema", "schema_version", "tool", "mode", "profile", "lock", "packages")


def report_skeleton(
    *, tool: str, profile: ProfileInfo, lock: LockInfo, packages: tuple[PackageRecord, ...]
) -> dict[str, Any]:
    """A report's :data:`SKELETON_FIELDS` as JSON data, made by the model itself (a report
    with placeholder run fields, cut to the skeleton), in the model's field order."""
    placeholder = Report(
        tool=tool,
        mode="apply",
        result="failed",
        exit_code=0,
        started_at="",
        finished_at="",
        duration_s=0.0,
        profile=profile,
        host=HostInfo(name="", hostname=""),
        environment=EnvironmentInfo(name=""),
        lock=lock,
        packages=packages,
    )
    data = placeholder.model_dump(mode="json", by_alias=True)
    return {k: data[k] for k in SKELETON_FIELDS}
