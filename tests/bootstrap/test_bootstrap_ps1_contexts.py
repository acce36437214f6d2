"""The contexts lab PCs run bootstrap.ps1 in: SYSTEM (Intune, SCCM), a 32-bit host, a user
whose name has a space, a ``-Prefix`` with a trailing ``\\``. The scripts' own path code
(``Get-PlainPath``, ``Test-ServiceAccount``, ``Get-DataHome`` and the assignments that
use them) is run by a small interpreter (tests/support/ps_eval.py; PowerShell cannot run
here) for each context, for the rendered bootstrap.ps1 and the bundle's."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from provisioner.profile import load_profile
from provisioner.render import RenderContext
from provisioner.render.artifacts_bootstrap import render_bootstrap_ps1
from tests.support.ps1_scripts import bundle_bootstrap_ps1
from tests.support.ps_eval import Interpreter

REPO = Path(__file__).resolve().parents[2]
PROFILE = REPO / "profiles" / "torch-directml-windows.yaml"
SID = "[Security.Principal.WindowsIdentity]::GetCurrent().User.Value"

SYSTEM_PROFILE = "C:\\Windows\\system32\\config\\systemprofile"
SYSTEM = {
    "USERPROFILE": SYSTEM_PROFILE,
    "LOCALAPPDATA": SYSTEM_PROFILE + "\\AppData\\Local",
    "SystemRoot": "C:\\Windows",
    "WINDIR": "C:\\Windows",
    "ProgramData": "C:\\ProgramData",
}
LOCAL_SERVICE = {**SYSTEM, "USERPROFILE": "C:\\Windows\\ServiceProfiles\\LocalService"}
USER_HOME = "C:\\Users\\Zo\u00eb O'Brien"
USER = {**SYSTEM, "USERPROFILE": USER_HOME, "LOCALAPPDATA": USER_HOME + "\\AppData\\Local"}


@cache
def scripts() -> dict[str, str]:
    ctx = RenderContext(load_profile(PROFILE), "test")
    return {
        "bootstrap.ps1": render_bootstrap_ps1(ctx),
        "bundle bootstrap.ps1": bundle_bootstrap_ps1(ctx, top="t", tool_ids={"3.11": "a" * 64}),
    }


def paths_for(source: str, env: dict[str, str], sid: str, **params: str) -> dict[str, str]:
    """Where the script puts provision's files, its environment and (bundle) its tool."""
    home = env["USERPROFILE"]
    variables = {"HOME": home, "Prefix": "", "ProvisionHome": "", "Python": "", "Report": ""}
    variables.update(params)
    run = Interpreter(
        source,
        env=env,
        variables=variables,
        dotnet={SID: sid, "$ToolIds[$PyVersion]": "aaaaaaaaaaaaaaaa"},
    )
    run.run_top_level(
        {"envname", "prefix", "provisionhome", "datahome", "envsdir", "defaultprefix", "envprefix"}
        | {"toolroot", "tool"}
    )
    found = {"data home": run.get("DataHome"), "prefix": run.get("Prefix")}
    for name in ("DefaultPrefix", "EnvPrefix", "Tool"):
        try:
            found[name] = run.get(name)
        except NotImplementedError:
            continue
    return found


@pytest.mark.parametrize("script", ["bootstrap.ps1", "bundle bootstrap.ps1"])
@pytest.mark.parametrize(
    ("env", "sid"),
    [(SYSTEM, "S-1-5-18"), (LOCAL_SERVICE, "S-1-5-19")],
    ids=["SYSTEM", "LocalService"],
)
def test_as_a_service_account_nothing_goes_under_the_windows_folder(
    script: str, env: dict[str, str], sid: str
) -> None:
    """SYSTEM's profile is under System32, which a 32-bit process sees redirected to
    SysWOW64 and lab users cannot read: provision's one root is %ProgramData%\\provision."""
    found = paths_for(scripts()[script], env, sid)
    assert found["data home"] == "C:\\ProgramData\\provision"
    # the bundle's tool and environment share that one root, and provision apply gets it
    if script.startswith("bundle"):
        assert {"Tool", "EnvPrefix"} <= set(found)
        assert "$env:PROVISION_HOME = $DataHome" in scripts()[script]
    for what, path in found.items():
        if path:
            assert not re.search(r"(?i)\\windows\\|system32|syswow64", path), (what, path)
            assert path.startswith("C:\\ProgramData\\provision"), (what, path)


@pytest.mark.parametrize("script", ["bootstrap.ps1", "bundle bootstrap.ps1"])
def test_a_user_gets_provisions_data_home_in_the_profile(script: str) -> None:
    found = paths_for(scripts()[script], USER, "S-1-5-21-1-2-3-1001")
    assert found["data home"] == USER_HOME + "\\.local\\share\\provision"  # paths.data_home()
    env = {**SYSTEM, "PROVISION_HOME": "D:\\lab\\provision"}
    assert paths_for(scripts()[script], env, "S-1-5-18")["data home"] == "D:\\lab\\provision"


@pytest.mark.parametrize("script", ["bootstrap.ps1", "bundle bootstrap.ps1"])
@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("D:\\ML Envs\\", "D:\\ML Envs"),
        ("D:\\ML Envs\\\\", "D:\\ML Envs"),
        ("D:\\", "D:\\"),
        ("\\\\lab-nas\\envs\\dml\\", "\\\\lab-nas\\envs\\dml"),
        ("C:\\envs\\dml", "C:\\envs\\dml"),
    ],
)
def test_a_trailing_backslash_in_prefix_is_dropped_before_any_call(
    script: str, given: str, used: str
) -> None:
    """Windows PowerShell 5.1 would pass ``"D:\\ML Envs\\"`` with the closing quote
    escaped (test_ps_native_model.py); the scripts normalise -Prefix first."""
    assert paths_for(scripts()[script], USER, "S-1-5-21-1", Prefix=given)["prefix"] == used


@pytest.mark.parametrize("script", ["bootstrap.ps1", "bundle bootstrap.ps1"])
def test_a_32_bit_host_runs_the_script_again_in_the_64_bit_one(script: str) -> None:
    source = scripts()[script]
    condition = (
        "if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) {"
    )
    host64 = "$Host64 = Join-Path $env:WINDIR 'Sysnative\\WindowsPowerShell\\v1.0\\powershell.exe'"
    relaunch = "& $Host64 -NoProfile -ExecutionPolicy Bypass -File $ScriptPath @Forward"
    at = [source.index(line) for line in (condition, host64, relaunch, "exit $LASTEXITCODE")]
    assert at == sorted(at)
    # before anything else runs: the normalised parameters are what it forwards
    assert source.index("$Prefix = Get-PlainPath $Prefix") < at[0] < source.index("$Here = ")


def test_the_scripts_before_issue_20_put_systems_files_under_system32() -> None:
    """The same interpreter on bootstrap.ps1 as it was (tests/data/ps1_before_issue20):
    SYSTEM's data home under System32, a trailing backslash kept."""
    before = REPO / "tests" / "data" / "ps1_before_issue20" / "torch-directml-windows.bootstrap.ps1"
    found = paths_for(before.read_text(encoding="utf-8"), SYSTEM, "S-1-5-18", Prefix="D:\\E s\\")
    assert "system32" in found["data home"].lower() and found["prefix"] == "D:\\E s\\"
