# gpverify fact collector: reads what one host's checks need and prints it as one JSON document.
# It only reads: Get-* cmdlets, CIM queries, registry keys opened read-only, certificate stores opened
# read-only. It writes no file, no registry value and no temp file. Everything it looks up arrives as
# JSON data in $Request (never spliced into this source), so the script is byte-identical on every run.
param([string]$RequestJson)

$ErrorActionPreference = 'Stop'
[Console]::OutputEncoding = [System.Text.Encoding]::UTF8
$Request = $RequestJson | ConvertFrom-Json
$errors = New-Object System.Collections.ArrayList

function Add-CollectorError([string]$Section, [string]$Key, $Err) {
    [void]$errors.Add([ordered]@{ section = $Section; key = $Key; message = "$Err" })
}

$script:AllServices = $null

function Get-AllServices {
    # Win32_Service gives start mode and account, which Get-Service on Windows PowerShell 5.1 does not.
    # One CIM query per run, however many services are asked about.
    if ($null -eq $script:AllServices) {
        $script:AllServices = @(Get-CimInstance -ClassName Win32_Service -Property Name, DisplayName, State, StartMode, StartName)
    }
    $script:AllServices
}

function Get-ServiceFacts($Query) {
    $found = @(Get-AllServices | Where-Object {
        $svc = $_
        (@($Query.names) | Where-Object { $svc.Name -eq $_ }).Count -gt 0 -or
        (@($Query.name_patterns) | Where-Object { $_ -and $svc.Name -like $_ }).Count -gt 0 -or
        (@($Query.display) | Where-Object { $svc.DisplayName -like $_ }).Count -gt 0
    })
    @($found | ForEach-Object {
        [ordered]@{ name = $_.Name; display_name = $_.DisplayName; status = "$($_.State)";
                    start_mode = "$($_.StartMode)"; account = "$($_.StartName)" }
    })
}

function Get-FileFacts($Query) {
    $path = [Environment]::ExpandEnvironmentVariables($Query.path)
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { return [ordered]@{ path = $path; exists = $false; version = $null } }
    $info = (Get-Item -LiteralPath $path).VersionInfo
    $version = if ($info.FileMajorPart -or $info.FileMinorPart -or $info.FileBuildPart) {
        "$($info.FileMajorPart).$($info.FileMinorPart).$($info.FileBuildPart).$($info.FilePrivatePart)"
    } else { $null }
    [ordered]@{ path = $path; exists = $true; version = $version }
}

function Get-FileSearchFacts($Query) {
    # A wildcard for the release folder (e.g. ...\Microsoft Dynamics\*\Dynamics.exe): side-by-side installs.
    $found = foreach ($pattern in @($Query.patterns)) {
        $path = [Environment]::ExpandEnvironmentVariables($pattern)
        foreach ($item in @(Get-ChildItem -Path $path -File -ErrorAction SilentlyContinue)) {
            Get-FileFacts ([pscustomobject]@{ path = $item.FullName })
        }
    }
    @($found | Sort-Object { $_.path } -Unique)
}

function Get-TextFacts($Query) {
    # Small configuration files read whole (TenantConfiguration.xml, Dynamics.set, Dex.ini), size checked before
    # reading. UTF-16 by its byte-order mark, UTF-8 when the bytes are valid UTF-8, else the ANSI code page 1252
    # that Notepad writes on Western systems (no source gives the encoding of GP's files: facts/dynamicsset.py).
    $path = [Environment]::ExpandEnvironmentVariables($Query.path)
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { return [ordered]@{ path = $path; exists = $false } }
    $size = (Get-Item -LiteralPath $path).Length
    if ($size -gt [long]$Query.max_bytes) {
        return [ordered]@{ path = $path; exists = $true; problem = "too large ($size bytes, at most $($Query.max_bytes) are read)" }
    }
    if ($size -eq 0) { return [ordered]@{ path = $path; exists = $true; problem = 'empty' } }
    $bytes = [System.IO.File]::ReadAllBytes($path)
    $text = $null
    $encoding = 'utf-16'
    if ($bytes.Length -ge 2 -and $bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE) {
        $text = [System.Text.Encoding]::Unicode.GetString($bytes, 2, $bytes.Length - 2)
    } elseif ($bytes.Length -ge 2 -and $bytes[0] -eq 0xFE -and $bytes[1] -eq 0xFF) {
        $text = [System.Text.Encoding]::BigEndianUnicode.GetString($bytes, 2, $bytes.Length - 2)
    } else {
        $start = if ($bytes.Length -ge 3 -and $bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB -and $bytes[2] -eq 0xBF) { 3 } else { 0 }
        $strict = New-Object System.Text.UTF8Encoding($false, $true)  # throws on bytes that are not UTF-8
        try { $text = $strict.GetString($bytes, $start, $bytes.Length - $start); $encoding = 'utf-8' }
        catch { $text = [System.Text.Encoding]::GetEncoding(1252).GetString($bytes); $encoding = 'windows-1252' }
    }
    [ordered]@{ path = $path; exists = $true; text = $text; encoding = $encoding }
}

