# bootstrap.ps1: build the torch-directml environment on this machine from the files
# beside this script, without provision installed (Windows PowerShell 5.1 or PowerShell 7).
# Rendered by provision golden from torch-directml-windows.yaml; do not edit, re-render.
#
# Usage: .\bootstrap.ps1 [-DryRun] [-SkipChecks] [-Prefix DIR] [-Python EXE] [-CondaExe EXE] [-Report FILE] [-HostName NAME]
#   1. runs .\check.ps1 (host checks)          (skipped with -SkipChecks)
#   2. creates the environment from the lock (conda: micromamba, mamba or conda from
#      -CondaExe or PATH; venv: py -3.11 or python, and pip --require-hashes)
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
# render); 3 internal error.
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

$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$EnvName = 'torch-directml'
$Manager = 'conda'
$PythonVersion = '3.11'
$Platform = 'win-64'
$LockSha256 = ''
# The report's fixed part (profile, lock, packages), rendered by provision as JSON;
# Write-Report adds the run's result, host, checks, verification, steps and timings.
$ReportSkeleton = '{"schema":"provision-report/2","schema_version":2,"tool":"bootstrap.ps1 (provision golden)","mode":"apply","profile":{"name":"torch-directml-windows","path":"torch-directml-windows.yaml","content_hash":"sha256:22a260e394cc6e760d60dc6359e828a4f3f4444cdff47253ef52bca0388a0bba","target":"windows","manager":"conda","python":"3.11","framework":"torch-directml","device":"dml"},"lock":{"path":"conda-lock.yml","sha256":null,"fresh":true},"packages":[]}'
$Explicit = @(
)
$CondaSha256 = @(
)
$Requirements = @(
)
# environment.variables on activation: the blocks and files `provision apply` writes
# (provisioner/env/activation.py), as JSON for Write-Activation below.
$ActivationData = '{"conda_files":{"etc/conda/activate.d/provision-env-vars.bat":null,"etc/conda/activate.d/provision-env-vars.fish":null,"etc/conda/activate.d/provision-env-vars.ps1":null,"etc/conda/activate.d/provision-env-vars.sh":null,"etc/conda/deactivate.d/provision-env-vars.bat":null,"etc/conda/deactivate.d/provision-env-vars.fish":null,"etc/conda/deactivate.d/provision-env-vars.ps1":null,"etc/conda/deactivate.d/provision-env-vars.sh":null},"conda_state":{"env_vars":{},"fresh":null,"key":"provision_env_vars"},"strip":"(?s)[ \\t]*(?:#|rem|::) >>>\\ provision:\\ environment\\.variables\\ >>>.*?<<<\\ provision:\\ environment\\.variables\\ <<<\\r?\\n","venv_scripts":[]}'
# provision apply's state for this lock once verified, rendered from its own State (the
# fields only the run knows, prefix, lock_path, fingerprint, verified_at and updated_at,
# are added by Write-State), and the recipe of its prefix fingerprint
# (provisioner/apply/fingerprint.py): folders as Python names them on Windows, then a glob.
$StateSkeleton = '{"env":"torch-directml","lock_inputs_hash":"","lock_sha256":"","manager":"conda","packages":[],"phase":"verified","platform":"win-64","profile_hash":"sha256:22a260e394cc6e760d60dc6359e828a4f3f4444cdff47253ef52bca0388a0bba","verify_kind":"smoke","version":1}'
$FingerprintFolders = @('conda-meta', 'Lib\site-packages')
$FingerprintGlob = @('lib', 'python3*', 'site-packages')

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

