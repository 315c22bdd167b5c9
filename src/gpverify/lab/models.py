"""Lab state: the simulated farm's hosts and databases, built from the lab's own statement of GP and changed by
scenarios. Nothing here reads the profiles the checks use (lab/statement.py says why)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from gpverify.config.inventory import Role
from gpverify.lab.statement import Statement, statement

Era = Literal["html", "silverlight"]
Stage = Literal["before-upgrade", "upgraded"]
# (source release, target release) of each lab era: an HTML-era 18.x upgrade, a Silverlight-era one.
ERAS: dict[Era, tuple[str, str]] = {"html": ("gp18.3", "gp18.4"), "silverlight": ("gp2013r2", "gp2015r2")}
COMPANIES = [(1, "Fabrikam, Inc.", "TWO"), (2, "Contoso Ltd.", "CONTO")]
LAB_DOMAIN, LAB_USER = "LAB", "gpadmin"
HOST_FAULTS = (
    "unreachable",
    "name-unresolvable",
    "bad-password",
    "slow",
    "timeout",
    "reset",
    "malformed-json",
    "truncated",
    "clixml-error",
    "unencrypted-refused",
    "tls-wrong-name",
    "tls-self-signed",  # tls-*: HTTPS listener with a bad certificate (hardening)
    "http-200-html",
    "bad-negotiate",
    "huge-body",
    "trickle",  # hostile endpoints (issue 14)
    "anonymous-first",
)  # wants an anonymous request before the up-front Negotiate token (issue 15)

COMMON = statement(ERAS["html"][1])  # what every release shares (services, paths, lab-own names)
# Display names: the docs' component names ("GP Session Central Service", "GP Session Services"); installed names
# may carry "Microsoft Dynamics" in front. The lab uses both forms (gp-sh02 and the web server without, gp-sh01
# with), so a check must match either.
SERVICE_KEYS = (
    "session_central",
    "session_service",
    "gp_service",
    "dex_service_control",
    "tenant_discovery",
    "tenant_management",
)
SERVICE_DISPLAY = {k: str(COMMON[f"services.{k}.display"]) for k in SERVICE_KEYS}
PREFIXED_HOSTS = ("gp-sh01",)
PRODUCT_NAMES = {k: str(COMMON[f"products.{k}"]) for k in ("web_components", "web_client_help", "tenant_services")}
# GP's own Programs and Features entry per release, and its Windows Installer features: GP is the published core
# feature's ID; the Web Client Runtime's and SBA's IDs are not public, so the lab's are its own.
GP_ENTRY = {name: str(statement(name)["products.gp_desktop"]) for name in (*ERAS["html"], *ERAS["silverlight"])}
LAB_FEATURES = {
    "core": str(COMMON["features.published"][0]),
    "web_client_runtime": str(COMMON["features.web_client_runtime"]),
    "service_based_architecture": str(COMMON["features.service_based_architecture"]),
}
# Where the lab's session hosts keep the configuration database's name: not public for GP, so the lab's own.
LAB_CONFIG_DB_SETTING: dict[str, str] = dict(COMMON["registry.web_components_config_db"])
ODBC = dict(COMMON["registry.odbc_dsn"])  # the ODBC.INI key of the 32-bit System DSNs, Server value
LAB_SQL_SERVER = "lab-sql"  # the SQL Server's name in the lab's inventory (sql.server)
# The Feature table of the GP entry's cached package (Windows Installer's copy of its .msi): every feature's ID
# with its Title, what the installer's Select Features window shows. GP, HRM and FAM are the IDs KB 3036773 prints
# (its text: "HRM (Human Resources)", "FAM (Fixed Assets)"; the core's title is the lab's own); the Web Client
# Runtime's and SBA's IDs are the lab's, their titles the docs' (statement feature_titles.*). Features that are not
# installed are listed too.
LAB_FEATURE_TITLES = {
    LAB_FEATURES["core"]: "Microsoft Dynamics GP",
    "HRM": "Human Resources",
    "FAM": "Fixed Assets",
    LAB_FEATURES["web_client_runtime"]: str(COMMON["feature_titles.web_client_runtime"]),
    LAB_FEATURES["service_based_architecture"]: str(COMMON["feature_titles.service_based_architecture"]),
}
# A third-party product installed beside GP (its own PRODID and version numbering), as real farms have.
THIRD_PARTY = {"PRODID": 5597, "name": "Lab ISV Payables Extensions", "version": (18, 0, 212)}
# gp-sh02's launch file: ANSI (Windows-1252) with a second dictionary location block, whose ISV dictionary sits in a
# folder that is not there: only a Dex.ini whose Workstation2 names that block uses it (the lab's own ID and folder).
SECOND_LOCATION = "Rapports réseau"
SECOND_LOCATION_FOLDER = "Réseau"
ANSI_LAUNCH_HOSTS = ("gp-sh02",)
PROGRAM_FILES_X86 = "C:\\Program Files (x86)"
PROGRAM_FILES = "C:\\Program Files"
ENVIRONMENT = {"%ProgramFiles(x86)%": PROGRAM_FILES_X86, "%ProgramFiles%": PROGRAM_FILES}


def expand(path: str) -> str:
    """A path as Windows expands %ProgramFiles% and %ProgramFiles(x86)% (all the lab's paths use)."""
    for var, folder in ENVIRONMENT.items():
        path = path.replace(var, folder)
    return path


@dataclass
class FakeService:
    name: str
    display_name: str
    status: str = "Running"
    start_mode: str = "Auto"
    account: str = r"LAB\svc-gpweb"
    started: datetime | None = None  # when its process started (lab/sessioncentral.py sets the lab's clock)


@dataclass
class FakeCert:
    subject: str
    issuer: str
    not_after: datetime
    chain_ok: bool = True
    fixed_thumbprint: str | None = None  # a scenario's certificate that is the expected one, changed (expired)

    @property
    def thumbprint(self) -> str:
        if self.fixed_thumbprint:
            return self.fixed_thumbprint.upper()
        return hashlib.sha1(f"{self.subject}|{self.not_after.isoformat()}".encode()).hexdigest().upper()


# The certificate DynamicsGPTrustedApp.msi puts in Trusted Publishers (fixed expiry: a stable thumbprint).
SIGNING_CERT = FakeCert(
    "CN=Microsoft Corporation, O=Microsoft Corporation",
    "CN=Microsoft Code Signing PCA",
    datetime(2030, 6, 30, tzinfo=UTC),
)


# What an operator sets under overrides after `gpverify discover` on the lab: the lab's own names for what GP
# does not publish (configuration database tables and columns, the session host setting, the certificate, the
# Windows Installer features). A scenario with `discovered: true` carries them in its inventory.
LAB_DISCOVERED: dict[str, Any] = {
    **{k: COMMON[k] for k in COMMON if k.startswith(("config_db.", "old_session_db."))},
    "registry.web_components_config_db": LAB_CONFIG_DB_SETTING,
    "certificates.web_client_signing_thumbprint": SIGNING_CERT.thumbprint,
    "features.web_client_runtime": LAB_FEATURES["web_client_runtime"],
    "features.service_based_architecture": LAB_FEATURES["service_based_architecture"],
}


@dataclass
class FakeHost:
    """One simulated Windows machine, keyed the way the collector asks (paths, registry keys, names)."""

    name: str
    role: Role
    services: dict[str, FakeService] = field(default_factory=dict)  # profile key -> service
    files: dict[str, str | None] = field(default_factory=dict)  # expanded path -> version ("" no version)
    registry: dict[tuple[str, str, str], Any] = field(default_factory=dict)  # (view, key path, value name)
    products: dict[str, str] = field(default_factory=dict)  # Programs and Features name -> version
    packages: dict[str, str] = field(default_factory=dict)  # Programs and Features name -> the .msi it came from
    features: dict[str, list[str]] = field(default_factory=dict)  # product name -> installed features
    # product name -> its cached package's Feature table (feature ID -> Title); absent: no cached package
    feature_titles: dict[str, dict[str, str]] = field(default_factory=dict)
    texts: dict[str, str | bytes | None] = field(default_factory=dict)  # expanded path -> file content
    latency: float = 0.0  # seconds this host waits before each answer (on top of the lab's own)
    stderr_progress: bool = False  # the collector also writes CLIXML progress records to stderr, exit 0
    # Seconds a real Windows host spends on every command before it runs: WinRM starts powershell.exe for each
    # (0.19 s to 0.6 s for Windows PowerShell 5.1, PowerShell/PowerShell#12843 and #4239). 0: answer at once.
    command_cost: float = 0.0
    certificates: dict[str, list[FakeCert]] = field(default_factory=dict)  # store -> certificates
    fault: str | None = None
    https: FakeWebSite | None = None  # a session host's runtime service; see session_host_site()
    session_central: Any = None  # the web server's Session Central and GP PowerShell module (lab/sessioncentral.py)


# The GP Service help page (web-components/scale-out-installation.md) and a session host runtime service's
# policy file (web-components/troubleshooting.md): the paths the lab's HTTPS stand-ins answer beside /GP.
GP_SERVICE_HELP = "/GPService/Tenants(DefaultTenant)/help"
CLIENT_ACCESS_POLICY = "/clientaccesspolicy.xml"


@dataclass
class FakeWebSite:
    """An HTTPS endpoint: the IIS site on the web server, or a session host's runtime service on 443 (paths that
    answer and the certificate it presents)."""

    paths: set[str] = field(default_factory=lambda: {"/GP", "/WebManagementConsole", GP_SERVICE_HELP})
    cert_names: list[str] = field(default_factory=lambda: ["localhost"])
    cert_days_left: int = 365
    down: bool = False


@dataclass
class FakeFarm:
    era: Era
    stage: Stage
    source: Statement  # the lab's statement of the release upgraded from (lab/statement.py)
    target: Statement  # and of the release upgraded to
    hosts: dict[str, FakeHost]
    databases: dict[str, dict[str, list[dict[str, Any]]]]  # database -> table -> rows
    web_site: FakeWebSite = field(default_factory=FakeWebSite)
    sql_fault: str | None = None  # "unreachable" | "login-failed"
    system_database: str = "DYNAMICS"
    config_database: str = "GPCONFIGURATION"
    service_based_architecture: bool = True
    runtime: dict[str, str] = field(default_factory=dict)  # files key -> path TenantConfiguration.xml names
    inventory_extra: dict[str, Any] = field(default_factory=dict)  # settings written into the lab's inventory
    # sys.databases columns per database (name -> column -> value); databases not named are ONLINE, MULTI_USER.
    database_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    # sys.server_principals rows and what SERVERPROPERTY answers (SQL Server 2019 CU unless a scenario says).
    server_logins: list[dict[str, Any]] = field(default_factory=list)
    server_properties: dict[str, str] = field(default_factory=lambda: {"ProductVersion": LAB_SQL_VERSION})
    # sys.dm_exec_sessions rows: the SQL Server sessions that exist (a crashed client's has gone), and whether the
    # login gpverify uses holds VIEW SERVER STATE (without it SQL Server shows a login only its own session).
    sql_sessions: list[dict[str, Any]] = field(default_factory=list)
    view_server_state: bool = True
    empty_databases: set[str] = field(default_factory=set)  # databases that exist with no table in them

    def host(self, name: str) -> FakeHost:
        for host in self.hosts.values():
            if host.name.lower() == name.lower():
                return host
        raise KeyError(f"the lab has no host {name!r}")


def session_host_site(host: FakeHost) -> FakeWebSite:
    """The session host's runtime service on HTTPS: by default healthy, serving clientaccesspolicy.xml."""
    if host.https is None:
        host.https = FakeWebSite(paths={CLIENT_ACCESS_POLICY})
    return host.https


# Each HTTPS endpoint's certificate sits in its machine's Personal store, where the web client's installation
# picks it (web-components/security-certificates-and-ssl.md, "Installing a security certificate on a server":
# Certificates (Local Computer) > Personal, on each session host; the IIS site's binding on the web server).
PERSONAL_STORE = "LocalMachine\\My"
LAB_CA_SUBJECT = "CN=gpverify lab CA"  # lab/wsman/tls.py make_ca, which issues the endpoints' certificates


def personal_certificate(site: FakeWebSite) -> FakeCert:
    """The certificate an endpoint presents, as its machine's Personal store lists it."""
    # To the hour: the same certificate from one lab start to the next within the hour (no drift between audits).
    expiry = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=site.cert_days_left)
    return FakeCert(f"CN={site.cert_names[0]}", LAB_CA_SUBJECT, expiry)