function Get-LocationId($Query) {
    # The dictionary location ID the desktop client uses: the Workstation2 line of its Dex.ini (SystemAdminGuide.md).
    if (-not $Query.dex_ini) { return $null }
    $ini = Get-TextFacts ([pscustomobject]@{ path = $Query.dex_ini; max_bytes = $Query.max_bytes })
    if ($ini.exists -and $ini.text -and $ini.text -match '(?m)^\s*Workstation2\s*=(.*)$') {
        $id = $Matches[1].Trim()
        if ($id) { return $id }
    }
    $null
}

function Get-DictionaryFacts($Query) {
    # The products Dynamics.set launches and whether each main dictionary exists, from the location block Dex.ini's
    # Workstation2 names (facts/dynamicsset.py describes the layout: count, ID/name pairs, then blocks of a location
    # ID and a dictionary, forms and reports path per product).
    $set = Get-TextFacts $Query
    if (-not $set.exists) { throw "launch file not found: $($set.path)" }
    if ($set.problem) { throw "launch file $($set.path) cannot be read: $($set.problem)" }
    $lines = @($set.text -split "`r?`n" | ForEach-Object { $_.Trim() } | Where-Object { $_ })
    $count = 0
    if ($lines.Count -eq 0 -or -not [int]::TryParse($lines[0], [ref]$count)) { throw "$($set.path) is not a Dynamics.set launch file" }
    $size = 1 + 3 * $count
    $blocks = ($lines.Count - 1 - 2 * $count) / $size
    if ($blocks -lt 1 -or $blocks -ne [math]::Floor($blocks)) { throw "$($set.path) lists $count product(s) but not their IDs, names and dictionary location blocks" }
    $ids = @(for ($b = 0; $b -lt $blocks; $b++) { $lines[1 + 2 * $count + $b * $size] })
    $location = Get-LocationId $Query
    $index = if ($location) { [array]::IndexOf($ids, $location) } elseif ($blocks -eq 1) { 0 } else { -2 }
    if ($index -eq -2) { throw "$($set.path) has several dictionary location IDs ($($ids -join ', ')) and Dex.ini names none (no Workstation2 line)" }
    if ($index -lt 0) { throw "Dex.ini's Workstation2 names the dictionary location ID '$location', which $($set.path) does not list ($($ids -join ', '); the ID is case-sensitive)" }
    $first = 1 + 2 * $count + $index * $size
    @(for ($i = 0; $i -lt $count; $i++) {
        $dex = $lines[$first + 1 + 3 * $i].TrimStart(':')
        $path = if ($dex -match '^([A-Za-z]):[/\\]?(.*)$') { "$($Matches[1]):\$($Matches[2])" } else { $dex }
        $path = $path.Replace('/', '\')
        [ordered]@{ product = [int]$lines[1 + 2 * $i]; name = $lines[2 + 2 * $i]; path = $path; location = $ids[$index];
                    exists = (Test-Path -LiteralPath $path -PathType Leaf) }
    })
}

$script:Installer = $null

function Invoke-Installer([string]$Property, [object[]]$Arguments) {
    # Windows Installer's own automation object, read-only: ProductInfo, Features and FeatureState are properties
    # with parameters, which PowerShell reaches through InvokeMember (learn.microsoft.com/windows/win32/msi/installer-object).
    if ($null -eq $script:Installer) { $script:Installer = New-Object -ComObject WindowsInstaller.Installer }
    $script:Installer.GetType().InvokeMember($Property, [System.Reflection.BindingFlags]::GetProperty, $null, $script:Installer, $Arguments)
}

function Get-PackageName([string]$ProductCode) {
    # The file name of the .msi the product was installed from (ProductInfo PackageName), e.g. the help installer's.
    if ($ProductCode -notmatch '^\{[0-9A-Fa-f-]{36}\}$') { return '' }
    try { "$(Invoke-Installer 'ProductInfo' @($ProductCode, 'PackageName'))" } catch { '' }
}

function Get-InstalledFeatures([string]$ProductCode) {
    # The product's features whose FeatureState is local (3) or run from source (4): installed. Absent (2) and
    # advertised (1) features are not (msiInstallState, learn.microsoft.com/windows/win32/msi/installer-featurestate).
    if ($ProductCode -notmatch '^\{[0-9A-Fa-f-]{36}\}$') { return @() }
    try {
        $all = @(Invoke-Installer 'Features' @($ProductCode))
        @($all | Where-Object { (Invoke-Installer 'FeatureState' @($ProductCode, $_)) -in 3, 4 } | Sort-Object)
    } catch { @() }
}

function Open-HklmKey([string]$Path, [string]$View) {
    $regView = if ($View -eq '32') { [Microsoft.Win32.RegistryView]::Registry32 } else { [Microsoft.Win32.RegistryView]::Registry64 }
    $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, $regView)
    $base.OpenSubKey($Path, $false)  # $false = read-only
}

