# bootstrap.ps1: build and verify the torch-directml environment from this bundle only, with no network.
# Bundled by provision 0.1.0 for win-64; do not edit (re-bundle instead).
# Windows PowerShell 5.1 or PowerShell 7. Untested on real Windows (parsed, modelled and linted in CI).
#
# Usage (also under the default Restricted execution policy):
#   powershell.exe -NoProfile -ExecutionPolicy Bypass -File .\bootstrap.ps1 [-Prefix DIR] [-ProvisionHome DIR]
#          [-Python EXE] [-Verify smoke|import] [-SkipChecks] [-Report FILE] [-HostName NAME] [-Json]
#          [-DryRun] [-Force]   (-DryRun: say what apply would do; -Force: hash every file, verify again)
#   1. checks every file of the bundle against manifest.json (a damaged bundle stops here)
#   2. finds a 64-bit host Python 3.11, 3.12 (-Python EXE, the py launcher, PATH, or
#      the python.org installer's folders)
#   3. installs provision from .\tool into a venv under <provision home>\tool (uv, offline,
#      --require-hashes, no cache; once per bundle tool), and on every run checks each of
#      its files against the bundle's wheels first (an altered tool is installed again);
#      two runs at once: the second waits for the first's install (at most 10 minutes)
#   4. runs `provision apply` on a copy of the lock that points at .\channel and .\wheels
# The provision home holds the tool, the environments, the state and the reports:
# -ProvisionHome, else $env:PROVISION_HOME, else %ProgramData%\provision for SYSTEM and
# other service accounts, else ~\.local\share\provision. Started by a 32-bit PowerShell on
# 64-bit Windows (Intune's default), the script runs itself again in the 64-bit one.
# Exit codes: 0 verified; 1 host not ready, bundle damaged, install or verification
# failed; 2 usage error; 3 internal error.
[CmdletBinding()]
param(
    [string]$Prefix = '',
    [string]$ProvisionHome = '',
    [string]$Python = '',
    [ValidateSet('smoke', 'import')][string]$Verify = 'smoke',
    [switch]$SkipChecks,
    [string]$Report = '',
    [string]$HostName = '',
    [switch]$Json,
    [switch]$DryRun,
    [switch]$Force
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
$ProvisionHome = Get-PlainPath $ProvisionHome
$Python = Get-PlainPath $Python
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

# Any error nothing else handled: one line and exit 3 (the report is provision apply's, and
# a half-installed tool has no 'installed' marker, so the next run installs it again).
trap {
    [Console]::Error.WriteLine("bootstrap: error: internal error: $($_.Exception.Message) (bootstrap.ps1 line $($_.InvocationInfo.ScriptLineNumber))")
    exit 3
}

$Here = Split-Path -Parent $ScriptPath
$EnvName = 'torch-directml'
$ToolPythons = @('3.11', '3.12')
$ToolIds = @{ '3.11' = '1111111111111111'; '3.12' = '2222222222222222'; }
$UvWheel = 'uv-0.9.0-py3-none-win_amd64.whl'
$SelfWheelName = 'provisioner_gpu-0.1.0-py3-none-any.whl'
# The check of the installed tool (provisioner/bundle/toolcheck.py RUN_FROM_WHEEL), run by
# the host Python from the bundle's own provision wheel: no space, no double quote.
$ToolCheckCode = '__import__(''sys'').path.insert(0,__import__(''sys'').argv.pop(1));__import__(''sys'').exit(__import__(''provisioner.bundle.toolcheck'',fromlist=[''main'']).main(__import__(''sys'').argv[1:]))'
$ToolWaitS = 600

function Fail([int]$Code, [string]$Message) {
    [Console]::Error.WriteLine("bootstrap: error: $Message")
    exit $Code
}

if ("$Prefix|$ProvisionHome|$Python|$Report" -match '"') { Fail 2 'a path contains a double quote, which Windows does not allow in a path' }
if ($ProvisionHome) { $env:PROVISION_HOME = $ProvisionHome }
if ($HostName) { $env:PROVISION_HOST_NAME = $HostName }
$DataHome = Get-DataHome
$env:PROVISION_HOME = $DataHome  # one root: the tool below and provision apply use it

# 1. every file against manifest.json, before anything from the bundle runs
$ManifestFile = Join-Path $Here 'manifest.json'
if (-not (Test-Path -LiteralPath $ManifestFile -PathType Leaf)) {
    Fail 1 'the bundle is damaged: manifest.json is missing (fix: copy the bundle again)'
}
# A manifest that is not JSON, has no list of files, or lists an entry that is not an
# object with a non-empty path and a sha256 is a damaged bundle too (exit 1, not the
# trap's internal error). Under Set-StrictMode a name an object or a string lacks throws;
# a null (an empty file, a null entry or value) is checked before any member of it is read.
$ManifestValid = $false
try {
    $ManifestText = [string](Get-Content -LiteralPath $ManifestFile -Raw -Encoding UTF8)  # '' when empty
    $Manifest = ConvertFrom-Json -InputObject $ManifestText
    $ManifestFiles = @()
    if ($null -ne $Manifest) { $ManifestFiles = @($Manifest.files) }
    $ManifestValid = $ManifestFiles.Count -gt 0
    foreach ($File in $ManifestFiles) {
        if ($null -eq $File -or -not $File.path -or $null -eq $File.sha256) { $ManifestValid = $false }
    }
} catch { $ManifestValid = $false }
if (-not $ManifestValid) {
    Fail 1 'the bundle is damaged: manifest.json is not a bundle manifest (fix: copy the bundle again)'
}
foreach ($File in $ManifestFiles) {
    $Path = Join-Path $Here ($File.path -replace '/', '\')
    if (-not (Test-Path -LiteralPath $Path)) {
        Fail 1 "the bundle is damaged: $($File.path) is missing (fix: copy the bundle again)"
    }
    $Hash = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($Hash -ne $File.sha256) {
        Fail 1 "the bundle is damaged: $($File.path): FAILED (fix: copy the bundle again)"
    }
}

# 2. a 64-bit host Python the carried tool supports
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

if ($Python) {
    $Found = Test-Python $Python @()
    if ($null -eq $Found -or $ToolPythons -notcontains $Found.Version -or $Found.Bits -ne '64') {
        Fail 2 "-Python $Python is not a 64-bit Python $($ToolPythons -join ', ') that runs (fix: name its python.exe)"
    }
} else {
    $Found = Find-Python $ToolPythons
    if ($null -eq $Found) { Fail 1 (Get-NoPythonMessage $ToolPythons) }
}
$PyExe = $Found.Path
$PyVersion = $Found.Version

# 3. provision from .\tool: installed once per bundle tool, checked on every run
$env:UV_OFFLINE = '1'
$env:UV_NO_CONFIG = '1'
$env:UV_PYTHON_DOWNLOADS = 'never'
$env:PIP_NO_INDEX = '1'
$ToolRoot = Join-Path $DataHome 'tool'
$Tool = Join-Path $ToolRoot $ToolIds[$PyVersion]
$ToolVenv = Join-Path $Tool 'venv'
$ToolPython = Join-Path $ToolVenv 'Scripts\python.exe'
$ToolFiles = Join-Path $Here 'tool'
$SelfWheel = Join-Path $ToolFiles $SelfWheelName
$ToolRequirements = Join-Path $ToolFiles "requirements-$PyVersion.txt"
New-Item -ItemType Directory -Path $ToolRoot -Force | Out-Null

# One run at a time installs or repairs the tool (a second one waits for it, bounded):
# <tool>.lock opened with no sharing, which Windows refuses to any other opener
# (ERROR_SHARING_VIOLATION) until this process closes it or ends; retried every half
# second for at most $ToolWaitS seconds. $null when that time has passed.
function Enter-ToolLock([string]$Path, [int]$WaitS) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        try { return [IO.File]::Open($Path, 'OpenOrCreate', 'ReadWrite', 'None') }
        catch [IO.IOException] {
            if ($clock.Elapsed.TotalSeconds -ge $WaitS) { return $null }
            Start-Sleep -Milliseconds 500
        }
    }
}
$ToolLockPath = "$Tool.lock"
$LockItem = Get-Item -LiteralPath $ToolLockPath -Force -ErrorAction SilentlyContinue
if ($null -ne $LockItem -and ($LockItem.PSIsContainer -or ($LockItem.Attributes -band [IO.FileAttributes]::ReparsePoint))) {
    Fail 1 "$ToolLockPath is a link or not a regular file: refusing to open it (fix: remove it)"
}
$ToolLock = Enter-ToolLock $ToolLockPath $ToolWaitS
if ($null -eq $ToolLock) {
    Fail 1 "busy: another bootstrap of this bundle has been installing its tool in $Tool for ${ToolWaitS}s (fix: wait for it to finish, then run this again)"
}

