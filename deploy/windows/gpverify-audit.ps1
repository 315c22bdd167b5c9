<#
.SYNOPSIS
  Nightly gpverify audit for Windows Task Scheduler: runs `gpverify audit` unattended and returns its exit code.
.DESCRIPTION
  It runs from a gpverify checkout (deploy\windows\ in it) or from a site folder `gpverify init` wrote: the
  folder two levels above this script is GpverifyHome, where reports\ goes. The gpverify program is
  GpverifyHome\.venv\Scripts\gpverify.exe when that exists, else the gpverify.exe on PATH (or -Gpverify).
  Exit codes: 0 all checks passed (waived failures count as passed), 1 checks failed, 2 checks could not run,
  3 bad input (inventory, waiver file, options), 4 the history could not record the run. Task Scheduler shows the
  code as "Last Run Result" (0x1, 0x2, 0x3, 0x4).
  Passwords come from the environment variables the inventory names (password_env): set them for the task's
  account (for example machine-level, readable only by that account), never on this command line.
.EXAMPLE
  powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File C:\gpverify\deploy\windows\gpverify-audit.ps1 `
      -Inventory C:\gpverify\inventory.yml -Waivers C:\gpverify\waivers.yml -Checks C:\gpverify\checks -Wait 600
#>
[CmdletBinding()]
param(
    [string]$GpverifyHome = (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path,
    [string]$Inventory,
    [string]$Lab,                       # scenario name: audit the simulated lab instead of a farm
    [string]$Waivers,
    [string]$Checks,                    # a folder of your own checks (Python or NAME.checks.yml)
    [string]$Gpverify,                  # the gpverify program, when it is not in GpverifyHome\.venv or on PATH
    [int]$Wait = 0,
    [string]$Reports = (Join-Path (Resolve-Path (Join-Path $PSScriptRoot '..\..')).Path 'reports'),
    [string]$NotifyWebhook,
    [string]$NotifySmtp,
    [string]$NotifyTo
)
$ErrorActionPreference = 'Stop'
$exe = if ($Gpverify) { $Gpverify } else { Join-Path $GpverifyHome '.venv\Scripts\gpverify.exe' }
if (-not (Test-Path $exe)) {
    $onPath = Get-Command gpverify.exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $onPath) { Write-Error "gpverify is not installed in $GpverifyHome\.venv or on PATH"; exit 3 }
    $exe = $onPath.Source
}
$argv = @('audit')
if ($Inventory) { $argv += @('--inventory', $Inventory) }
elseif ($Lab) { $argv += @('--lab', $Lab) }
else { $argv += '--lab' }
if ($Waivers) { $argv += @('--waivers', $Waivers) }
if ($Checks) { $argv += @('--checks', $Checks) }
if ($Wait -gt 0) { $argv += @('--wait', "$Wait") }
if ($NotifyWebhook) { $argv += @('--notify-webhook', $NotifyWebhook) }
if ($NotifySmtp) { $argv += @('--notify-smtp', $NotifySmtp, '--notify-to', $NotifyTo) }
$argv += @('--reports', $Reports)
New-Item -ItemType Directory -Force -Path $Reports | Out-Null
$log = Join-Path $Reports 'audit.log'
Set-Location $GpverifyHome
"=== $((Get-Date).ToUniversalTime().ToString('s'))Z gpverify $($argv -join ' ')" | Out-File -Append -Encoding utf8 $log
& $exe @argv *>&1 | Out-File -Append -Encoding utf8 $log
$code = $LASTEXITCODE
"=== exit $code" | Out-File -Append -Encoding utf8 $log
exit $code
