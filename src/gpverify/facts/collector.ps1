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
        $script:AllServices = @(Get-CimInstance -ClassName Win32_Service -Property Name, DisplayName, State, StartMode, StartName, ProcessId)
    }
    $script:AllServices
}

function Get-ProcessStart($ProcessId) {
    # When a running service's process started (UTC), e.g. whether Session Central was restarted after the session
    # hosts (web-components/scale-out-installation.md, step 18). One process looked up by its number.
    if (-not $ProcessId) { return $null }
    $process = Get-CimInstance -ClassName Win32_Process -Filter "ProcessId = $([int]$ProcessId)" -Property CreationDate
    if ($null -eq $process -or $null -eq $process.CreationDate) { return $null }
    $process.CreationDate.ToUniversalTime().ToString('o')
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
                    start_mode = "$($_.StartMode)"; account = "$($_.StartName)"; started = (Get-ProcessStart $_.ProcessId) }
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
$MsiReadOnly = 0  # msiOpenDatabaseModeReadOnly (learn.microsoft.com/windows/win32/msi/installer-opendatabase)

function Invoke-Com($Object, [string]$Member, [string]$Kind, [object[]]$Arguments) {
    # Windows Installer's automation objects carry no type information PowerShell can bind: members by name.
    $flags = if ($Kind -eq 'get') { [System.Reflection.BindingFlags]::GetProperty } else { [System.Reflection.BindingFlags]::InvokeMethod }
    $Object.GetType().InvokeMember($Member, $flags, $null, $Object, $Arguments)
}