# Test-Tool: '' when every file of the tool matches the RECORD of the bundle's wheel it
# came from, else what differs (one line). Checked by the bundle's own provision wheel
# (checked against manifest.json above) on the host Python: nothing of the tool venv runs
# before it passes.
function Test-Tool {
    $out = & $PyExe -I -c $ToolCheckCode $SelfWheel --venv $ToolVenv --tool $ToolFiles --requirements $ToolRequirements --python $PyExe
    $rc = $LASTEXITCODE
    $text = (@($out) -join ' ').Trim()
    if ($rc -eq 0) { return '' }
    if (-not $text) { $text = "the check itself failed (exit $rc)" }
    return $text
}
$Installed = Join-Path $Tool 'installed'
if (Test-Path -LiteralPath $Installed) {
    $Problem = Test-Tool
    if ($Problem) {
        [Console]::Error.WriteLine("bootstrap: the tool in $Tool was altered ($Problem): installing it again from the bundle")
        Remove-Item -LiteralPath $Installed -Force
    }
}
if (-not (Test-Path -LiteralPath $Installed)) {
    [Console]::Error.WriteLine("bootstrap: installing provision from the bundle into $Tool")
    if (Test-Path -LiteralPath $Tool) {
        try { Remove-Item -LiteralPath $Tool -Recurse -Force }
        catch { Fail 1 "cannot replace the tool in ${Tool}: $($_.Exception.Message) (fix: close the program using it, then run again)" }
    }
    New-Item -ItemType Directory -Path $Tool -Force | Out-Null
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $Zip = [System.IO.Compression.ZipFile]::OpenRead((Join-Path $ToolFiles $UvWheel))
    try {
        $Entry = $Zip.Entries | Where-Object { $_.FullName -like '*.data/scripts/uv.exe' } | Select-Object -First 1
        if ($null -eq $Entry) { Fail 1 "the bundle's uv wheel has no uv.exe" }
        [System.IO.Compression.ZipFileExtensions]::ExtractToFile($Entry, (Join-Path $Tool 'uv.exe'), $true)
    } finally { $Zip.Dispose() }
    $Uv = Join-Path $Tool 'uv.exe'
    & $Uv venv --quiet --no-project --python $PyExe $ToolVenv
    if ($LASTEXITCODE -ne 0) { Fail 1 "cannot create a venv for provision in $Tool with $PyExe" }
    # No cache (every file comes from the bundle's wheels, not from a shared uv cache), and
    # bytecode Python checks against its source.
    $env:PYC_INVALIDATION_MODE = 'CHECKED_HASH'
    & $Uv pip install --quiet --no-cache --python $ToolPython --offline --no-index --no-deps --require-hashes `
        --compile-bytecode --find-links $ToolFiles -r $ToolRequirements
    if ($LASTEXITCODE -ne 0) { Fail 1 "installing provision from the bundle into $Tool failed (output above)" }
    Remove-Item -Path Env:\PYC_INVALIDATION_MODE
    Remove-Item -LiteralPath $Uv -Force
    $Problem = Test-Tool
    if ($Problem) { Fail 1 "the tool installed in $Tool does not match the bundle's wheels: $Problem (fix: check the disk, then copy the bundle again)" }
    New-Item -ItemType File -Path $Installed -Force | Out-Null
}
$ToolLock.Dispose()

# 4. apply from the bundle (a warning first when a wheel's deepest path would pass 260
# characters under the prefix without long paths enabled)
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
if ($Prefix) { $EnvPrefix = $Prefix }
elseif ($env:PROVISION_ENVS_DIR) { $EnvPrefix = Join-Path $env:PROVISION_ENVS_DIR $EnvName }
else { $EnvPrefix = Join-Path (Join-Path $DataHome 'envs') $EnvName }
Test-LongPath $EnvPrefix @(Get-ChildItem -LiteralPath (Join-Path $Here 'wheels') -Filter '*.whl' -ErrorAction SilentlyContinue | ForEach-Object { $_.FullName })
$Pass = @('-m', 'provisioner.bundle.install', '--bundle', $Here, '--verify', $Verify)
if ($Prefix) { $Pass += @('--prefix', $Prefix) }
if ($SkipChecks) { $Pass += '--skip-checks' }
if ($Report) { $Pass += @('--report', $Report) }
if ($Json) { $Pass += '--json' }
if ($DryRun) { $Pass += '--dry-run' }
if ($Force) { $Pass += '--force' }
& $ToolPython @Pass
exit $LASTEXITCODE