function Get-RegistryFacts($Query) {
    $key = Open-HklmKey $Query.path $Query.view
    if ($null -eq $key) { return [ordered]@{ key_exists = $false; exists = $false; value = $null } }
    try {
        $value = $key.GetValue($Query.name, $null)
        [ordered]@{ key_exists = $true; exists = ($null -ne $value); value = $value }
    } finally { $key.Close() }
}

function Get-RegistrySubkeyFacts($Query) {
    # Every subkey of a key with one of its values (the 32-bit System DSNs under ODBC.INI, each with its Server).
    $key = Open-HklmKey $Query.path $Query.view
    if ($null -eq $key) { return @() }
    try {
        @(foreach ($name in $key.GetSubKeyNames()) {
            $sub = $key.OpenSubKey($name, $false)
            if ($null -eq $sub) { continue }
            try { [ordered]@{ subkey = $name; value = $sub.GetValue($Query.name, $null) } } finally { $sub.Close() }
        })
    } finally { $key.Close() }
}

function Get-ProductFacts($Query) {
    # Programs and Features reads the Uninstall keys of both registry views (GP itself is 32-bit). A product is
    # matched by its DisplayName, or by the .msi it was installed from where the query names one (the help
    # installer's file name is published, its Programs and Features name is not).
    $uninstall = 'SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
    $products = foreach ($view in '64', '32') {
        $root = Open-HklmKey $uninstall $view
        if ($null -eq $root) { continue }
        try {
            foreach ($sub in $root.GetSubKeyNames()) {
                $k = $root.OpenSubKey($sub, $false)
                if ($null -eq $k) { continue }
                try {
                    $name = $k.GetValue('DisplayName', $null)
                    if (-not $name) { continue }
                    $package = if ($Query.package) { Get-PackageName $sub } else { '' }
                    if ($name -like $Query.pattern -or ($Query.package -and $package -and $package -like $Query.package)) {
                        [ordered]@{ name = "$name"; version = "$($k.GetValue('DisplayVersion', ''))";
                                    package = "$package"; features = @(Get-InstalledFeatures $sub) }
                    }
                } finally { $k.Close() }
            }
        } finally { $root.Close() }
    }
    @($products | Sort-Object { $_.name } -Unique)
}

function Get-CertificateFacts($Query) {
    $parts = $Query.store -split '\\', 2
    $store = New-Object System.Security.Cryptography.X509Certificates.X509Store($parts[1], $parts[0])
    $store.Open([System.Security.Cryptography.X509Certificates.OpenFlags]::ReadOnly)
    try {
        @($store.Certificates | ForEach-Object {
            $chain = New-Object System.Security.Cryptography.X509Certificates.X509Chain
            # No revocation lookups: they reach the network and make the run depend on it.
            $chain.ChainPolicy.RevocationMode = [System.Security.Cryptography.X509Certificates.X509RevocationMode]::NoCheck
            [ordered]@{ subject = $_.Subject; issuer = $_.Issuer; thumbprint = $_.Thumbprint;
                        not_after = $_.NotAfter.ToUniversalTime().ToString('o'); chain_ok = $chain.Build($_) }
        })
    } finally { $store.Close() }
}

function Invoke-Section([string]$Section, $Queries, [scriptblock]$Reader, [switch]$List) {
    $out = [ordered]@{}
    foreach ($q in @($Queries)) {
        if ($null -eq $q) { continue }
        # PowerShell unrolls arrays returned from functions; @() restores list sections.
        try { $out[$q.key] = if ($List) { @(& $Reader $q) } else { & $Reader $q } }
        catch { Add-CollectorError $Section $q.key $_ }
    }
    $out
}

$result = [ordered]@{
    collector = 1
    computer = $env:COMPUTERNAME
    ps_version = $PSVersionTable.PSVersion.ToString()
    services = Invoke-Section 'services' $Request.services ${function:Get-ServiceFacts} -List
    files = Invoke-Section 'files' $Request.files ${function:Get-FileFacts}
    file_search = Invoke-Section 'file_search' $Request.file_search ${function:Get-FileSearchFacts} -List
    texts = Invoke-Section 'texts' $Request.texts ${function:Get-TextFacts}
    dictionaries = Invoke-Section 'dictionaries' $Request.dictionaries ${function:Get-DictionaryFacts} -List
    registry = Invoke-Section 'registry' $Request.registry ${function:Get-RegistryFacts}
    registry_subkeys = Invoke-Section 'registry_subkeys' $Request.registry_subkeys ${function:Get-RegistrySubkeyFacts} -List
    products = Invoke-Section 'products' $Request.products ${function:Get-ProductFacts} -List
    certificates = Invoke-Section 'certificates' $Request.certificates ${function:Get-CertificateFacts} -List
    errors = $errors
}
$result | ConvertTo-Json -Depth 8 -Compress