function Invoke-Installer([string]$Property, [object[]]$Arguments) {
    # Windows Installer's own automation object, read-only: ProductInfo, Features and FeatureState are properties
    # with parameters, which PowerShell reaches through InvokeMember (learn.microsoft.com/windows/win32/msi/installer-object).
    if ($null -eq $script:Installer) { $script:Installer = New-Object -ComObject WindowsInstaller.Installer }
    Invoke-Com $script:Installer $Property 'get' $Arguments
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

function Get-FeatureTitles([string]$ProductCode) {
    # Each feature's Title (what the installer's Select Features window shows, and the docs name: "Web Client
    # Runtime") by its ID, from the Feature table of the product's cached package (ProductInfo LocalPackage) opened
    # read-only; the IDs themselves are not public (learn.microsoft.com/windows/win32/msi/feature-table).
    if ($ProductCode -notmatch '^\{[0-9A-Fa-f-]{36}\}$') { return [ordered]@{ titles = [ordered]@{}; error = $null } }
    $titles = [ordered]@{}
    try {
        $package = "$(Invoke-Installer 'ProductInfo' @($ProductCode, 'LocalPackage'))"
        if (-not $package) { return [ordered]@{ titles = $titles; error = 'no cached package (LocalPackage)' } }
        $database = Invoke-Com $script:Installer 'OpenDatabase' 'call' @($package, $MsiReadOnly)
        $view = Invoke-Com $database 'OpenView' 'call' @('SELECT `Feature`, `Title` FROM `Feature`')
        try {
            [void](Invoke-Com $view 'Execute' 'call' @())
            while ($null -ne ($record = Invoke-Com $view 'Fetch' 'call' @())) {
                $titles["$(Invoke-Com $record 'StringData' 'get' @(1))"] = "$(Invoke-Com $record 'StringData' 'get' @(2))"
            }
        } finally {
            [void](Invoke-Com $view 'Close' 'call' @())
            [void][System.Runtime.InteropServices.Marshal]::ReleaseComObject($view)
            [void][System.Runtime.InteropServices.Marshal]::ReleaseComObject($database)
        }
        [ordered]@{ titles = $titles; error = $null }
    } catch { [ordered]@{ titles = $titles; error = "$($_.Exception.Message)" } }
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
                        $product = [ordered]@{ name = "$name"; version = "$($k.GetValue('DisplayVersion', ''))";
                                               package = "$package"; features = @(Get-InstalledFeatures $sub) }
                        if ($Query.titles) {  # the features' titles, asked for the GP entry only
                            $read = Get-FeatureTitles $sub
                            $product.titles = $read.titles
                            $product.titles_error = $read.error
                        }
                        $product
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

# --- Session Central, through GP's own PowerShell module (web server) ----------------------------------------
# The "GP PowerShell" component (installation/installing-additional-components.md) talks to Session Central once
# Set-GPSessionCentralAddress names it: "All of the other cmdlets require this connection"
# (web-components/tenant-services-applications.md). The module's name is not public, so it is found by that
# cmdlet. Two kinds of command of the module run here, and no other: Set-GPSessionCentralAddress, which sets the
# address this PowerShell session talks to and changes nothing in Session Central, and the module's Get-* cmdlets
# that need no parameter (they list what Session Central holds). Update-, New-, Add-, Remove- and every other
# Set- cmdlet never run: tests/checks/test_session_central.py reads this file to prove it.

function ConvertTo-FactValue($Value, [int]$MaxChars) {
    # A property's value as JSON data: booleans and numbers as they are, date-times in UTC (ISO 8601; Windows
    # PowerShell 5.1 would write "\/Date(...)\/"), lists and everything else as bounded text.
    if ($null -eq $Value) { return $null }
    if ($Value -is [datetime]) { return $Value.ToUniversalTime().ToString('o') }
    if ($Value.GetType().IsPrimitive -and $Value -isnot [char]) { return $Value }
    if ($Value -is [System.Collections.IEnumerable] -and $Value -isnot [string]) {
        $Value = (@($Value | Select-Object -First 20) | ForEach-Object { "$_" }) -join ', '
    }
    $text = "$Value"
    if ($text.Length -gt $MaxChars) { $text = $text.Substring(0, $MaxChars) }
    $text
}

function Get-ObjectFacts($Object, [string]$Getter, $Query) {
    # Every property of one object Session Central returned, by name, with the .NET type of its value.
    $properties = [ordered]@{}
    $types = [ordered]@{}
    foreach ($p in @($Object.PSObject.Properties | Select-Object -First ([int]$Query.max_properties))) {
        try { $value = $p.Value } catch { $value = "(unreadable: $($_.Exception.Message))" }
        $properties[$p.Name] = ConvertTo-FactValue $value ([int]$Query.max_value_chars)
        $types[$p.Name] = if ($null -eq $value) { '' } else { $value.GetType().FullName }
    }
    [ordered]@{ getter = $Getter; type = "$($Object.PSObject.TypeNames[0])"; properties = $properties; types = $types }
}

function Test-ListsAll($Command) {
    # A getter is run without parameters only: one of its parameter sets must have no mandatory parameter.
    $sets = @($Command.ParameterSets)
    if ($sets.Count -eq 0) { return $true }
    foreach ($set in $sets) {
        if (@($set.Parameters | Where-Object { $_.IsMandatory }).Count -eq 0) { return $true }
    }
    $false
}

function Find-GPPowerShellModule($Query) {
    # The module exporting Set-GPSessionCentralAddress: found through PowerShell's module path (command discovery
    # and the installed modules), or at the path the inventory names (overrides session_central.module_path).
    if ($Query.module_path) {
        return Import-Module -Name ([Environment]::ExpandEnvironmentVariables($Query.module_path)) -PassThru -ErrorAction Stop |
            Select-Object -First 1
    }
    $command = Get-Command -Name 'Set-GPSessionCentralAddress' -ErrorAction SilentlyContinue | Select-Object -First 1
    $path = if ($command -and $command.Module) { $command.Module.Path } else {
        Get-Module -ListAvailable | Where-Object { $_.ExportedCommands.ContainsKey('Set-GPSessionCentralAddress') } |
            Select-Object -First 1 -ExpandProperty Path
    }
    if (-not $path) { return $null }
    Import-Module -Name $path -PassThru -ErrorAction Stop | Select-Object -First 1
}

function Invoke-Getter($Command, $Query) {
    # One listing: its objects (at most max_objects), or the error it ended with.
    $facts = [ordered]@{ name = $Command.Name; count = 0; truncated = $false; error = $null }
    $found = @(& $Command | Select-Object -First ([int]$Query.max_objects + 1))
    $facts.truncated = $found.Count -gt [int]$Query.max_objects
    $objects = @($found | Select-Object -First ([int]$Query.max_objects) | ForEach-Object { Get-ObjectFacts $_ $Command.Name $Query })
    $facts.count = $objects.Count
    @{ facts = $facts; objects = $objects }
}

function Get-SessionCentralFacts($Query) {
    $module = Find-GPPowerShellModule $Query
    if ($null -eq $module) { return [ordered]@{ installed = $false } }
    # Only the module's Get- cmdlets, each checked again by its verb, and only those that list without parameters.
    $getters = @(Get-Command -Module $module.Name -Verb Get -ErrorAction Stop | Where-Object { $_.Verb -eq 'Get' } |
                 Sort-Object Name | Select-Object -First ([int]$Query.max_getters))
    $callable = @($getters | Where-Object { Test-ListsAll $_ })
    $out = [ordered]@{ installed = $true; module = $module.Name; version = "$($module.Version)"; address = $null;
                       attempts = @(); getters = @(); skipped = @($getters | Where-Object { -not (Test-ListsAll $_) } |
                       ForEach-Object { $_.Name }); objects = @() }
    foreach ($address in @($Query.addresses)) {
        # The scheme and port are the site's (HTTPS is optional, the port is chosen at install): each address
        # the request lists is tried until the first getter answers through it.
        try {
            Set-GPSessionCentralAddress -Address $address -ErrorAction Stop
            if ($callable.Count -gt 0) { $first = Invoke-Getter $callable[0] $Query } else { $first = $null }
        } catch {
            $out.attempts += [ordered]@{ address = $address; error = "$($_.Exception.Message)" }
            continue
        }
        $out.address = $address
        $results = @($first) + @($callable | Select-Object -Skip 1 | ForEach-Object {
            $getter = $_
            try { Invoke-Getter $getter $Query }
            catch { @{ facts = [ordered]@{ name = $getter.Name; count = 0; truncated = $false; error = "$($_.Exception.Message)" }; objects = @() } }
        })
        $out.getters = @($results | Where-Object { $_ } | ForEach-Object { $_.facts })
        $out.objects = @($results | Where-Object { $_ } | ForEach-Object { $_.objects })
        break
    }
    $out
}

function Get-EventFacts($Query) {
    # "the Dynamics section of the Event Log on the machine running the web site and Session Central Service"
    # (web-components/troubleshooting.md). Its log and source names are not public: every log and event provider
    # whose name is like the request's patterns is read, errors and critical events only, the newest first.
    $since = [datetime]::UtcNow.AddHours(-[double]$Query.hours)
    $logs = @(foreach ($p in @($Query.patterns)) {
        Get-WinEvent -ListLog $p -ErrorAction SilentlyContinue | ForEach-Object { $_.LogName } }) | Sort-Object -Unique
    $providers = @(foreach ($p in @($Query.patterns)) {
        Get-WinEvent -ListProvider $p -ErrorAction SilentlyContinue | ForEach-Object { $_.Name } }) | Sort-Object -Unique
    $filters = @()
    if ($logs) { $filters += @{ LogName = [string[]]$logs; Level = 1, 2; StartTime = $since.ToLocalTime() } }
    if ($providers) { $filters += @{ ProviderName = [string[]]$providers; Level = 1, 2; StartTime = $since.ToLocalTime() } }
    $seen = @{}
    $events = foreach ($filter in $filters) {
        foreach ($e in @(Get-WinEvent -FilterHashtable $filter -MaxEvents ([int]$Query.max_events) -ErrorAction SilentlyContinue)) {
            $id = "$($e.LogName)#$($e.RecordId)"
            if ($seen.ContainsKey($id)) { continue }
            $seen[$id] = $true
            $text = "$($e.Message)"
            if ($text.Length -gt [int]$Query.max_chars) { $text = $text.Substring(0, [int]$Query.max_chars) }
            [ordered]@{ log = $e.LogName; source = $e.ProviderName; id = $e.Id; level = "$($e.LevelDisplayName)";
                        time = $e.TimeCreated.ToUniversalTime().ToString('o'); message = $text }
        }
    }
    [ordered]@{ logs = @($logs); providers = @($providers); since = $since.ToString('o');
                events = @($events | Sort-Object { $_.time } -Descending | Select-Object -First ([int]$Query.max_events)) }
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
    session_central = Invoke-Section 'session_central' $Request.session_central ${function:Get-SessionCentralFacts}
    events = Invoke-Section 'events' $Request.events ${function:Get-EventFacts}
    errors = $errors
}
$result | ConvertTo-Json -Depth 8 -Compress