def _service(gp: Statement, key: str, host: str = "") -> FakeService:
    display = SERVICE_DISPLAY[key]
    if host in PREFIXED_HOSTS and not display.startswith("Microsoft Dynamics"):
        display = f"Microsoft Dynamics {display}"
    return FakeService(gp[f"services.{key}.name"], display)


def default_folder(gp: Statement) -> str:
    """The desktop client's default folder (the statement's files.dynamics_exe), expanded."""
    return expand(str(gp["files.dynamics_exe"])).rsplit("\\", 1)[0]


def release_folder(gp: Statement) -> str:
    r"""The folder a release's desktop client is installed in on the lab's session hosts.

    The previous release stays in the default folder ...\Microsoft Dynamics\GP; a major upgrade installs side by
    side (upgrade/installing-on-first-computer.md), so the target release has its own folder (the name is the lab's).
    """
    return f"{PROGRAM_FILES_X86}\\Microsoft Dynamics\\GP {gp.name.removeprefix('gp').upper()}"


def tenant_configuration(folder: str, heartbeat: str = "0.00:20:00", gp: Statement = COMMON) -> str:
    """The web server's TenantConfiguration.xml naming the session hosts' runtime. The element names are published
    (tenant-services-applications.md, managing-web-client-sessions.md); the root and nesting are the lab's."""
    exe, set_, ini, beat, log = (
        gp[f"tenant_configuration.{k}"] for k in ("dynamics_exe", "dynamics_set", "dex_ini", "heartbeat", "runtime_log")
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<TenantConfiguration>\n  <Tenant Name="DefaultTenant">\n'
        '    <Application Name="Microsoft Dynamics GP Web Client">\n'
        f"      <{exe}>{folder}\\</{exe}>\n"
        f"      <{set_}>{folder}\\Dynamics.set</{set_}>\n"
        f"      <{ini}>{folder}\\Data\\Dex.ini</{ini}>\n"
        "    </Application>\n  </Tenant>\n"
        f"  <{beat}>{heartbeat}</{beat}>\n  <{log}>false</{log}>\n"
        "</TenantConfiguration>\n"
    )