if ($env:PROVISION_HOME) { $DataHome = $env:PROVISION_HOME }
elseif ($env:XDG_DATA_HOME) { $DataHome = Join-Path $env:XDG_DATA_HOME 'provision' }
else { $DataHome = Join-Path $HOME '.local\share\provision' }
if ($env:PROVISION_ENVS_DIR) { $EnvsDir = $env:PROVISION_ENVS_DIR } else { $EnvsDir = Join-Path $DataHome 'envs' }
$DefaultPrefix = Join-Path $EnvsDir $EnvName  # apply's prefix
if (-not $Prefix) { $Prefix = $DefaultPrefix }
if ($Manager -eq 'conda') { $EnvPython = Join-Path $Prefix 'python.exe' }
else { $EnvPython = Join-Path $Prefix 'Scripts\python.exe' }
$Stamp = Join-Path $Prefix '.provision-bootstrap'
$Work = Join-Path ([IO.Path]::GetTempPath()) ('provision-bootstrap-' + [Guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $Work | Out-Null
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
        try { return (Get-Content -Raw -LiteralPath $Path | ConvertFrom-Json) } catch { return $null }
    }
    return $null
}

$Utf8 = New-Object System.Text.UTF8Encoding $false  # no BOM: JSON readers refuse one
$Utf8Strict = New-Object System.Text.UTF8Encoding $false, $true  # throws on bytes that are not UTF-8
$Invariant = [Globalization.CultureInfo]::InvariantCulture

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
        $stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssffffff') + 'Z'
        [IO.File]::WriteAllText((Join-Path $hist "$EnvName-$stamp-bootstrap.json"), $Text, $Utf8)
    }
    $old = @(Get-ChildItem -LiteralPath $hist -File | Where-Object { $_.Name -cmatch $pattern } | Sort-Object Name)
    if ($old.Count -gt $keep) { $old[0..($old.Count - $keep - 1)] | Remove-Item -Force }
    $latest = Join-Path $dir "$EnvName.json"
    $tmp = "$latest.tmp-$PID"
    [IO.File]::WriteAllText($tmp, $Text, $Utf8)
    Move-Item -Force -LiteralPath $tmp -Destination $latest
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
        started_at = $Started.ToString('yyyy-MM-ddTHH:mm:ssZ')
        finished_at = $now.ToString('yyyy-MM-ddTHH:mm:ssZ')
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

function Finish([int]$Code, [string]$Result, [string]$Message) {
    Write-Report $Code $Result
    if ($Message) { Say $Message }
    Remove-Item -Recurse -Force -LiteralPath $Work -ErrorAction SilentlyContinue
    exit $Code
}

function Find-Conda {
    if ($CondaExe) {
        if (-not (Test-Path -LiteralPath $CondaExe)) { Die 2 "-CondaExe $CondaExe does not exist" }
        return $CondaExe
    }
    foreach ($name in @('micromamba', 'mamba', 'conda')) {
        $cmd = Get-Command $name -ErrorAction SilentlyContinue
        if ($cmd) { return $cmd.Source }
    }
    return $null
}

# Returns the command as an array; the leading comma stops PowerShell unrolling a
# one-element array into a string.
function Find-Python {
    if ($Python) { return ,@($Python) }
    $candidates = @(@('py', "-$PythonVersion"), @(,'python'), @(,'python3'))
    foreach ($c in $candidates) {
        if (-not (Get-Command $c[0] -ErrorAction SilentlyContinue)) { continue }
        $rest = @($c | Select-Object -Skip 1)
        $v = & $c[0] @rest -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>$null
        if ($LASTEXITCODE -eq 0 -and "$v".Trim() -eq $PythonVersion) { return ,$c }
    }
    return $null
}

# 1. host checks -----------------------------------------------------------------
$t = Get-Date
if ($SkipChecks) {
    Add-Step 'checks' 'skipped' '-SkipChecks given' $t
} else {
    $CheckScript = Join-Path $Here 'check.ps1'
    if (-not (Test-Path -LiteralPath $CheckScript)) { Die 2 'check.ps1 is missing beside bootstrap.ps1: copy the whole rendered folder' }
    $ChecksFile = Join-Path $Work 'checks.json'
    $PsExe = (Get-Process -Id $PID).Path  # the PowerShell running this script (5.1 or 7)
    & $PsExe -NoProfile -ExecutionPolicy Bypass -File $CheckScript --json | Set-Content -Encoding UTF8 -LiteralPath $ChecksFile
    $rc = $LASTEXITCODE
    $ChecksResult = Read-Json $ChecksFile
    if ($rc -eq 0) {
        Add-Step 'checks' 'ok' 'the host is ready' $t
    } else {
        Add-Step 'checks' 'fail' "host not ready (check.ps1 exited $rc): see .\check.ps1" $t
        Finish 1 'not-ready' 'the host is not ready; run .\check.ps1 for the failing checks'
    }
}

