"""Every PowerShell script provision writes, rendered for the tests that read them all
(tests/checks/test_ps1_native_calls.py, test_ps1_lint.py): check.ps1 of every shipped
profile, bootstrap.ps1 of every Windows profile (the shipped conda ones and a venv one),
the bundle's bootstrap.ps1 for each, and the golden files."""

from __future__ import annotations

from pathlib import Path

from provisioner.bundle.scripts import bundle_scripts
from provisioner.bundle.tool import own_name
from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_bootstrap import render_bootstrap_ps1
from provisioner.render.artifacts_checks import render_check_ps1
from tests.checks.host_replay import profile_paths
from tests.support.profiles import profile_document, write_profile

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "data" / "golden"


def _windows_venv_profile(tmp_path: Path) -> Path:
    document = profile_document(
        "win-venv", {"manager": "venv", "python": "3.11", "pip": ["six"]}, os_="windows"
    )
    return write_profile(tmp_path / "win-venv.yaml", document)


def bundle_bootstrap_ps1(ctx: RenderContext, *, top: str, tool_ids: dict[str, str]) -> str:
    """The bundle's bootstrap.ps1 for a Windows profile, with the tool files every bundle
    carries (uv and a wheel of provision itself), without its BOM."""
    files = bundle_scripts(
        resolved=ctx.resolved,
        platform="win-64",
        top=top,
        tool_ids=tool_ids,
        locked=[],
        tool_files=[
            "tool/uv-0.9.0-py3-none-win_amd64.whl",
            f"tool/{own_name().replace('-', '_')}-0.1.0-py3-none-any.whl",
        ],
    )
    return files["bootstrap.ps1"][0].lstrip("\ufeff")


def rendered_scripts(tmp_path: Path) -> dict[str, str]:
    """Every .ps1 provision writes: check.ps1 of every shipped profile, bootstrap.ps1 of
    every Windows profile (conda and venv), the bundle's bootstrap.ps1, the golden files."""
    scripts: dict[str, str] = {}
    examples = sorted((REPO / "profiles" / "examples").glob("*.yaml"))
    profiles = [*profile_paths(), *examples, _windows_venv_profile(tmp_path)]
    for path in profiles:
        ctx = RenderContext(load_profile(path), "test")
        scripts[f"{path.stem}.check.ps1"] = render_check_ps1(ctx)
        if ctx.resolved.profile.target.os.value == "windows":
            scripts[f"{path.stem}.bootstrap.ps1"] = render_bootstrap_ps1(ctx)
            scripts[f"{path.stem}.bundle.bootstrap.ps1"] = bundle_bootstrap_ps1(
                ctx, top=f"{path.stem}-win-64", tool_ids={"3.11": "0" * 64, "3.12": "1" * 64}
            )
    for golden in sorted(GOLDEN.glob("*.ps1")):
        scripts[f"golden/{golden.name}"] = golden.read_text(encoding="utf-8")
    return scripts