def _dex_path(path: str) -> str:
    return f":C:{path[2:]}".replace("\\", "/")  # Dexterity's generic path format (SystemAdminGuide.md)


def dynamics_set(folder: str, *, ansi: bool = False) -> str | bytes:
    """A Dynamics.set listing GP and the third-party product, with their dictionaries in this folder. The ANSI one
    (bytes in Windows-1252) has a second location block whose ISV dictionary is in a folder of its own."""
    gp = _dex_path(folder)
    block = [
        f"{gp}/Dynamics.dic",
        f"{gp}/Data/FORMS.DIC",
        f"{gp}/Data/REPORTS.DIC",
        f"{gp}/LABISV.DIC",
        f"{gp}/Data/F5597.DIC",
        f"{gp}/Data/R5597.DIC",
    ]
    lines = [
        "2",
        "0",
        "Microsoft Dynamics GP",
        str(THIRD_PARTY["PRODID"]),
        str(THIRD_PARTY["name"]),
        str(COMMON["dynamics_set.default_location"]),
        *block,
    ]
    if not ansi:
        return "\r\n".join([*lines, ""])
    second = [*block[:3], f"{gp}/{SECOND_LOCATION_FOLDER}/LABISV.DIC", *block[4:]]
    return "\r\n".join([*lines, SECOND_LOCATION, *second, ""]).encode("cp1252")