# 2. environment ----------------------------------------------------------------
$t = Get-Date
# apply's state file: the same marker `provision apply` reads and writes (phase
# "verified" for this lock's sha256, this prefix and its fingerprint), so an
# environment either of them built from the same lock is recognised by the other.
# Not run on real Windows yet (no PowerShell where it is tested): parsed, and its
# rendered data compared with what provision computes.

# A path as Python's str(Path) names it for provision: full, '\' separated, no trailing
# '\' (and resolved against PowerShell's folder: .NET would use the process's).
function Get-PythonPath([string]$Path) {
    $full = [IO.Path]::GetFullPath($ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Path))
    if ($full.Length -gt 3) { $full = $full.TrimEnd('\') }
    return $full
}
$StateFile = Get-PythonPath (Join-Path $DataHome 'state\torch-directml.json')
$StatePrefix = Get-PythonPath $Prefix

# env_fingerprint of provisioner/apply/fingerprint.py, the same bytes in the same order:
# sha256 over the prefix, then per folder that can be listed its relative path, '|',
# its mtime in ns since 1970, '|', and its entry names sorted by code unit, NUL-joined.
function Get-Fingerprint([string]$Root) {
    if (-not [IO.Directory]::Exists($Root)) { return '' }
    $folders = New-Object System.Collections.ArrayList
    foreach ($name in $FingerprintFolders) { [void]$folders.Add(@($name, (Join-Path $Root $name))) }
    $globRoot = Join-Path $Root $FingerprintGlob[0]
    if ([IO.Directory]::Exists($globRoot)) {
        [string[]]$found = @(Get-ChildItem -Force -Directory -LiteralPath $globRoot -Filter $FingerprintGlob[1] | ForEach-Object { $_.Name })
        [Array]::Sort($found, [StringComparer]::OrdinalIgnoreCase)  # Python sorts Windows paths ignoring case
        foreach ($name in $found) {
            $rel = $FingerprintGlob[0] + '\' + $name + '\' + $FingerprintGlob[2]
            [void]$folders.Add(@($rel, (Join-Path $Root $rel)))
        }
    }
    $bytes = New-Object System.IO.MemoryStream
    $chunk = $Utf8.GetBytes($Root)
    $bytes.Write($chunk, 0, $chunk.Length)
    foreach ($folder in $folders) {
        if (-not [IO.Directory]::Exists($folder[1])) { continue }
        try {
            [string[]]$names = @([IO.Directory]::GetFileSystemEntries($folder[1]) | ForEach-Object { [IO.Path]::GetFileName($_) })
            $mtime = ([IO.Directory]::GetLastWriteTimeUtc($folder[1]).ToFileTimeUtc() - 116444736000000000) * 100
        } catch { continue }
        [Array]::Sort($names, [StringComparer]::Ordinal)
        $chunk = $Utf8.GetBytes($folder[0] + '|' + $mtime.ToString($Invariant) + '|' + ($names -join [char]0))
        $bytes.Write($chunk, 0, $chunk.Length)
    }
    $sha = [Security.Cryptography.SHA256]::Create()
    return -join ($sha.ComputeHash($bytes.ToArray()) | ForEach-Object { $_.ToString('x2') })
}

# A property of a parsed JSON object, or $null (Set-StrictMode refuses a missing one).
function Get-Field($Object, [string]$Name) {
    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($property) { return $property.Value }
    return $null
}

# Whether the state marks this prefix verified for this lock.
function Test-State {
    if (-not (Test-Path -LiteralPath $StateFile -PathType Leaf)) { return $false }
    try {
        $state = [IO.File]::ReadAllText($StateFile, $Utf8Strict) | ConvertFrom-Json
        $want = $StateSkeleton | ConvertFrom-Json
        foreach ($key in @('version', 'phase', 'verify_kind', 'lock_sha256')) {
            $value = Get-Field $state $key
            if ($null -eq $value -or "$value" -cne "$(Get-Field $want $key)") { return $false }
        }
        return ((Get-Field $state 'prefix') -ceq $StatePrefix) -and ((Get-Field $state 'fingerprint') -ceq (Get-Fingerprint $StatePrefix))
    } catch { return $false }
}

# Record this prefix verified for this lock, as provision apply does (temp file, then replace).
function Write-State {
    $now = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', $Invariant)
    $fields = [ordered]@{ prefix = $StatePrefix; lock_path = $LockFile; fingerprint = (Get-Fingerprint $StatePrefix); verified_at = $now; updated_at = $now }
    $text = $StateSkeleton.Substring(0, $StateSkeleton.Length - 1)
    foreach ($key in $fields.Keys) {
        $text += ',' + (ConvertTo-Json -Compress -InputObject $key) + ':' + (ConvertTo-Json -Compress -InputObject ([string]$fields[$key]))
    }
    New-Item -ItemType Directory -Force -Path (Split-Path -Parent $StateFile) | Out-Null
    $tmp = "$StateFile.tmp-$PID"
    [IO.File]::WriteAllText($tmp, $text + "}`n", $Utf8)
    if (Test-Path -LiteralPath $StateFile) { [IO.File]::Replace($tmp, $StateFile, [NullString]::Value) } else { [IO.File]::Move($tmp, $StateFile) }
}

if ((Test-Path -LiteralPath $EnvPython) -and (Test-State)) {
    Add-Step 'environment' 'ok' "$Prefix matches the lock (state recorded by provision)" $t
    Add-Step 'verify' 'ok' 'verified earlier for this lock' $t
    $SmokeResult = [ordered]@{ kind = 'smoke'; passed = $true; summary = 'verified earlier for this lock'; cached = $true }
    Finish 0 'converged' ''
}
if ((Test-Path -LiteralPath $Stamp) -and ((Get-Content -Raw -LiteralPath $Stamp).Trim() -eq $LockSha256) -and (Test-Path -LiteralPath $EnvPython)) {
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
    Remove-Item -Recurse -Force -LiteralPath $Work -ErrorAction SilentlyContinue
    exit 0
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

if (Test-Path -LiteralPath $Prefix) { Remove-Item -Recurse -Force -LiteralPath $Prefix }
New-Item -ItemType Directory -Force -Path (Split-Path -Parent $Prefix) | Out-Null
if ($Manager -eq 'conda') {
    $Conda = Find-Conda
    if (-not $Conda) { Finish 1 'failed' 'no micromamba, mamba or conda found: pass -CondaExe PATH or put micromamba on PATH' }
    $ExplicitFile = Join-Path $Work 'explicit.txt'
    (@('@EXPLICIT') + $LocalExplicit) | Set-Content -Encoding ASCII -LiteralPath $ExplicitFile
    & $Conda create -y -p $Prefix --file $ExplicitFile
    if ($LASTEXITCODE -ne 0) {
        Add-Step 'environment' 'fail' "$Conda create failed" $t
        Finish 1 'failed' "creating the environment with $Conda failed (output above)"
    }
} else {
    $Py = Find-Python
    if (-not $Py) { Finish 1 'failed' "no Python $PythonVersion found (py launcher or PATH): install it or pass -Python EXE" }
    $PyRest = @($Py | Select-Object -Skip 1)
    & $Py[0] @PyRest -m venv $Prefix
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

# A file's text as provision reads it (UTF-8, a BOM dropped, universal newlines), or
# $null when it is absent or not UTF-8.
function Read-Text([string]$Path) {
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) { return $null }
    try { $text = [IO.File]::ReadAllText($Path, $Utf8Strict) } catch { return $null }
    return $text.Replace("`r`n", "`n").Replace("`r", "`n")
}

# Write $Text ($null: remove the file) as provision does: UTF-8 with "`n", a BOM only
# for a .ps1 that is not pure ASCII.
function Set-ActivationFile([string]$Path, $Text) {
    if ((Read-Text $Path) -ceq $Text) { return }
    if ($null -eq $Text) { Remove-Item -Force -LiteralPath $Path -ErrorAction SilentlyContinue; return }
    New-Item -ItemType Directory -Force -Path (Split-Path -Parent $Path) | Out-Null
    $bom = $Path.ToLowerInvariant().EndsWith('.ps1') -and ($Text -cmatch '[^\x00-\x7F]')
    [IO.File]::WriteAllText($Path, $Text, (New-Object System.Text.UTF8Encoding $bom))
}

# Make activating the prefix set environment.variables: $ActivationData applied as
# provisioner/env/activation_files.py applies it for provision apply.
function Write-Activation {
    $data = $ActivationData | ConvertFrom-Json
    foreach ($folder in @('bin', 'Scripts')) {
        $where = Join-Path $Prefix $folder
        if (-not (Test-Path -LiteralPath $where -PathType Container)) { continue }
        $names = @{}
        foreach ($item in @(Get-ChildItem -Force -LiteralPath $where)) { $names[$item.Name.ToLowerInvariant()] = $item.FullName }
        foreach ($patch in @($data.venv_scripts)) {
            if (-not $names.ContainsKey($patch.name)) { continue }
            $text = Read-Text $names[$patch.name]
            if ($null -eq $text) { continue }
            $text = [regex]::Replace($text, $data.strip, '')
            if ($patch.set) {
                $found = [regex]::Match($text, $patch.anchor)
                if ($found.Success) {  # restore inside deactivate; the activate script calls it first
                    $at = $found.Index + $found.Length
                    $text = $text.Substring(0, $at) + $patch.restore + $text.Substring($at)
                }
                if (-not $text.EndsWith("`n")) { $text += "`n" }
                $text += $patch.set
            }
            Set-ActivationFile $names[$patch.name] $text
        }
    }
    foreach ($file in @($data.conda_files.PSObject.Properties)) {
        Set-ActivationFile (Join-Path $Prefix ($file.Name -replace '/', '\')) $file.Value
    }
    if ($null -ne $data.conda_state) {
        $condaState = Join-Path $Prefix 'conda-meta\state'
        if (-not (Test-Path -LiteralPath $condaState)) {
            Set-ActivationFile $condaState $data.conda_state.fresh
        } elseif ($null -ne $data.conda_state.fresh) {
            # conda, mamba and micromamba create no conda-meta\state; merging into one is left to provision apply
            Say "$condaState exists: environment.variables are set by etc\conda\activate.d only; provision apply adds them to it"
        }
    }
}
try { Write-Activation } catch {
    Add-Step 'environment' 'fail' 'could not write the activation scripts' $t
    Finish 1 'failed' "writing environment.variables into the activation of $Prefix failed: $($_.Exception.Message)"
}
Add-Step 'environment' 'change' "$EnvAction $Prefix ($Counts)" $t

# 3. smoke test -----------------------------------------------------------------
$t = Get-Date
$SmokeScript = Join-Path $Here 'smoke_test.py'
if (-not (Test-Path -LiteralPath $SmokeScript)) { Die 2 'smoke_test.py is missing beside bootstrap.ps1: copy the whole rendered folder' }
$SmokeFile = Join-Path $Work 'smoke.json'
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
Set-Content -Encoding ASCII -LiteralPath $Stamp -Value $LockSha256  # only now is the environment marked good
if ($StatePrefix -ceq (Get-PythonPath $DefaultPrefix)) {  # apply's prefix
    try { Write-State } catch { Say "could not record the state for provision apply in ${StateFile}: $($_.Exception.Message)" }
}

# 4. report ---------------------------------------------------------------------
Finish 0 'changed' ''
