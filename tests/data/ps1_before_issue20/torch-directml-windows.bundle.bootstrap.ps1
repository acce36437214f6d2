# bootstrap.ps1: build and verify the torch-directml environment from this bundle only, with no network.
# Bundled by provision golden for win-64; do not edit (re-bundle instead).
# Windows PowerShell 5.1 or PowerShell 7. Untested on real Windows (parsed in CI).
#
# Usage: powershell -ExecutionPolicy Bypass -File bootstrap.ps1 [-Prefix DIR] [-ProvisionHome DIR]
#          [-Python EXE] [-Verify smoke|import] [-SkipChecks] [-Report FILE] [-HostName NAME] [-Json]
#   1. checks every file of the bundle against manifest.json (a damaged bundle stops here)
#   2. finds a host Python 3.11, 3.12 (-Python EXE, the py launcher, or PATH)
#   3. installs provision from .\tool into a venv under $env:PROVISION_HOME\tool (uv, offline,
#      --require-hashes; once per bundle tool)
#   4. runs `provision apply` on a copy of the lock that points at .\channel and .\wheels
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
    [switch]$Json
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$Here = Split-Path -Parent $MyInvocation.MyCommand.Path
$ToolPythons = @('3.11', '3.12')
$ToolIds = @{ '3.11' = '0000000000000000'; '3.12' = '1111111111111111'; }
$UvWheel = 'uv-0.9.0-py3-none-win_amd64.whl'

function Fail([int]$Code, [string]$Message) {
    [Console]::Error.WriteLine("bootstrap: error: $Message")
    exit $Code
}

if ($ProvisionHome) { $env:PROVISION_HOME = $ProvisionHome }
if ($HostName) { $env:PROVISION_HOST_NAME = $HostName }
if ($env:PROVISION_HOME) { $DataHome = $env:PROVISION_HOME }
else { $DataHome = Join-Path $env:LOCALAPPDATA 'provision' }

# 1. every file against manifest.json, before anything from the bundle runs
$Manifest = Get-Content -LiteralPath (Join-Path $Here 'manifest.json') -Raw | ConvertFrom-Json
foreach ($File in $Manifest.files) {
    $Path = Join-Path $Here ($File.path -replace '/', '\')
    if (-not (Test-Path -LiteralPath $Path)) {
        Fail 1 "the bundle is damaged: $($File.path) is missing (fix: copy the bundle again)"
    }
    $Hash = (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($Hash -ne $File.sha256) {
        Fail 1 "the bundle is damaged: $($File.path): FAILED (fix: copy the bundle again)"
    }
}

# 2. a host Python the carried tool supports
function Get-PythonVersion([string[]]$Command) {
    try {
        $Exe = $Command[0]
        $Rest = @($Command | Select-Object -Skip 1)
        $Out = & $Exe @Rest -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>$null
        if ($LASTEXITCODE -eq 0) { return "$Out".Trim() }
    } catch { return '' }
    return ''
}
$Candidates = @()
if ($Python) { $Candidates += , @($Python) }
else {
    foreach ($V in $ToolPythons) { $Candidates += , @('py', "-$V") }
    $Candidates += , @('python')
}
$Py = $null
$PyVersion = ''
foreach ($C in $Candidates) {
    $Found = Get-PythonVersion $C
    if ($ToolPythons -contains $Found) {
        $Py = $C
        $PyVersion = $Found
        break
    }
}
if ($null -eq $Py) {
    Fail 1 "no host Python $($ToolPythons -join ', ') found (py launcher or PATH) to run provision: install one, or pass -Python EXE"
}
$PyExe = & $Py[0] @($Py | Select-Object -Skip 1) -c 'import sys; print(sys.executable)'

# 3. provision from .\tool, installed once per bundle tool
$env:UV_OFFLINE = '1'
$env:UV_NO_CONFIG = '1'
$env:UV_PYTHON_DOWNLOADS = 'never'
$env:PIP_NO_INDEX = '1'
$Tool = Join-Path (Join-Path $DataHome 'tool') $ToolIds[$PyVersion]
$ToolPython = Join-Path $Tool 'venv\Scripts\python.exe'
if (-not (Test-Path -LiteralPath (Join-Path $Tool 'installed'))) {
    [Console]::Error.WriteLine("bootstrap: installing provision from the bundle into $Tool")
    if (Test-Path -LiteralPath $Tool) { Remove-Item -LiteralPath $Tool -Recurse -Force }
    New-Item -ItemType Directory -Path $Tool -Force | Out-Null
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $Zip = [System.IO.Compression.ZipFile]::OpenRead((Join-Path (Join-Path $Here 'tool') $UvWheel))
    try {
        $Entry = $Zip.Entries | Where-Object { $_.FullName -like '*.data/scripts/uv.exe' } | Select-Object -First 1
        if ($null -eq $Entry) { Fail 1 "the bundle's uv wheel has no uv.exe" }
        [System.IO.Compression.ZipFileExtensions]::ExtractToFile($Entry, (Join-Path $Tool 'uv.exe'), $true)
    } finally { $Zip.Dispose() }
    $Uv = Join-Path $Tool 'uv.exe'
    & $Uv venv --quiet --no-project --python $PyExe (Join-Path $Tool 'venv')
    if ($LASTEXITCODE -ne 0) { Fail 1 "cannot create a venv for provision in $Tool with $PyExe" }
    & $Uv pip install --quiet --python $ToolPython --offline --no-index --no-deps --require-hashes `
        --find-links (Join-Path $Here 'tool') -r (Join-Path $Here "tool\requirements-$PyVersion.txt")
    if ($LASTEXITCODE -ne 0) { Fail 1 "installing provision from the bundle into $Tool failed (output above)" }
    Remove-Item -LiteralPath $Uv -Force
    New-Item -ItemType File -Path (Join-Path $Tool 'installed') -Force | Out-Null
}

# 4. apply from the bundle
$Pass = @('-m', 'provisioner.bundle.install', '--bundle', $Here, '--verify', $Verify)
if ($Prefix) { $Pass += @('--prefix', $Prefix) }
if ($SkipChecks) { $Pass += '--skip-checks' }
if ($Report) { $Pass += @('--report', $Report) }
if ($Json) { $Pass += '--json' }
& $ToolPython @Pass
exit $LASTEXITCODE