def dex_ini(location: str | None = None) -> str:
    """A desktop client's Dex.ini: the dictionary location ID it uses (Workstation2) and two logging settings
    (installation/SystemAdminGuide.md names both keys; the file's other lines are not published)."""
    key = COMMON["dex_ini.location_key"]
    return f"{key}={location or COMMON['dynamics_set.default_location']}\r\nSQLLogSQLStmt=FALSE\r\n"


def runtime_paths(folder: str) -> dict[str, str]:
    return {
        "dynamics_exe": f"{folder}\\Dynamics.exe",
        "dynamics_set": f"{folder}\\Dynamics.set",
        "dex_ini": f"{folder}\\Data\\Dex.ini",
    }


def _help(host: FakeHost, gp: Statement, version: str) -> None:
    """The web client help: its Programs and Features name is not public (the lab's own), its installer's is."""
    host.products[PRODUCT_NAMES["web_client_help"]] = version
    host.packages[PRODUCT_NAMES["web_client_help"]] = str(gp["help_installer"])


def _web_server(gp: Statement, web: str, runtime_folder: str) -> FakeHost:
    host = FakeHost("gp-web01", "web_server", {k: _service(gp, k) for k in ("session_central", "gp_service")})
    host.products = {PRODUCT_NAMES["web_components"]: web}
    _help(host, gp, web)
    host.texts = {expand(str(gp["files.tenant_configuration"])): tenant_configuration(runtime_folder, gp=gp)}
    host.files[expand(str(gp["files.configuration_wizard"]))] = f"{web}.0"
    return host


