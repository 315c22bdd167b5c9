"""Read-only by proof: the collector script (and the bootstrap) contain nothing that writes, every query file
passes the SQL guard and binds its values, and the scanner itself catches each writing construct."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from hardening_support import hardening_figures  # noqa: F401

from gpverify.facts.gpsql import CONFIG_IDENTIFIERS
from gpverify.facts.windows import BOOTSTRAP, COLLECTOR_SCRIPT
from gpverify.transport.sqlguard import check_read_only

# Cmdlets the collector may call. Verb-Noun words not listed here and not defined in the script are refused.
ALLOWED_CMDLETS = {
    "Get-CimInstance",
    "Get-Item",
    "Get-ItemProperty",
    "Get-ChildItem",
    "Get-Service",
    "Test-Path",
    "Where-Object",
    "ForEach-Object",
    "Sort-Object",
    "Select-Object",
    "Measure-Object",
    "Group-Object",
    "ConvertTo-Json",
    "ConvertFrom-Json",
    "Out-String",
    "New-Object",
    # Session Central through GP's PowerShell module (issue 20): find and load the module, list its Get- cmdlets,
    # and the one connection cmdlet, which sets the address of this PowerShell session only (tenant-services-
    # applications.md); the Dynamics event log read.
    "Get-Command",
    "Get-Module",
    "Import-Module",
    "Set-GPSessionCentralAddress",
    "Get-WinEvent",
}
# The one cmdlet of the GP module the collector names: it connects, it changes nothing in Session Central.
CONNECTION = "Set-GPSessionCentralAddress"
# New-Object builds in-memory objects only; these are the types it may build.
ALLOWED_NEW_OBJECT = {
    "System.Collections.ArrayList",
    "System.Security.Cryptography.X509Certificates.X509Store",
    "System.Security.Cryptography.X509Certificates.X509Chain",
    "System.Text.UTF8Encoding",  # a decoder (strict UTF-8 for TenantConfiguration.xml and Dynamics.set)
}
# COM objects the collector may create, and the members of Windows Installer's automation objects it may reach
# (through Invoke-Com): product information, the cached package opened read-only, a SELECT on its Feature table.
ALLOWED_COM = {"WindowsInstaller.Installer"}
ALLOWED_COM_MEMBERS = {
    "ProductInfo",
    "Features",
    "FeatureState",
    "OpenDatabase",
    "OpenView",
    "Execute",
    "Fetch",
    "StringData",
    "Close",
}
# Invoke-Installer passes its property on to Invoke-Com as 'get' (a property read); its callers name the property.
INSTALLER_FORWARD = "Invoke-Com $script:Installer $Property 'get' $Arguments"
# Anything that writes, deletes, starts or stops, or evaluates text as code: refused wherever it appears.
FORBIDDEN = {
    "write cmdlet": r"\b(Set|New-Item|Remove|Add-Content|Clear|Out-File|Export|Start|Stop|Restart|Suspend|Resume|"
    r"Copy|Move|Rename|Install|Uninstall|Register|Unregister|Enable|Disable|Invoke-Expression|"
    r"Invoke-WmiMethod|Invoke-CimMethod|Invoke-Command|Invoke-WebRequest|Invoke-RestMethod|"
    r"Tee-Object|Update|Write-EventLog|Push|Pop)-\w+",
    "iex alias": r"(?<![\w-])iex\b",
    "external program": r"\b(reg|cmd|sc|net|wmic|msiexec|schtasks|bcdedit|netsh|powershell|pwsh)(\.exe)?\s",
    "file redirection": r"(?<![-<])>{1,2}(?!\s*\$null)",
    "registry write": r"\.(SetValue|CreateSubKey|DeleteSubKey|DeleteSubKeyTree|DeleteValue|SetAccessControl)\b",
    "registry opened writable": r"OpenSubKey\([^)]*,\s*\$true",
    "certificate store opened writable": r"OpenFlags\]::(ReadWrite|MaxAllowed)",
    "certificate store change": r"\$store\w*\.(Add|Remove|AddRange|RemoveRange)\(",
    # Reading a whole file (ReadAllBytes, ReadAllText) is allowed; every other File/Directory method is not.
    "file write": r"\[(System\.)?IO\.(File|Directory|StreamWriter|FileStream)\]::(?!ReadAll(Bytes|Text)\b)\w+|"
    r"StreamWriter|FileStream",
    "temp path": r"\$env:(TEMP|TMP)|GetTempPath|GetTempFileName|\\Temp\\",
    "WMI/CIM method call": r"\.(InvokeMethod|Put|Delete|Kill|Terminate|StopService|StartService|Change)\(",
    "code from text": r"ScriptBlock\]::Create|Add-Type|\[Reflection\.Assembly\]",
    # Windows Installer: a package opened other than read-only (msiOpenDatabaseModeReadOnly is 0), a view that is
    # not a SELECT, or a member called without Invoke-Com (where the allow-list below sees it).
    "installer database opened writable": r"'OpenDatabase'\s+'call'\s+(?!@\(\$\w+,\s*\$MsiReadOnly\))|"
    r"\$MsiReadOnly\s*=(?!\s*0\b)",
    "installer view not a SELECT": r"'OpenView'\s+'call'\s+(?!@\('SELECT\s)",
    "installer member called directly": r"\.(InstallProduct|ConfigureProduct|ConfigureFeature|ApplyPatch|Commit|"
    r"Modify|OpenDatabase|OpenView)\(",
}
# What the bootstrap (the command line) itself needs: run the script that arrived on stdin.
BOOTSTRAP_ALLOWED = {"code from text"}


def _code(script: str) -> str:
    """The script without comments and string literals' contents that are messages (keep code only)."""
    no_block = re.sub(r"<#.*?#>", "", script, flags=re.DOTALL)
    return "\n".join(
        line.split("#", 1)[0] if not line.lstrip().startswith("#") else "" for line in no_block.splitlines()
    )


