# bootstrap.ps1: build the torch-directml environment on this machine from the files
# beside this script, without provision installed (Windows PowerShell 5.1 or PowerShell 7).
# Rendered by provision golden from torch-directml-windows.yaml; do not edit, re-render.
#
# Usage (also under the default Restricted execution policy):
#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\bootstrap.ps1 [-DryRun] [-SkipChecks]
#       [-Prefix DIR] [-Python EXE] [-CondaExe EXE] [-Report FILE] [-HostName NAME]
#   1. runs .\check.ps1 (host checks)          (skipped with -SkipChecks)
#   2. creates the environment from the lock (conda: micromamba.exe, mamba.exe or conda.exe
#      from -CondaExe or PATH; venv: a 64-bit Python 3.11 from -Python, the py
#      launcher, PATH or the python.org folders, and pip --require-hashes)
#   3. runs .\smoke_test.py with the environment's Python
#   4. writes a report (schema provision-report/2, docs/report.md): $env:PROVISION_HOME\reports\<env>.json
#      and a bounded history (-Report FILE: only there); the host is named -HostName,
#      else $env:PROVISION_HOST_NAME, else the computer name
# Non-interactive and idempotent: a prefix stamped with this lock's sha256 (after a
# passed smoke test), or recorded so in provision's state (provision apply's marker,
# shared), is left alone. -DryRun only says what it would do.
#
# Exit codes: 0 the environment matches the lock and the smoke test passed (or, with
# -DryRun, the plan was printed); 1 host not ready, install failed or smoke test
# failed; 2 usage error or incomplete folder (no conda-lock.yml, lock changed since
# render); 3 internal error (the report says so).
# Started by a 32-bit PowerShell on 64-bit Windows (Intune's default), it runs itself
# again in the 64-bit one; as SYSTEM, provision's files go under %ProgramData%\provision.
[CmdletBinding()]
param(
    [switch]$DryRun,
    [switch]$SkipChecks,
    [string]$Prefix = '',
    [string]$Python = '',
    [string]$CondaExe = '',
    [string]$Report = '',
    [string]$HostName = $env:PROVISION_HOST_NAME
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$ScriptPath = $MyInvocation.MyCommand.Path
$BoundParameters = $PSBoundParameters

# -- the host this runs in (provisioner/templates/ps1/host.ps1.j2) -------------------------
# A path without a trailing '\': Windows PowerShell 5.1 puts quotes around an argument
# with a space but does not double the backslash before the closing quote, so
# "D:\ML Envs\" would swallow the arguments after it (fixed only in PowerShell 6:
# https://github.com/PowerShell/PowerShell/pull/4965). A drive root keeps its '\'.
function Get-PlainPath([string]$Path) {
    $trimmed = $Path.TrimEnd('\', '/')
    if ($trimmed -eq '' -or $trimmed -match '^[A-Za-z]:$') { return $Path }
    return $trimmed
}

# SYSTEM (S-1-5-18) and the other service accounts have their profile under the Windows
# folder, which a 32-bit process sees redirected to SysWOW64 and lab users cannot read.
function Test-ServiceAccount {
    $sid = [Security.Principal.WindowsIdentity]::GetCurrent().User.Value
    $windows = ([string]$env:SystemRoot).TrimEnd('\')
    $profileDir = [string]$env:USERPROFILE
    if ($sid -eq 'S-1-5-18') { return $true }
    return ($windows -ne '' -and $profileDir.StartsWith($windows + '\', [StringComparison]::OrdinalIgnoreCase))
}

# provision's one root for its tool, environments, state and reports
# (provisioner/paths.py data_home): $env:PROVISION_HOME, else $env:XDG_DATA_HOME\provision,
# else %ProgramData%\provision for a service account, else ~\.local\share\provision.
function Get-DataHome {
    if ($env:PROVISION_HOME) { return $env:PROVISION_HOME }
    if ($env:XDG_DATA_HOME) { return (Join-Path $env:XDG_DATA_HOME 'provision') }
    if (Test-ServiceAccount) { return (Join-Path $env:ProgramData 'provision') }
    return (Join-Path $HOME '.local\share\provision')
}

$Prefix = Get-PlainPath $Prefix
$Python = Get-PlainPath $Python
$CondaExe = Get-PlainPath $CondaExe
$Report = Get-PlainPath $Report
# Run again in the 64-bit Windows PowerShell when a 32-bit one started this script (Intune's
# default for platform scripts; some SCCM clients): there System32 is SysWOW64, while the
# 64-bit Python this script starts sees the real one. Sysnative is the 64-bit System32 as
# a 32-bit process names it. https://learn.microsoft.com/windows/win32/winprog64/file-system-redirector
if ([Environment]::Is64BitOperatingSystem -and -not [Environment]::Is64BitProcess) {
    $Host64 = Join-Path $env:WINDIR 'Sysnative\WindowsPowerShell\v1.0\powershell.exe'
    $Forward = @()
    foreach ($name in @($BoundParameters.Keys)) {
        $value = Get-Variable -Name $name -ValueOnly  # as normalised above
        if ($value -is [Management.Automation.SwitchParameter]) {
            if ($value.IsPresent) { $Forward += "-$name" }
        } elseif ($name -eq 'HostName') {
            $env:PROVISION_HOST_NAME = [string]$value  # any text: through the environment
        } elseif ([string]$value -ne '') {
            $Forward += @("-$name", [string]$value)
        }
    }
    & $Host64 -NoProfile -ExecutionPolicy Bypass -File $ScriptPath @Forward
    exit $LASTEXITCODE
}

# Downloads need TLS 1.2, which .NET Framework 4.x leaves off on older Windows 10 builds.
# https://learn.microsoft.com/dotnet/framework/network-programming/tls
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
# Every timestamp and file name is written in the invariant culture (fi-FI writes
# 10.22.33 for HH:mm:ss, th-TH a Buddhist-era year).
$Invariant = [Globalization.CultureInfo]::InvariantCulture

# Any error nothing else handled still writes the report, removes the temporary folder and
# exits 3.
trap {
    $problem = "internal error: $($_.Exception.Message) (bootstrap.ps1 line $($_.InvocationInfo.ScriptLineNumber))"
    if (Test-Path Function:\Finish) { Finish 3 'failed' $problem }
    [Console]::Error.WriteLine("bootstrap: error: $problem")
    exit 3
}

$Here = Split-Path -Parent $ScriptPath
$EnvName = 'torch-directml'
$Manager = 'conda'
$PythonVersion = '3.11'
$Platform = 'win-64'
$LockSha256 = ''
# The report's fixed part (profile, lock, packages), rendered by provision as JSON;
# Write-Report adds the run's result, host, checks, verification, steps and timings.
$ReportSkeleton = '{"schema":"provision-report/2","schema_version":2,"tool":"bootstrap.ps1 (provision golden)","mode":"apply","profile":{"name":"torch-directml-windows","path":"torch-directml-windows.yaml","content_hash":"sha256:265d92eb5034f686c962cc5895b6deb6cb3ed9db8fd20d5081fa3326137c9a55","target":"windows","manager":"conda","python":"3.11","framework":"torch-directml","device":"dml"},"lock":{"path":"conda-lock.yml","sha256":null,"fresh":true},"packages":[]}'
$Explicit = @(
)
$CondaSha256 = @(
)
$Requirements = @(
)
# What the helper below reads, rendered by provision from apply's typed contract: the
# state of this lock once verified (provisioner/state.py, less what only the run knows)
# and the activation data (provisioner/env/activation.py).
$BootstrapData = '{"activation":{"conda_files":{"etc/conda/activate.d/provision-env-vars.bat":null,"etc/conda/activate.d/provision-env-vars.fish":null,"etc/conda/activate.d/provision-env-vars.ps1":null,"etc/conda/activate.d/provision-env-vars.sh":null,"etc/conda/deactivate.d/provision-env-vars.bat":null,"etc/conda/deactivate.d/provision-env-vars.fish":null,"etc/conda/deactivate.d/provision-env-vars.ps1":null,"etc/conda/deactivate.d/provision-env-vars.sh":null},"conda_state":{"env_vars":{},"key":"provision_env_vars"},"strip":"(?s)[ \\t]*(?:#|rem|::) >>>\\ provision:\\ environment\\.variables\\ >>>.*?<<<\\ provision:\\ environment\\.variables\\ <<<\\r?\\n","venv_scripts":[]},"state":{"measured":["framework_version","device_used","device_name","accelerator_used","steps_per_s","cpu_steps_per_s","speedup"],"skeleton":{"env":"torch-directml","lock_inputs_hash":"","lock_sha256":"","manager":"conda","packages":[],"phase":"verified","platform":"win-64","profile":"torch-directml-windows","profile_hash":"sha256:265d92eb5034f686c962cc5895b6deb6cb3ed9db8fd20d5081fa3326137c9a55","validation_key":"","verification":{"accelerator_used":false,"cpu_steps_per_s":null,"device_name":null,"device_used":null,"framework_version":null,"kind":"smoke","speedup":null,"steps_per_s":null,"summary":"smoke test passed","verified_at":""},"version":2}}}'
# The helper: apply's own code run by the environment's Python (provisioner/target/: the
# prefix fingerprint, the activation writer and the state journal, packed with
# target/bootstrap.py), so the state and the activation are written as apply writes them.
$HelperCode = @'
from __future__ import annotations


import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Sequence


# --- A cheap fingerprint of what is installed in a prefix: the names in ``conda-meta``
# The recipe: these folders under the prefix ("/"-separated), then every
# ``GLOB[0]/<GLOB[1]>/GLOB[2]`` folder, in sorted order.
FOLDERS = ("conda-meta", "Lib/site-packages")
GLOB = ("lib", "python3*", "site-packages")


def env_fingerprint(prefix: Path) -> str:
    """sha256 over ``str(prefix)`` and, per folder that can be listed, its path relative
    to the prefix, ``|``, its mtime in ns, ``|``, then its sorted entry names joined by
    NUL, all UTF-8. Empty when the prefix does not exist."""
    if not prefix.is_dir():
        return ""
    h = hashlib.sha256(str(prefix).encode())
    folders = [prefix.joinpath(*name.split("/")) for name in FOLDERS]
    folders += sorted((prefix / GLOB[0]).glob(f"{GLOB[1]}/{GLOB[2]}"))
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
            mtime = folder.stat().st_mtime_ns
        except OSError:
            continue
        h.update(f"{folder.relative_to(prefix)}|{mtime}|".encode())
        h.update("\0".join(names).encode())
    return h.hexdigest()


# --- What the activation data of ``provisioner/env/activation.py`` makes of a prefix's
def read_text(path: str) -> str | None:
    """The file's text, or ``None`` when it is absent or not UTF-8 (then it is rewritten)."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _read_json(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def venv_script_text(text: str, patch: dict[str, str], strip: str) -> str:
    """``text`` (a venv activate script) with our blocks replaced by ``patch``'s."""
    text = re.sub(strip, "", text)
    if not patch["set"]:
        return text
    found = re.search(patch["anchor"], text)
    if found is not None:  # restore inside deactivate; the activate script calls it first
        at = found.end()
        text = text[:at] + patch["restore"] + text[at:]
    return text + ("" if text.endswith("\n") else "\n") + patch["set"]


def conda_state_text(state: dict[str, Any], spec: dict[str, Any]) -> str | None:
    """``conda-meta/state`` with ``spec["env_vars"]`` as ours; ``None``: no file needed.
    conda reads ``env_vars``; ``spec["key"]`` names the ones we set, so variables a
    user added with ``conda env config vars set`` are kept."""
    key = spec["key"]
    items = sorted(spec["env_vars"].items())
    env_vars = state.get("env_vars")
    ours = state.get(key)
    theirs = {
        str(k): v
        for k, v in (env_vars.items() if isinstance(env_vars, dict) else ())
        if not (isinstance(ours, list) and k in ours)
    }
    state = {k: v for k, v in state.items() if k not in ("env_vars", key)}
    if theirs or items:
        state["env_vars"] = {**theirs, **dict(items)}
    if items:
        state[key] = [k for k, _ in items]
    return json.dumps(state, indent=2, sort_keys=True) + "\n" if state else None


def wanted(prefix: str, data: dict[str, Any]) -> dict[str, str | None]:
    """What each activation file under ``prefix`` must hold (``None``: must not exist)."""
    out: dict[str, str | None] = {}
    for folder in ("bin", "Scripts"):
        where = os.path.join(prefix, folder)
        if not os.path.isdir(where):
            continue
        names = {name.lower(): os.path.join(where, name) for name in os.listdir(where)}
        for patch in data["venv_scripts"]:
            path = names.get(patch["name"])
            text = read_text(path) if path is not None else None
            if path is not None and text is not None:
                out[path] = venv_script_text(text, patch, data["strip"])
    for rel, text in data["conda_files"].items():
        out[os.path.join(prefix, *rel.split("/"))] = text
    spec = data["conda_state"]
    if spec is not None:
        path = os.path.join(prefix, "conda-meta", "state")
        out[path] = conda_state_text(_read_json(path), spec)
    return out


def is_current(prefix: str, data: dict[str, Any]) -> bool:
    """Whether the files under ``prefix`` already hold what ``data`` says."""
    return all(read_text(p) == t for p, t in wanted(prefix, data).items())


def changes(prefix: str, data: dict[str, Any]) -> list[tuple[str, bytes | None]]:
    """The files under ``prefix`` that differ from ``data``: their new bytes, or
    ``None`` for a file to remove. apply writes them atomically (``provisioner/atomic.py``)."""
    out: list[tuple[str, bytes | None]] = []
    for path, text in wanted(prefix, data).items():
        if read_text(path) == text:
            continue
        if text is None:
            out.append((path, None))
            continue
        raw = text.encode("utf-8")
        if path.lower().endswith(".ps1") and not text.isascii():
            raw = b"\xef\xbb\xbf" + raw  # Windows PowerShell 5.1 reads BOM-less as ANSI
        out.append((path, raw))
    return out


# --- apply's state file, on the target's side: the one serialisation of the journal, and
# The fields of a state only the run knows: the scripts add them to the skeleton.
RUNTIME_FIELDS = ("prefix", "lock_path", "fingerprint", "updated_at")
# JSON values the record may carry from the smoke test's own result.
SCALARS = (str, int, float, bool, type(None))


def state_text(data: dict[str, Any]) -> str:
    """The state file's text: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def read_state_file(path: str) -> dict[str, Any] | None:
    """The recorded state as JSON data, or ``None`` when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def is_verified(
    state: dict[str, Any] | None,
    skeleton: dict[str, Any],
    *,
    prefix: str,
    fingerprint: str,
) -> bool:
    """Whether ``state`` marks ``prefix`` (as it is now: ``fingerprint``) built from the
    skeleton's lock and verified by a smoke test: what ``State.good_for`` says in apply."""
    if not isinstance(state, dict):
        return False
    recorded = state.get("verification")
    wanted = skeleton["verification"]
    return (
        all(state.get(k) == skeleton[k] for k in ("version", "phase", "lock_sha256"))
        and isinstance(recorded, dict)
        and recorded.get("kind") == wanted["kind"]
        and state.get("prefix") == prefix
        and state.get("fingerprint") == fingerprint
    )


def verified_record(
    skeleton: dict[str, Any],
    measured: Sequence[str],
    *,
    prefix: str,
    lock_path: str,
    fingerprint: str,
    result: dict[str, Any] | None,
    now: str | None = None,
) -> dict[str, Any]:
    """The skeleton completed by the run: the prefix, the lock, the fingerprint, the
    time, and the ``measured`` fields of the smoke test's ``result`` (JSON scalars only)."""
    now = now or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    verification = dict(skeleton["verification"], verified_at=now)
    for key in measured:
        value = (result or {}).get(key)
        if isinstance(value, SCALARS):
            verification[key] = value
    state = dict(skeleton, prefix=prefix, lock_path=lock_path, fingerprint=fingerprint)
    state.update(updated_at=now, verification=verification)
    return state


def write_state_file(path: str, data: dict[str, Any]) -> None:
    """Replace the state file durably: a hidden temp file beside it with an unpredictable
    name (``.NAME.<16 hex>.tmp``, as ``provisioner/atomic.py`` names them), created
    exclusively without following a link planted there, fsync, ``os.replace``."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, ".%s.%s.tmp" % (os.path.basename(path), os.urandom(8).hex()))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)  # Windows: no CRLF translation under the text
    try:
        with os.fdopen(os.open(tmp, flags, 0o666), "w", encoding="utf-8", newline="\n") as f:
            f.write(state_text(data))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


# --- The bootstrap scripts' helper: what ``bootstrap.sh`` and ``bootstrap.ps1`` do with the
def _data() -> dict[str, Any]:
    with open(os.environ["PROVISION_BOOTSTRAP_DATA"], encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError("PROVISION_BOOTSTRAP_DATA is not a JSON object")
    return data


def _smoke_result() -> dict[str, Any] | None:
    path = os.environ.get("PROVISION_SMOKE_RESULT", "")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            result = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    return result if isinstance(result, dict) else None


def write_activation(prefix: str, data: dict[str, Any]) -> None:
    for path, raw in changes(prefix, data):
        if raw is None:
            os.unlink(path)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(raw)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("state-check", "state-write", "activation"):
        print("usage: HELPER state-check|state-write|activation", file=sys.stderr)
        return 2
    mode = argv[0]
    data = _data()
    prefix = os.path.abspath(os.environ["PROVISION_PREFIX"])
    if mode == "activation":
        write_activation(prefix, data["activation"])
        return 0
    skeleton = data["state"]["skeleton"]
    path = os.environ["PROVISION_STATE_FILE"]
    fingerprint = env_fingerprint(Path(prefix))
    if mode == "state-check":
        found = is_verified(read_state_file(path), skeleton, prefix=prefix, fingerprint=fingerprint)
        return 0 if found else 1
    record = verified_record(
        skeleton,
        data["state"]["measured"],
        prefix=prefix,
        lock_path=os.environ["PROVISION_LOCKFILE"],
        fingerprint=fingerprint,
        result=_smoke_result(),
    )
    write_state_file(path, record)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'@

function Say([string]$Message) { [Console]::Error.WriteLine("bootstrap: $Message") }
function Die([int]$Code, [string]$Message) { Say "error: $Message"; exit $Code }

$NoLock = 'no conda-lock.yml here: run `provision lock PROFILE` before render'
# -Report FILE is checked before any work: a folder, or a path under a file, is exit 2.
if ($Report) {
    $ReportFile = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Report)
    if (Test-Path -LiteralPath $ReportFile -PathType Container) { Die 2 "-Report $Report is a folder (fix: name a file)" }
    $ReportDir = Split-Path -Parent $ReportFile
    while ($ReportDir -and -not (Test-Path -LiteralPath $ReportDir)) { $ReportDir = Split-Path -Parent $ReportDir }
    if ($ReportDir -and -not (Test-Path -LiteralPath $ReportDir -PathType Container)) {
        Die 2 "-Report ${Report}: $ReportDir is not a folder (fix: name a file in one)"
    }
}
# Rendered without a lock, $LockSha256 is empty and the script stops here.
if (-not $LockSha256) { Die 2 $NoLock }
$LockFile = Join-Path $Here 'conda-lock.yml'
if (-not (Test-Path -LiteralPath $LockFile -PathType Leaf)) { Die 2 $NoLock }
$Actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $LockFile).Hash.ToLowerInvariant()
if ($Actual -ne $LockSha256) {
    Die 2 'conda-lock.yml changed since this script was rendered: re-run `provision render`'
}

$DataHome = Get-DataHome
if ($env:PROVISION_ENVS_DIR) { $EnvsDir = $env:PROVISION_ENVS_DIR } else { $EnvsDir = Join-Path $DataHome 'envs' }
$DefaultPrefix = Join-Path $EnvsDir $EnvName  # apply's prefix
if (-not $Prefix) { $Prefix = $DefaultPrefix }
if ($Manager -eq 'conda') { $EnvPython = Join-Path $Prefix 'python.exe' }
else { $EnvPython = Join-Path $Prefix 'Scripts\python.exe' }
$Stamp = Join-Path $Prefix '.provision-bootstrap'

# Everything the run needs is checked before any work (exit 2, no report, nothing left).
if ("$Prefix|$Python|$CondaExe|$Report" -match '"') { Die 2 'a path contains a double quote, which Windows does not allow in a path' }
if ((Get-PlainPath $Prefix) -match '^[A-Za-z]:\\?$') { Die 2 "-Prefix $Prefix is a drive root: a rebuild would delete it whole (fix: name a folder)" }
$CheckScript = Join-Path $Here 'check.ps1'
if (-not $SkipChecks -and -not (Test-Path -LiteralPath $CheckScript -PathType Leaf)) { Die 2 'check.ps1 is missing beside bootstrap.ps1: copy the whole rendered folder' }
$SmokeScript = Join-Path $Here 'smoke_test.py'
if (-not (Test-Path -LiteralPath $SmokeScript -PathType Leaf)) { Die 2 'smoke_test.py is missing beside bootstrap.ps1: copy the whole rendered folder' }
if ($CondaExe -and -not ((Test-Path -LiteralPath $CondaExe -PathType Leaf) -and $CondaExe.EndsWith('.exe', [StringComparison]::OrdinalIgnoreCase))) {
    Die 2 "-CondaExe $CondaExe is not a program file (fix: name micromamba.exe, mamba.exe or conda.exe; a .bat re-reads its arguments)"
}

$Work = Join-Path ([IO.Path]::GetTempPath()) ('provision-bootstrap-' + [Guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $Work | Out-Null
$SmokeFile = Join-Path $Work 'smoke.json'
$Started = (Get-Date).ToUniversalTime()
$Steps = New-Object System.Collections.ArrayList
$ChecksResult = $null
$SmokeResult = $null
$EnvAction = 'none'

function Add-Step([string]$Name, [string]$Status, [string]$Reason, [datetime]$Since) {
    $seconds = [Math]::Round(((Get-Date) - $Since).TotalSeconds, 3)
    [void]$Steps.Add([ordered]@{ name = $Name; status = $Status; changed = ($Status -eq 'change'); reason = $Reason; duration_s = $seconds })
    Write-Output ('{0,-12} {1,-8} {2}' -f $Name, $Status, $Reason)
}

function Read-Json([string]$Path) {
    if ($Path -and (Test-Path -LiteralPath $Path)) {
        try { return (Get-Content -Raw -Encoding UTF8 -LiteralPath $Path | ConvertFrom-Json) } catch { return $null }
    }
    return $null
}

$Utf8 = New-Object System.Text.UTF8Encoding $false  # no BOM: JSON readers refuse one

# A name no other program can guess (16 hex digits of a random GUID): for the temporary
# files and folders this script makes beside files other users may see.
function Get-RandomPart { return [Guid]::NewGuid().ToString('N').Substring(0, 16) }

# Write-FileAtomic FILE TEXT: FILE replaced by TEXT (UTF-8) through a hidden temporary
# file beside it with an unpredictable name, created exclusively ('CreateNew': a file or
# link planted at that name makes it fail, never written through), flushed to disk, then
# renamed over FILE; as provisioner/target/journal.py writes the state.
function Write-FileAtomic([string]$File, [string]$Text) {
    $tmp = Join-Path (Split-Path -Parent $File) ('.' + (Split-Path -Leaf $File) + '.' + (Get-RandomPart) + '.tmp')
    $bytes = $Utf8.GetBytes($Text)
    $stream = [IO.File]::Open($tmp, 'CreateNew', 'Write', 'None')
    try { $stream.Write($bytes, 0, $bytes.Length); $stream.Flush($true) }
    finally { $stream.Dispose() }
    try { Move-Item -Force -LiteralPath $tmp -Destination $File }
    finally { Remove-Item -Force -LiteralPath $tmp -ErrorAction SilentlyContinue }
}

# Make the report this environment's latest, keep a copy in the history and prune it
# to $env:PROVISION_REPORT_HISTORY (default 10) files, as provision does.
function Save-Report([string]$Text) {
    if ($Report) {
        # .NET resolves a relative path against the process's folder, not PowerShell's.
        $file = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Report)
        New-Item -ItemType Directory -Force -Path (Split-Path -Parent $file) | Out-Null
        [IO.File]::WriteAllText($file, $Text, $Utf8)
        return $file
    }
    $dir = Join-Path $DataHome 'reports'
    $hist = Join-Path $dir 'history'
    New-Item -ItemType Directory -Force -Path $hist | Out-Null
    $keep = 10
    if ("$env:PROVISION_REPORT_HISTORY" -match '^[0-9]+$') { $keep = [int]$env:PROVISION_REPORT_HISTORY }
    $pattern = '^' + [regex]::Escape($EnvName) + '-[0-9]{8}T[0-9]{6}([0-9]{6})?Z(-[a-z]+)?\.json$'
    foreach ($f in @(Get-ChildItem -LiteralPath $dir -File | Where-Object { $_.Name -cmatch $pattern })) {
        Move-Item -Force -LiteralPath $f.FullName -Destination $hist
    }
    if ($keep -gt 0) {
        $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssffffff', $Invariant) + 'Z'
        Write-FileAtomic (Join-Path $hist "$EnvName-$stamp-bootstrap.json") $Text
    }
    $old = @(Get-ChildItem -LiteralPath $hist -File | Where-Object { $_.Name -cmatch $pattern } | Sort-Object Name)
    if ($old.Count -gt $keep) { $old[0..($old.Count - $keep - 1)] | Remove-Item -Force }
    $latest = Join-Path $dir "$EnvName.json"
    Write-FileAtomic $latest $Text
    return $latest
}

function Write-Report([int]$Code, [string]$Result) {
    if ($DryRun) { return }
    $now = (Get-Date).ToUniversalTime()
    $machine = [Environment]::MachineName
    $name = $machine
    if ($HostName) { $name = $HostName }
    $doc = $ReportSkeleton | ConvertFrom-Json
    $run = [ordered]@{
        result = $Result
        exit_code = $Code
        started_at = $Started.ToString('yyyy-MM-ddTHH:mm:ssZ', $Invariant)
        finished_at = $now.ToString('yyyy-MM-ddTHH:mm:ssZ', $Invariant)
        duration_s = [Math]::Round(($now - $Started).TotalSeconds, 3)
        host = [ordered]@{ name = $name; hostname = $machine; platform = $Platform; system = 'Windows'; release = [Environment]::OSVersion.Version.ToString(); machine = $env:PROCESSOR_ARCHITECTURE }
        checks = $ChecksResult
        environment = [ordered]@{ name = $EnvName; prefix = $Prefix; action = $EnvAction; diff = $null }
        verify = $SmokeResult
        steps = @($Steps)
    }
    foreach ($key in $run.Keys) { $doc | Add-Member -NotePropertyName $key -NotePropertyValue $run[$key] -Force }
    $path = Save-Report ($doc | ConvertTo-Json -Depth 20)
    Say "report: $path"
}

# The end of every run after the work started: the report, the message, the old
# environment put back when a rebuild failed, the temporary folder removed, the exit code.
$Finishing = $false
$OldPrefix = ''
function Finish([int]$Code, [string]$Result, [string]$Message) {
    if ($script:Finishing) { exit $Code }  # an error while finishing: do not loop
    $script:Finishing = $true
    try { Write-Report $Code $Result } catch { Say "could not write the report: $($_.Exception.Message)" }
    if ($Message) { Say $Message }
    if ($Code -ne 0 -and $script:OldPrefix) {
        try {
            if (Test-Path -LiteralPath $Prefix) { Remove-Item -Recurse -Force -LiteralPath $Prefix }
            [IO.Directory]::Move($script:OldPrefix, $Prefix)
        } catch { Say "the previous environment is kept at $($script:OldPrefix): $($_.Exception.Message)" }
    }
    Remove-Item -Recurse -Force -LiteralPath $Work -ErrorAction SilentlyContinue
    exit $Code
}

# The first file under FOLDER that another program holds open, or '' (for the message).
function Find-FileInUse([string]$Folder) {
    foreach ($file in @(Get-ChildItem -LiteralPath $Folder -Recurse -File -Force -ErrorAction SilentlyContinue)) {
        try { $stream = [IO.File]::Open($file.FullName, 'Open', 'Read', 'None'); $stream.Dispose() }
        catch { return $file.FullName }
    }
    return ''
}

# micromamba.exe, mamba.exe or conda.exe: a program, never a shell function or alias of
# the same name, nor a .bat (conda's condabin\conda.bat), which re-reads its arguments.
function Find-Conda {
    if ($CondaExe) { return $CondaExe }
    foreach ($name in @('micromamba', 'mamba', 'conda')) {
        foreach ($cmd in @(Get-Command $name -CommandType Application -All -ErrorAction SilentlyContinue)) {
            if ([string]$cmd.Source -like '*.exe') { return $cmd.Source }
        }
    }
    return $null
}

# -- a host Python, found where Windows puts it (provisioner/templates/ps1/python.ps1.j2) --
# Invoke-Native EXE ARGS: run a program and capture what it prints, outside PowerShell's
# native-command handling (Windows PowerShell 5.1 turns a redirected stderr line into an
# error that ends the script under 'Stop'): @{ Ran; Rc; Out; Err }. It refuses an
# argument that would need quotes, so no PowerShell version's quoting rules matter.
function Invoke-Native([string]$Exe, [string[]]$Arguments) {
    foreach ($x in $Arguments) {
        if ($x -eq '' -or $x -match '[\s"]') { throw "Invoke-Native: the argument '$x' would need quotes" }
    }
    $psi = New-Object System.Diagnostics.ProcessStartInfo
    $psi.FileName = $Exe
    $psi.Arguments = ($Arguments -join ' ')
    $psi.UseShellExecute = $false
    $psi.CreateNoWindow = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.StandardOutputEncoding = New-Object System.Text.UTF8Encoding $false
    $psi.EnvironmentVariables['PYTHONIOENCODING'] = 'utf-8'  # else the ANSI code page into a pipe
    try { $proc = [System.Diagnostics.Process]::Start($psi) }
    catch { return @{ Ran = $false; Rc = -1; Out = ''; Err = $_.Exception.Message } }
    $out = $proc.StandardOutput.ReadToEndAsync()
    $err = $proc.StandardError.ReadToEndAsync()
    if (-not $proc.WaitForExit(120000)) {
        try { $proc.Kill() } catch { }
        return @{ Ran = $false; Rc = -1; Out = ''; Err = "$Exe did not answer within 120 s" }
    }
    $proc.WaitForExit()
    return @{ Ran = $true; Rc = $proc.ExitCode; Out = $out.Result; Err = $err.Result }
}

# What an interpreter says of itself (version, pointer size, path, in UTF-8): code with no
# space and no double quote, which no caller quotes and Windows PowerShell 5.1 cannot
# mangle (provisioner/host/patterns.py PYTHON_PROBE, shared with check.ps1 and doctor).
$PythonProbe = '__import__(''sys'').stdout.buffer.write((''%d.%d|%d|%s''%(__import__(''sys'').version_info[:2]+(__import__(''struct'').calcsize(''P'')*8,__import__(''sys'').executable))).encode())'
# A `py -0p` line of a 64-bit CPython, old (" -3.9-64  C:\...") and 3.11+ (" -V:3.12 *  C:\...")
# launcher: provisioner/host/patterns.py PY_LAUNCHER_LINE, shared with provision doctor.
$PyLauncherLine = '^\s*-(?:V:)?([0-9]+\.[0-9]+)(?:-64)?\s+(?:\*\s+)?(\S.*?)(?:\s+\*)?\s*$'

# Test-Python EXE OPTIONS: @{ Version; Bits; Path } of that interpreter, or $null.
function Test-Python([string]$Exe, [string[]]$Options) {
    $r = Invoke-Native $Exe ($Options + @('-c', $PythonProbe))
    if (-not $r.Ran -or $r.Rc -ne 0) { return $null }
    $parts = ([string]$r.Out).Trim().Split('|')
    if ($parts.Count -ne 3) { return $null }
    return @{ Version = $parts[0]; Bits = $parts[1]; Path = $parts[2] }
}

# Find-Python VERSIONS: the first 64-bit CPython of one of VERSIONS ('3.11') from the py
# launcher (its list, `py -0p`, then `py -3.11`), PATH (not the Microsoft Store's
# python.exe alias under WindowsApps, which opens the Store), and the python.org
# installer's folders: %LOCALAPPDATA%\Programs\Python\Python311 (per user) and
# %ProgramFiles%\Python311 (all users). @{ Version; Bits; Path } or $null; what else was
# found is in $PythonsSeen for the message.
$PythonsSeen = New-Object System.Collections.ArrayList
function Find-Python([string[]]$Versions) {
    $candidates = New-Object System.Collections.ArrayList
    $py = Get-Command py -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($py) {
        $list = Invoke-Native $py.Source @('-0p')
        if ($list.Ran -and $list.Rc -eq 0) {
            foreach ($line in ([string]$list.Out -split "`n")) {
                if ($line.TrimEnd() -cmatch $PyLauncherLine) { [void]$candidates.Add(@{ Exe = $Matches[2]; Options = @() }) }
            }
        }
        foreach ($v in $Versions) { [void]$candidates.Add(@{ Exe = $py.Source; Options = @("-$v") }) }
    }
    $store = ''
    if ($env:LOCALAPPDATA) { $store = (Join-Path $env:LOCALAPPDATA 'Microsoft\WindowsApps') + '\' }
    foreach ($cmd in @(Get-Command python -CommandType Application -All -ErrorAction SilentlyContinue)) {
        $path = [string]$cmd.Source
        if (-not $path.EndsWith('.exe', [StringComparison]::OrdinalIgnoreCase)) { continue }
        if ($store -and $path.StartsWith($store, [StringComparison]::OrdinalIgnoreCase)) { continue }
        [void]$candidates.Add(@{ Exe = $path; Options = @() })
    }
    $roots = @()
    if ($env:LOCALAPPDATA) { $roots += (Join-Path $env:LOCALAPPDATA 'Programs\Python') }
    if ($env:ProgramFiles) { $roots += $env:ProgramFiles }
    foreach ($v in $Versions) {
        foreach ($root in $roots) {
            $exe = Join-Path $root ('Python' + $v.Replace('.', '') + '\python.exe')
            if (Test-Path -LiteralPath $exe -PathType Leaf) { [void]$candidates.Add(@{ Exe = $exe; Options = @() }) }
        }
    }
    $tried = @{}
    foreach ($c in $candidates) {
        $key = $c.Exe + ' ' + ($c.Options -join ' ')
        if ($tried.ContainsKey($key)) { continue }
        $tried[$key] = $true
        $found = Test-Python $c.Exe $c.Options
        if ($null -eq $found) { continue }
        if ($Versions -contains $found.Version -and $found.Bits -eq '64') { return $found }
        $seen = "$($found.Version) ($($found.Bits)-bit) $($found.Path)"
        if ($script:PythonsSeen -notcontains $seen) { [void]$script:PythonsSeen.Add($seen) }
    }
    return $null
}

# The one line when no Python fits: where it looked, what it found, how to install one.
function Get-NoPythonMessage([string[]]$Versions) {
    $found = ''
    if ($script:PythonsSeen.Count -gt 0) { $found = "; found: $($script:PythonsSeen -join ', ')" }
    $v = $Versions[0]
    return ("no 64-bit Python $($Versions -join ' or ') found (py launcher, PATH without the Microsoft Store alias, " +
        "%LOCALAPPDATA%\Programs\Python, %ProgramFiles%)$found (fix: install one from https://www.python.org/downloads/windows/, " +
        "for every user as an administrator: python-$v.<latest>-amd64.exe /quiet InstallAllUsers=1 PrependPath=1; or pass -Python EXE)")
}

# -- Windows' 260-character path limit (provisioner/templates/ps1/longpath.ps1.j2) ---------
# Without LongPathsEnabled most programs cannot open a path of 260 characters or more
# (MAX_PATH), and pip stops half way through a wheel with a deep tree. Warn before the
# build, naming the deepest path a wheel would put under the prefix.
# https://learn.microsoft.com/windows/win32/fileio/maximum-file-path-limitation
function Test-LongPath([string]$Prefix, [string[]]$Wheels) {
    $enabled = $false
    try {
        $key = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\FileSystem' -ErrorAction Stop
        $enabled = (@($key.PSObject.Properties | Where-Object { $_.Name -eq 'LongPathsEnabled' -and $_.Value -eq 1 }).Count -gt 0)
    } catch { $enabled = $false }
    if ($enabled -or @($Wheels).Count -eq 0) { return }
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $deepest = ''
    foreach ($wheel in $Wheels) {
        $zip = [IO.Compression.ZipFile]::OpenRead($wheel)
        try {
            foreach ($entry in $zip.Entries) { if ($entry.FullName.Length -gt $deepest.Length) { $deepest = $entry.FullName } }
        } finally { $zip.Dispose() }
    }
    $path = Join-Path $Prefix ('Lib\site-packages\' + $deepest.Replace('/', '\'))
    if ($path.Length -ge 260) {
        [Console]::Error.WriteLine("bootstrap: warning: $path would be $($path.Length) characters, past Windows' 260 without long paths (fix: as an administrator, reg add HKLM\SYSTEM\CurrentControlSet\Control\FileSystem /v LongPathsEnabled /t REG_DWORD /d 1 /f; or a shorter -Prefix)")
    }
}

# 1. host checks -----------------------------------------------------------------
$t = Get-Date
if ($SkipChecks) {
    Add-Step 'checks' 'skipped' '-SkipChecks given' $t
} else {
    $ChecksFile = Join-Path $Work 'checks.json'
    $PsExe = (Get-Process -Id $PID).Path  # the PowerShell running this script (5.1 or 7)
    # check.ps1 --json prints UTF-8; read it so (the console's OEM code page would turn a
    # GPU name's other characters into '?'). No console (a service) has nothing to set.
    $Encoding = $null
    try { $Encoding = [Console]::OutputEncoding; [Console]::OutputEncoding = $Utf8 } catch { $Encoding = $null }
    & $PsExe -NoProfile -ExecutionPolicy Bypass -File $CheckScript --json | Set-Content -Encoding UTF8 -LiteralPath $ChecksFile
    $rc = $LASTEXITCODE
    if ($null -ne $Encoding) { try { [Console]::OutputEncoding = $Encoding } catch { $Encoding = $null } }
    $ChecksResult = Read-Json $ChecksFile
    if ($rc -eq 0) {
        Add-Step 'checks' 'ok' 'the host is ready' $t
    } else {
        Add-Step 'checks' 'fail' "host not ready (check.ps1 exited $rc): see check.ps1" $t
        Finish 1 'not-ready' 'the host is not ready; run powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\check.ps1 for the failing checks'
    }
}

# 2. environment ----------------------------------------------------------------
$t = Get-Date
# apply's state file: the same marker `provision apply` reads and writes (phase
# "verified" for this lock's sha256, this prefix and its fingerprint), so an
# environment either of them built from the same lock is recognised by the other.
# The helper that checks and records it is the program bootstrap.sh runs (tested on
# Python 3.7); this script only hands it files and variables.

# A path as Python's str(Path) names it for provision: full, '\' separated, no trailing
# '\' (and resolved against PowerShell's folder: .NET would use the process's).
function Get-PythonPath([string]$Path) {
    $full = [IO.Path]::GetFullPath($ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path))
    if ($full.Length -gt 3) { $full = $full.TrimEnd('\') }
    return $full
}
$StateFile = Get-PythonPath (Join-Path $DataHome 'state\torch-directml.json')
$StatePrefix = Get-PythonPath $Prefix

# Invoke-Helper MODE: run the helper with the environment's Python; its exit code.
# state-check: 0 when the state marks this prefix verified for this lock; state-write:
# record it so; activation: set environment.variables in the prefix's activation.
# Its input goes in files and environment variables, never on a command line.
function Invoke-Helper([string]$Mode) {
    if (-not (Test-Path -LiteralPath $EnvPython -PathType Leaf)) { return 1 }
    $helper = Join-Path $Work 'bootstrap-helper.py'
    $data = Join-Path $Work 'bootstrap.json'
    if (-not (Test-Path -LiteralPath $helper)) {
        [IO.File]::WriteAllText($data, $BootstrapData, $Utf8)
        [IO.File]::WriteAllText($helper, $HelperCode, $Utf8)
    }
    $env:PROVISION_BOOTSTRAP_DATA = $data
    $env:PROVISION_PREFIX = $StatePrefix
    $env:PROVISION_STATE_FILE = $StateFile
    $env:PROVISION_LOCKFILE = $LockFile
    $env:PROVISION_SMOKE_RESULT = $SmokeFile
    & $EnvPython -I $helper $Mode | Out-Host
    return $LASTEXITCODE
}

if ((Test-Path -LiteralPath $EnvPython) -and ((Invoke-Helper 'state-check') -eq 0)) {
    Add-Step 'environment' 'ok' "$Prefix matches the lock (state recorded by provision)" $t
    Add-Step 'verify' 'ok' 'verified earlier for this lock' $t
    $SmokeResult = [ordered]@{ kind = 'smoke'; passed = $true; summary = 'verified earlier for this lock'; cached = $true }
    Finish 0 'converged' ''
}
# An empty stamp file reads as $null in Windows PowerShell 5.1: [string] makes it ''.
if ((Test-Path -LiteralPath $Stamp -PathType Leaf) -and ([string](Get-Content -Raw -Encoding UTF8 -LiteralPath $Stamp)).Trim() -eq $LockSha256 -and (Test-Path -LiteralPath $EnvPython)) {
    Add-Step 'environment' 'ok' "$Prefix matches the lock (stamp)" $t
    Add-Step 'verify' 'ok' 'verified earlier for this lock' $t
    $SmokeResult = [ordered]@{ kind = 'smoke'; passed = $true; summary = 'verified earlier for this lock'; cached = $true }
    Finish 0 'converged' ''
}
if (Test-Path -LiteralPath $Prefix) { $EnvAction = 'rebuild' } else { $EnvAction = 'create' }
$Counts = "$($Explicit.Count) conda, $($Requirements.Count) pip packages"
if ($DryRun) {
    Add-Step 'environment' 'change' "would $EnvAction $Prefix ($Counts)" $t
    Add-Step 'verify' 'change' 'would run the smoke test' $t
    Finish 0 'planned' ''
}
# The program that builds the environment, found before anything is downloaded.
if ($Manager -eq 'conda') {
    $Conda = Find-Conda
    if (-not $Conda) {
        Add-Step 'environment' 'fail' 'no micromamba.exe, mamba.exe or conda.exe' $t
        Finish 1 'failed' 'no micromamba.exe, mamba.exe or conda.exe found on PATH (fix: pass -CondaExe PATH\micromamba.exe, or put micromamba on PATH)'
    }
} else {
    if ($Python) {
        $Found = Test-Python $Python @()
        if ($null -eq $Found -or $Found.Version -ne $PythonVersion -or $Found.Bits -ne '64') {
            Add-Step 'environment' 'fail' "-Python $Python is not a 64-bit Python $PythonVersion" $t
            Finish 2 'failed' "-Python $Python is not a 64-bit Python $PythonVersion that runs (fix: name its python.exe)"
        }
    } else {
        $Found = Find-Python @($PythonVersion)
        if ($null -eq $Found) {
            Add-Step 'environment' 'fail' "no 64-bit Python $PythonVersion" $t
            Finish 1 'failed' (Get-NoPythonMessage @($PythonVersion))
        }
    }
    $PythonExe = $Found.Path
}
# A rebuild moves the old environment aside first, so that a file in use stops the run
# here, before any download, and says which file; a failed build puts it back (Finish).
if ($EnvAction -eq 'rebuild') {
    $Aside = "$Prefix.old-" + (Get-RandomPart)  # Directory.Move fails on an existing name
    try { [IO.Directory]::Move($Prefix, $Aside) }
    catch {
        $why = $_.Exception.Message
        $busy = Find-FileInUse $Prefix
        if ($busy) { $why = "$busy is in use" }
        Add-Step 'environment' 'fail' "cannot replace $Prefix" $t
        Finish 1 'failed' "cannot replace ${Prefix}: $why (fix: close the Python, Jupyter or editor using this environment, then run again)"
    }
    $OldPrefix = $Aside
}
# Every artifact is copied or downloaded into $Work and hashed against the lock before
# any installer sees it; the installers then read only those verified local files
# (conda, mamba and micromamba do not check the hash of a file:// package).
function Get-VerifiedCopy([string]$Kind, [string]$Url, [string]$Sha256, [string]$Folder) {
    $Name = [Uri]::UnescapeDataString(($Url -split '/')[-1])
    $Dest = Join-Path $Folder $Name
    try {
        if ($Url -match '^https?://') {
            $ProgressPreference = 'SilentlyContinue'
            Invoke-WebRequest -UseBasicParsing -Uri $Url -OutFile $Dest
        } elseif ($Url -match '^file:') {
            Copy-Item -LiteralPath ([Uri]$Url).LocalPath -Destination $Dest
        } else {
            Copy-Item -LiteralPath $Url -Destination $Dest
        }
    } catch {
        Add-Step 'environment' 'fail' "cannot fetch $Kind $Name" $t
        Finish 1 'failed' "cannot fetch $Kind $Name from ${Url}: check the network or the channel/index, then run again"
    }
    if ((Get-FileHash -Algorithm SHA256 -LiteralPath $Dest).Hash.ToLowerInvariant() -ne $Sha256) {
        Add-Step 'environment' 'fail' "$Kind ${Name}: sha256 does not match the lock" $t
        Finish 1 'failed' "hash mismatch: $Kind $Name from $Url does not match the sha256 in the lock; refused, nothing installed (if the new file is trusted, re-lock with ``provision lock``)"
    }
    return ([Uri]$Dest).AbsoluteUri
}
$PkgDir = New-Item -ItemType Directory -Force -Path (Join-Path $Work 'pkgs')
$WheelDir = New-Item -ItemType Directory -Force -Path (Join-Path $Work 'wheels')
$LocalExplicit = @()
for ($i = 0; $i -lt $Explicit.Count; $i++) {
    $Url, $Md5 = $Explicit[$i] -split '#', 2
    $LocalUrl = Get-VerifiedCopy 'conda package' $Url $CondaSha256[$i] $PkgDir.FullName
    $LocalExplicit += $LocalUrl + '#' + $Md5
}
$LocalRequirements = @()
foreach ($Line in $Requirements) {
    $ReqName, $Rest = $Line -split ' @ ', 2
    $Url, $Sha = $Rest -split ' --hash=sha256:', 2
    $LocalUrl = Get-VerifiedCopy 'wheel' $Url $Sha $WheelDir.FullName
    $LocalRequirements += $ReqName + ' @ ' + $LocalUrl + ' --hash=sha256:' + $Sha
}

Test-LongPath $Prefix @(Get-ChildItem -LiteralPath $WheelDir.FullName -Filter '*.whl' | ForEach-Object { $_.FullName })
New-Item -ItemType Directory -Force -Path (Split-Path -Parent $Prefix) | Out-Null
if ($Manager -eq 'conda') {
    $ExplicitFile = Join-Path $Work 'explicit.txt'
    (@('@EXPLICIT') + $LocalExplicit) | Set-Content -Encoding ASCII -LiteralPath $ExplicitFile
    & $Conda create -y -p $Prefix --file $ExplicitFile
    if ($LASTEXITCODE -ne 0) {
        Add-Step 'environment' 'fail' "$Conda create failed" $t
        Finish 1 'failed' "creating the environment with $Conda failed (output above)"
    }
} else {
    & $PythonExe -m venv $Prefix
    if ($LASTEXITCODE -ne 0) {
        Add-Step 'environment' 'fail' 'python -m venv failed' $t
        Finish 1 'failed' 'creating the venv failed (output above)'
    }
}
if ($Requirements.Count -gt 0) {
    $ReqFile = Join-Path $Work 'requirements.txt'
    $LocalRequirements | Set-Content -Encoding ASCII -LiteralPath $ReqFile
    & $EnvPython -m pip install --disable-pip-version-check --no-input --require-hashes --no-deps -r $ReqFile
    if ($LASTEXITCODE -ne 0) {
        Add-Step 'environment' 'fail' 'pip install --require-hashes failed' $t
        Finish 1 'failed' 'installing the pip packages failed (output above); a hash mismatch means a changed artifact'
    }
}

# make activating the prefix set environment.variables, with apply's own writer
if ((Invoke-Helper 'activation') -ne 0) {
    Add-Step 'environment' 'fail' 'could not write the activation scripts' $t
    Finish 1 'failed' "writing environment.variables into the activation of $Prefix failed (output above)"
}
Add-Step 'environment' 'change' "$EnvAction $Prefix ($Counts)" $t

# 3. smoke test -----------------------------------------------------------------
$t = Get-Date
& $EnvPython $SmokeScript --json-out $SmokeFile
$rc = $LASTEXITCODE
$SmokeJson = Read-Json $SmokeFile
$SmokeSummary = "smoke test failed (exit $rc)"
if ($rc -eq 0) { $SmokeSummary = 'smoke test passed' }
$SmokeResult = [ordered]@{ kind = 'smoke'; passed = ($rc -eq 0); summary = $SmokeSummary; result = $SmokeJson }
if ($rc -ne 0) {
    Add-Step 'verify' 'fail' 'smoke test failed' $t
    Finish 1 'failed' 'the smoke test failed (output above)'
}
Add-Step 'verify' 'change' 'smoke test passed' $t
if ($OldPrefix) {
    try { Remove-Item -Recurse -Force -LiteralPath $OldPrefix }
    catch { Say "the previous environment is left at ${OldPrefix}: $($_.Exception.Message) (remove it later)" }
    $OldPrefix = ''
}
Set-Content -Encoding ASCII -LiteralPath $Stamp -Value $LockSha256  # only now is the environment marked good
if ($StatePrefix -ceq (Get-PythonPath $DefaultPrefix)) {  # apply's prefix
    if ((Invoke-Helper 'state-write') -ne 0) { Say "could not record the state for provision apply in $StateFile" }
}

# 4. report ---------------------------------------------------------------------
Finish 0 'changed' ''