def _install_desktop(host: FakeHost, folder: str, version: str) -> None:
    for key, path in runtime_paths(folder).items():
        host.files[path] = f"{version}.0" if key == "dynamics_exe" else ""
    host.texts[f"{folder}\\Dynamics.set"] = dynamics_set(folder, ansi=host.name in ANSI_LAUNCH_HOSTS)
    host.texts[f"{folder}\\Data\\Dex.ini"] = dex_ini()
    for dictionary in ("Dynamics.dic", "LABISV.DIC"):  # the main dictionaries Dynamics.set names
        host.files[f"{folder}\\{dictionary}"] = ""


def add_dsn(host: FakeHost, name: str, server: str | None, *, keep_key: bool = False) -> None:
    """A 32-bit System DSN (HKLM\\SOFTWARE\\ODBC\\ODBC.INI\\<name>, 32-bit view) pointing at `server`; None removes
    it (`keep_key`: leaves the key with its Server and Driver values missing)."""
    path = f"{ODBC['path']}\\{name}"
    for key in [k for k in host.registry if k[0] == ODBC["view"] and k[1].lower() == path.lower()]:
        host.registry.pop(key)
    if server is None and keep_key:
        host.registry.update({(ODBC["view"], path, value): None for value in (ODBC["name"], "Driver")})
    if server is not None:
        host.registry[(ODBC["view"], path, ODBC["name"])] = server
        host.registry[(ODBC["view"], path, "Driver")] = str(COMMON["odbc.driver"])


def dsns(host: FakeHost) -> dict[str, str]:
    """The host's 32-bit System DSNs: name -> Server."""
    prefix = ODBC["path"].lower() + "\\"
    return {
        p[len(prefix) :]: str(v)
        for (view, p, n), v in host.registry.items()
        if view == ODBC["view"] and p.lower().startswith(prefix) and n == ODBC["name"] and v is not None
    }