def scan(script: str, *, allowed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Every writing construct in a PowerShell script, as 'kind: text'; empty means read-only."""
    code = _code(script)
    found = [
        f"{kind}: {m.group(0)}"
        for kind, pattern in FORBIDDEN.items()
        if kind not in allowed
        for m in re.finditer(pattern, code, flags=re.IGNORECASE)
        if m.group(0) != CONNECTION
    ]
    defined = {m.group(1).lower() for m in re.finditer(r"\bfunction\s+([\w-]+)", code, flags=re.IGNORECASE)}
    for m in re.finditer(r"\b([A-Z][a-z]+-[A-Z]\w+)\b", code):
        name = m.group(1)
        if name.lower() not in defined and name not in ALLOWED_CMDLETS:
            found.append(f"cmdlet not allowed: {name}")
    for m in re.finditer(r"New-Object\s+(?:-TypeName\s+)?([\w.]+)", code, flags=re.IGNORECASE):
        if m.group(1) not in ALLOWED_NEW_OBJECT:
            found.append(f"New-Object of {m.group(1)}")
    for m in re.finditer(r"New-Object\s+-ComObject\s+([\w.]+)|-ComObject", code, flags=re.IGNORECASE):
        if m.group(1) not in ALLOWED_COM:
            found.append(f"COM object {m.group(1) or m.group(0)}")
    for m in re.finditer(r"\bInvoke-Com\s+\S+\s+'?(\$?\w+)|\bInvoke-Installer\s+'?(\$?\w+)", code):
        member = m.group(1) or m.group(2)
        if member not in ALLOWED_COM_MEMBERS and not code[m.start() :].startswith(INSTALLER_FORWARD):
            found.append(f"COM member not allowed: {member}")
    if len(re.findall(r"InvokeMember\(", code)) > 1:
        found.append("InvokeMember outside Invoke-Com")
    for m in re.finditer(r"&\s*(\S+)", code):
        if m.group(1) not in ("$Reader", "$Command"):  # a section's reader; a getter listed by `-Verb Get`
            found.append(f"call operator: & {m.group(1)}")
    return found


def test_collector_contains_nothing_that_writes() -> None:
    assert scan(COLLECTOR_SCRIPT) == []


def test_collector_opens_registry_and_certificate_stores_read_only() -> None:
    code = _code(COLLECTOR_SCRIPT)
    assert re.findall(r"OpenSubKey\(([^)]*)\)", code) and all(
        a.replace(" ", "").endswith(",$false") for a in re.findall(r"OpenSubKey\(([^)]*)\)", code)
    )
    assert re.findall(r"OpenFlags\]::(\w+)", code) == ["ReadOnly"]


def test_collector_reads_windows_installer_read_only() -> None:
    code = _code(COLLECTOR_SCRIPT)
    assert re.findall(r"'OpenDatabase' 'call' @\((\$\w+), \$MsiReadOnly\)", code) == ["$package"]
    assert re.search(r"^\$MsiReadOnly = 0\b", code, flags=re.MULTILINE)  # msiOpenDatabaseModeReadOnly
    assert re.findall(r"'OpenView' 'call' @\('([^']*)'\)", code) == ["SELECT `Feature`, `Title` FROM `Feature`"]


def test_bootstrap_only_runs_the_script_from_stdin() -> None:
    # The bootstrap compiles what arrived on stdin (the collector, checked above) and calls it; nothing else.
    assert scan(BOOTSTRAP, allowed=BOOTSTRAP_ALLOWED) == ["call operator: & ([ScriptBlock]::Create($parts[0]))"]


MUTATIONS = [
    "Set-ItemProperty -Path HKLM:\\SOFTWARE\\x -Name y -Value 1",
    "New-Item -Path C:\\x.txt",
    "Remove-Item C:\\x",
    "Add-Content C:\\x.txt 'y'",
    "$result | Out-File C:\\out.json",
    "Start-Process notepad.exe",
    "Invoke-Expression $RequestJson",
    "iex $RequestJson",
    "Stop-Service GPSessionService",
    "Restart-Computer -Force",
    "Copy-Item a b",
    "Move-Item a b",
    "reg.exe add HKLM\\SOFTWARE\\x",
    "cmd /c echo x",
    "$result > C:\\out.json",
    "$key.SetValue('x', 1)",
    "$base.CreateSubKey('SOFTWARE\\x')",
    "$base.OpenSubKey($Path, $true)",
    "[IO.File]::WriteAllText('C:\\x', 'y')",
    "[System.IO.File]::AppendAllText('C:\\x', 'y')",
    "$p = Join-Path $env:TEMP 'x.json'",
    "$store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadWrite)",
    "$store.Add($cert)",
    "(Get-CimInstance Win32_Service -Filter \"Name='x'\").StopService()",
    "Invoke-CimMethod -ClassName Win32_Process -MethodName Create",
    "New-Object System.IO.StreamWriter('C:\\x')",
    "& ([ScriptBlock]::Create($RequestJson))",
    "Export-Csv -Path C:\\x.csv",
    "Register-ScheduledTask -TaskName x",
    "$database = Invoke-Com $script:Installer 'OpenDatabase' 'call' @($package, 1)",
    "$MsiReadOnly = 2",
    "$view = Invoke-Com $database 'OpenView' 'call' @('UPDATE `Feature` SET `Title` = 1')",
    "[void](Invoke-Com $database 'Commit' 'call' @())",
    "[void](Invoke-Com $script:Installer 'ConfigureFeature' 'call' @($code, 'x', 3))",
    "[void](Invoke-Installer 'ProductState' @($code))",
    "Invoke-Com $script:Installer $Member 'call' $Arguments",
    "$script:Installer.InstallProduct($path, '')",
    "$shell = New-Object -ComObject WScript.Shell",
    "$o.GetType().InvokeMember('Delete', [System.Reflection.BindingFlags]::InvokeMethod, $null, $o, @())",
]


@pytest.mark.parametrize("line", MUTATIONS)
def test_the_scan_catches_each_writing_construct(line: str) -> None:
    lines = COLLECTOR_SCRIPT.splitlines()
    mutated = "\n".join([*lines[:-1], line, lines[-1]])
    assert scan(mutated), f"not caught: {line}"


QUERY_FILES = sorted(
    p.name for p in resources.files("gpverify.facts").joinpath("queries").iterdir() if p.name.endswith(".sql")
)


def test_there_are_query_files() -> None:
    assert len(QUERY_FILES) >= 10


@pytest.mark.parametrize("name", QUERY_FILES)
def test_every_query_file_is_one_read_only_select_with_bound_values(name: str) -> None:
    sql = resources.files("gpverify.facts").joinpath("queries", name).read_text(encoding="utf-8")
    # Values are bound as ? parameters; the only text substituted is a profile table or column name (the
    # placeholders of gpsql.CONFIG_IDENTIFIERS), which quote_identifier validates and brackets. No other
    # formatting marker may appear.
    allowed = "|".join(CONFIG_IDENTIFIERS)
    assert not re.search(rf"%s|%\(|\{{(?!(?:{allowed})\}})", sql), name
    check_read_only(re.sub(r"\{\w+\}", "[T]", sql), source=name)