def _session_host(
    name: str, source: Statement, target: Statement, web: str, config_db: str, sba: bool = True
) -> FakeHost:
    host = FakeHost(
        name, "session_host", {k: _service(target, k, name) for k in ("session_service", "dex_service_control")}
    )
    _install_desktop(host, default_folder(source), source.version)
    _install_desktop(host, release_folder(target), target.version)
    cfg = LAB_CONFIG_DB_SETTING
    host.registry = {(cfg["view"], cfg["path"], cfg["name"]): config_db}
    # The DSN the installer offers, with its default name (scenario pre-dsn-named-otherwise renames one: any name
    # works, installation/installing-on-first-computer.md); gp-sh02's administrator wrote the server in capitals.
    add_dsn(host, str(COMMON["odbc.default_dsn_name"]), LAB_SQL_SERVER if name == "gp-sh01" else LAB_SQL_SERVER.upper())
    if sba:  # the SBA's Dexterity Service of the target release (GPDS-<instance>-<major>)
        host.services["dexterity_service"] = FakeService(
            str(target["services.dexterity_service.name"]), str(target["services.dexterity_service.display"])
        )
    gp = GP_ENTRY.get(target.name, str(target["products.gp_desktop"]))
    host.products = {PRODUCT_NAMES["web_components"]: web, gp: target.version}
    _help(host, target, web)
    host.features = {gp: sorted(LAB_FEATURES.values())}
    host.feature_titles = {gp: dict(LAB_FEATURE_TITLES)}
    host.files[expand(str(target["files.configuration_wizard"]))] = f"{web}.0"
    return host


def _client(name: str, gp: Statement, era: Era) -> FakeHost:
    host = FakeHost(name, "client")
    if era == "silverlight":
        for key in ("silverlight_trust_64", "silverlight_trust_32"):
            reg = gp[f"registry.{key}"]
            host.registry[(reg["view"], reg["path"], reg["name"])] = 1
        host.certificates[gp["certificates.trusted_publisher_store"]] = [SIGNING_CERT]
    return host


def _tenant_server(gp: Statement, version: str) -> FakeHost:
    host = FakeHost(
        "gp-ten01", "tenant_services", {k: _service(gp, k) for k in ("tenant_discovery", "tenant_management")}
    )
    host.products = {PRODUCT_NAMES["tenant_services"]: version}
    return host


def _triple(version: str | tuple[int, int, int]) -> tuple[int, int, int]:
    major, minor, build = (int(x) for x in version.split(".")[:3]) if isinstance(version, str) else version
    return major, minor, build


def _version_row(
    db: str, version: str | tuple[int, int, int], prodid: int = 0, status: int = 0, started: datetime | None = None
) -> dict[str, Any]:
    """A finished DB_Upgrade row; GP Utilities stamps start_time and stop_time when it upgrades the database."""
    major, minor, build = _triple(version)
    start = started or datetime(2026, 11, 20, 22, 0)
    return {
        "db_name": db,
        "PRODID": prodid,
        "db_verMajor": major,
        "db_verMinor": minor,
        "db_verBuild": build,
        "db_verOldMajor": major,
        "db_verOldMinor": minor,
        "db_verOldBuild": build,
        "db_status": status,
        "start_time": start,
        "stop_time": start + timedelta(minutes=40),
    }


def _system_tables(version: str, system_db: str, started: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """DYNAMICS as GP Utilities leaves it: GP (PRODID 0) and a third-party product in every database."""
    isv = int(THIRD_PARTY["PRODID"])  # type: ignore[call-overload]
    isv_version = THIRD_PARTY["version"]
    companies = [{"CMPANYID": cid, "CMPNYNAM": name, "INTERID": inter} for cid, name, inter in COMPANIES]
    databases = [system_db] + [i for _, _, i in COMPANIES]
    products = [(0, _triple(version), "GP18"), (isv, _triple(isv_version), "LABISV")]  # type: ignore[arg-type]
    return {
        "SY01500": companies,
        "DB_Upgrade": [_version_row(db, v, prodid, started=started) for prodid, v, _ in products for db in databases],
        "DU000020": [
            {"companyID": c, "PRODID": prodid, "versionMajor": v[0], "versionMinor": v[1], "versionBuild": v[2]}
            for prodid, v, _ in products
            for c, _, _ in COMPANIES
        ],
        "DU000010": [
            {
                "PRODID": prodid,
                "fileNumber": n,
                "fileName": table,
                "fileOSName": table,
                "versionMajor": v[0],
                "versionMinor": v[1],
                "versionBuild": v[2],
                "CODENAME": code,
            }
            for prodid, v, code in products
            for n, table in (
                (1, "GL00100" if prodid == 0 else "LAB10100"),
                (2, "SY00100" if prodid == 0 else "LAB10200"),
            )
        ],
        # Status 15 is a finished conversion; Status 0 rows are tables left as they were. Neither is listed by
        # Microsoft's query (upgrade/company-data-conversion.md).
        "DU000030": [
            {
                "PRODID": prodid,
                "fileNumber": n,
                "companyID": c,
                "errornum": 0,
                "errordes": "",
                "Status": 15 if n == 1 else 0,
            }
            for prodid, _, _ in products
            for n in (1, 2)
            for c, _, _ in COMPANIES
        ],
        "ACTIVITY": [],
        "SY00800": [],
        "SY00801": [],
    }


# --- SQL Server state: backups, principals, version (GP-PRE-014 to GP-PRE-017) ---------------------------
LAB_SQL_VERSION = "15.0.4355.3"  # SQL Server 2019 CU: compatibility level 150, the lab's databases' level
LAB_WEB_CLIENT_LOGIN = "GPWebClient"  # the name an operator chose in "Manage Web Client SQL Server Login"


def lab_sid(name: str) -> str:
    """A stable SID for a lab principal, as the hex text the lab stores (SQL Server: varbinary(85))."""
    return "0x" + hashlib.sha1(name.encode()).hexdigest().upper()[:32]


def database_users() -> list[dict[str, Any]]:
    """The users GP Utilities leaves in the system and company databases: dbo, DYNGRP and the web client login's."""
    return [
        {"name": "dbo", "sid": "0x01", "type_desc": "SQL_USER"},
        {"name": "DYNGRP", "sid": lab_sid("role:DYNGRP"), "type_desc": "DATABASE_ROLE"},
        {"name": LAB_WEB_CLIENT_LOGIN, "sid": lab_sid(LAB_WEB_CLIENT_LOGIN), "type_desc": "SQL_USER"},
    ]


def server_logins() -> list[dict[str, Any]]:
    return [
        {"name": "sa", "sid": "0x01", "type_desc": "SQL_LOGIN"},
        {"name": "DYNSA", "sid": lab_sid("DYNSA"), "type_desc": "SQL_LOGIN"},
        {"name": LAB_WEB_CLIENT_LOGIN, "sid": lab_sid(LAB_WEB_CLIENT_LOGIN), "type_desc": "SQL_LOGIN"},
    ]


def full_backups(databases: list[str], finished: datetime) -> list[dict[str, Any]]:
    """backupset rows of a nightly job that ran at `finished` (UTC, time_zone 0): a full backup of each database,
    an older full one and log backups, which do not count as complete backups."""
    rows = []
    for db in databases:
        rows += [
            {"database_name": db, "type": "D", "backup_finish_date": finished, "time_zone": 0},
            {"database_name": db, "type": "D", "backup_finish_date": finished - timedelta(days=7), "time_zone": 0},
            {"database_name": db, "type": "L", "backup_finish_date": finished + timedelta(hours=1), "time_zone": 0},
        ]
    return rows


def host_registry(hosts: list[str], status: datetime | None = None) -> list[dict[str, Any]]:
    """Session Central's session hosts, each as its Session Service last reported (the lab's own table)."""
    recent = status or (datetime.now(UTC) - timedelta(minutes=1)).replace(tzinfo=None)  # they report often
    return [{"MachineName": f"{n}.lab.invalid", "IsSuspended": 0, "LastStatusUtc": recent} for n in hosts]


def config_tables(hosts: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The lab's configuration database. GP's real tables and columns are not public, so these are the lab's own
    and match no name the suite ships: like a real farm, it needs `gpverify discover` and overrides."""
    return {"LabSessionHostRegistry": host_registry(hosts), "LabWebSession": []}


def old_session_tables(hosts: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The GP 2013-era Session Central database (the lab's own tables): its hosts and sessions, which the web
    server's configuration wizard migrates into the new database (scale-out-upgrade.md step 5)."""
    return {"LabSessionCentralHost": host_registry(hosts), "LabSessionCentralSession": []}


def sql_sessions() -> list[dict[str, Any]]:
    """sys.dm_exec_sessions of an idle server: SQL Server's own sessions and the one gpverify reads through."""
    started = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(days=3)
    system = [
        {
            "session_id": n,
            "login_name": "sa",
            "host_name": "",
            "program_name": "",
            "is_user_process": 0,
            "login_time": started,
        }
        for n in range(1, 5)
    ]
    return [
        *system,
        {
            "session_id": 55,
            "login_name": "LAB\\gpverify",
            "host_name": "gpverify-lab",
            "program_name": "gpverify",
            "is_user_process": 1,
            "login_time": started + timedelta(days=3),
        },
    ]


def extra_client_names(count: int) -> list[str]:
    """Names of the clients added for scale runs: gp-cl003, gp-cl004, ... (the fixed farm has gp-cl01, gp-cl02)."""
    return [f"gp-cl{i:03d}" for i in range(3, 3 + max(0, count))]


def add_clients(farm: FakeFarm, count: int) -> list[str]:
    """Add `count` healthy client machines to the farm (for benchmarks at fleet scale); returns their names."""
    names = extra_client_names(count)
    farm.hosts.update({n: _client(n, farm.target, farm.era) for n in names})
    return names


def build_farm(era: Era = "html", stage: Stage = "upgraded", *, extra_clients: int = 0) -> FakeFarm:
    """The lab farm of an era, just before the web client upgrade or fully upgraded.

    Before the upgrade the databases and desktop clients are already at the target release (the guide's first
    step: GP Utilities ran half an hour before the lab started, after the nightly full backups of two hours before),
    installed side by side with the previous release; the web components, and the tenant configuration's runtime
    paths, are still the previous release's. `extra_clients` adds client machines (gp-cl003, ...).
    """
    source, target = (statement(n) for n in ERAS[era])
    upgraded = stage == "upgraded"
    web = target.version if upgraded else source.version
    runtime_folder = release_folder(target) if upgraded else default_folder(source)
    config_db = str(target["sql.config_database"])
    session_hosts = ["gp-sh01", "gp-sh02"]
    old_sessions = str(source["sql.old_session_database"])
    # The database each host's wizard was given: before a GP 2013-era upgrade, the old session database.
    given = old_sessions if era == "silverlight" and not upgraded else config_db
    hosts = [_web_server(target, web, runtime_folder), _tenant_server(target, target.version)]
    hosts += [_session_host(n, source, target, web, given) for n in session_hosts]
    hosts += [_client(n, target, era) for n in ("gp-cl01", "gp-cl02")]
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    databases: dict[str, dict[str, list[dict[str, Any]]]] = {
        "DYNAMICS": _system_tables(target.version, "DYNAMICS", started=now - timedelta(minutes=30)),
        "tempdb": {"DEX_LOCK": [], "DEX_SESSION": []},
    }
    databases.update({inter: {"SY00100": [{"CMPANYID": cid, "DBNAME": inter}]} for cid, _, inter in COMPANIES})
    # GP 2013-era farms keep sessions in the Session Central database GPWEBCLIENTSESSIONCENTRAL; the web server
    # upgrade creates GPCONFIGURATION and migrates them (scale-out-upgrade.md), so before it only the old one exists,
    # and after it the old one stays on the server (nothing in the guide removes it).
    if era == "html" or upgraded:
        databases[config_db] = config_tables(session_hosts)
    if era == "silverlight":
        databases[old_sessions] = old_session_tables(session_hosts)
    databases[str(target["sql.tenant_discovery_database"])] = {"LabTenant": [{"TenantName": "DefaultTenant"}]}
    for name, tables in databases.items():
        if name == "DYNAMICS" or name in (i for _, _, i in COMPANIES):
            tables["database_principals"] = database_users()
    databases["msdb"] = {"backupset": full_backups([n for n in databases if n != "tempdb"], now - timedelta(hours=2))}
    farm = FakeFarm(era, stage, source, target, {h.name: h for h in hosts}, databases)
    farm.server_logins = server_logins()
    farm.sql_sessions = sql_sessions()
    farm.runtime = runtime_paths(runtime_folder)
    add_clients(farm, extra_clients)
    return farm
