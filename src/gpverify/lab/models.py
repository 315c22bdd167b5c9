"""Lab state: the simulated farm's hosts and databases, built from the profiles and changed by scenarios."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from gpverify.config.inventory import Role
from gpverify.config.profiles import Profile, load_profile

Era = Literal["html", "silverlight"]
Stage = Literal["before-upgrade", "upgraded"]
# (source release, target release) of each lab era: an HTML-era 18.x upgrade, a Silverlight-era one.
ERAS: dict[Era, tuple[str, str]] = {"html": ("gp18.3", "gp18.4"), "silverlight": ("gp2013r2", "gp2015r2")}
COMPANIES = [(1, "Fabrikam, Inc.", "TWO"), (2, "Contoso Ltd.", "CONTO")]
LAB_DOMAIN, LAB_USER = "LAB", "gpadmin"
HOST_FAULTS = ("unreachable", "name-unresolvable", "bad-password", "slow", "timeout", "reset",
               "malformed-json", "truncated", "clixml-error", "unencrypted-refused",
               "tls-wrong-name", "tls-self-signed",  # tls-*: HTTPS listener with a bad certificate (hardening)
               "http-200-html", "bad-negotiate", "huge-body", "trickle",  # hostile endpoints (issue 14)
               "anonymous-first")  # wants an anonymous request before the up-front Negotiate token (issue 15)

# Display names: Microsoft's documents write "GP Session Central Service" and "GP Session Services"
# (web-components/tenant-services-installation.md); installed names may carry "Microsoft Dynamics" in front. The
# lab uses both forms (gp-sh02 and the web server without, gp-sh01 with), so a check must match either.
SERVICE_DISPLAY = {
    "session_central": "GP Session Central Service",
    "session_service": "GP Session Services",
    "gp_service": "Microsoft Dynamics GP Service",
    "dex_service_control": "Microsoft Dynamics GP Dex Service Control",
    "tenant_discovery": "Microsoft Dynamics GP Tenant Discovery Service",
    "tenant_management": "Microsoft Dynamics GP Tenant Management Service",
}
PREFIXED_HOSTS = ("gp-sh01",)
PRODUCT_NAMES = {
    "web_components": "Microsoft Dynamics GP Web Components",
    "web_client_help": "Microsoft Dynamics GP Web Client Help",
    "tenant_services": "Microsoft Dynamics GP Tenant Services",
}
# The GP entry's Programs and Features name per release, and its Windows Installer features. The real feature
# names are not public, so the lab's are its own (the profiles ship them as unknown: see features.*).
GP_ENTRY = {"gp18.3": "Microsoft Dynamics GP 2018", "gp18.4": "Microsoft Dynamics GP 2018",
            "gp18.5": "Microsoft Dynamics GP 2018", "gp2013r2": "Microsoft Dynamics GP 2013",
            "gp2015r2": "Microsoft Dynamics GP 2015", "gp2016r2": "Microsoft Dynamics GP 2016"}
LAB_FEATURES = {"core": "LabDynamicsGP", "web_client_runtime": "LabWebClientRuntime",
                "service_based_architecture": "LabServiceBasedArchitecture"}
# Where the lab's session hosts keep the configuration database's name: not public for GP (profile
# registry.web_components_config_db is unknown), so this key is the lab's own.
LAB_CONFIG_DB_SETTING = {"path": "SOFTWARE\\Microsoft Dynamics\\GP Web Components\\LabSessionService",
                         "name": "ConfigurationDatabase", "view": "64"}
# A third-party product installed beside GP (its own PRODID and version numbering), as real farms have.
THIRD_PARTY = {"PRODID": 5597, "name": "Lab ISV Payables Extensions", "version": (18, 0, 212)}
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
SIGNING_CERT = FakeCert("CN=Microsoft Corporation, O=Microsoft Corporation", "CN=Microsoft Code Signing PCA",
                        datetime(2030, 6, 30, tzinfo=UTC))


# What an operator sets under overrides after `gpverify discover` on the lab: the lab's own names for what GP
# does not publish (configuration database tables and columns, the session host setting, the certificate, the
# Windows Installer features). A scenario with `discovered: true` carries them in its inventory.
LAB_DISCOVERED: dict[str, Any] = {
    "config_db.session_hosts_table": "LabSessionHostRegistry", "config_db.session_host_name_column": "MachineName",
    "config_db.session_host_suspended_column": "IsSuspended",
    "config_db.session_host_status_time_column": "LastStatusUtc",
    "config_db.sessions_table": "LabWebSession", "config_db.session_id_column": "SessionKey",
    "config_db.session_host_column": "MachineName", "config_db.session_user_column": "UserName",
    "old_session_db.sessions_table": "LabSessionCentralSession", "old_session_db.session_id_column": "SessionKey",
    "old_session_db.session_user_column": "UserName",
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
    features: dict[str, list[str]] = field(default_factory=dict)  # product name -> installed features
    texts: dict[str, str | bytes | None] = field(default_factory=dict)  # expanded path -> file content
    latency: float = 0.0  # seconds this host waits before each answer (on top of the lab's own)
    stderr_progress: bool = False  # the collector also writes CLIXML progress records to stderr, exit 0
    # Seconds a real Windows host spends on every command before it runs: WinRM starts powershell.exe for each
    # (0.19 s to 0.6 s for Windows PowerShell 5.1, PowerShell/PowerShell#12843 and #4239). 0: answer at once.
    command_cost: float = 0.0
    certificates: dict[str, list[FakeCert]] = field(default_factory=dict)  # store -> certificates
    fault: str | None = None
    https: FakeWebSite | None = None  # a session host's runtime service; see session_host_site()


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
    source: Profile
    target: Profile
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


def _service(profile: Profile, key: str, host: str = "") -> FakeService:
    display = SERVICE_DISPLAY[key]
    if host in PREFIXED_HOSTS and not display.startswith("Microsoft Dynamics"):
        display = f"Microsoft Dynamics {display}"
    return FakeService(profile[f"services.{key}.name"], display)


def release_folder(profile: Profile) -> str:
    r"""The folder a release's desktop client is installed in on the lab's session hosts.

    The previous release stays in the profile's default folder ...\Microsoft Dynamics\GP; a major upgrade
    installs side by side (upgrade/installing-on-first-computer.md), so the target release has its own folder.
    """
    return f"{PROGRAM_FILES_X86}\\Microsoft Dynamics\\GP {profile.name.removeprefix('gp').upper()}"


def tenant_configuration(folder: str, heartbeat: str = "0.00:20:00") -> str:
    """The web server's TenantConfiguration.xml naming the session hosts' runtime (element layout: the lab's)."""
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<TenantConfiguration>\n  <Tenant Name=\"DefaultTenant\">\n"
            "    <Application Name=\"Microsoft Dynamics GP Web Client\">\n"
            f"      <DynamicsexeLocation>{folder}\\</DynamicsexeLocation>\n"
            f"      <DynamicssetLocation>{folder}\\Dynamics.set</DynamicssetLocation>\n"
            f"      <DexiniLocation>{folder}\\Data\\Dex.ini</DexiniLocation>\n"
            "    </Application>\n  </Tenant>\n"
            f"  <HeartbeatTimeout>{heartbeat}</HeartbeatTimeout>\n  <RuntimeLogEnabled>false</RuntimeLogEnabled>\n"
            "</TenantConfiguration>\n")


def dynamics_set(folder: str) -> str:
    """A Dynamics.set listing GP and the third-party product, with their dictionaries in this folder."""
    gp = f":C:{folder[2:]}".replace("\\", "/")
    return "\r\n".join([
        "2", "0", "Microsoft Dynamics GP", str(THIRD_PARTY["PRODID"]), str(THIRD_PARTY["name"]), "Windows",
        f"{gp}/Dynamics.dic", f"{gp}/Data/FORMS.DIC", f"{gp}/Data/REPORTS.DIC",
        f"{gp}/LABISV.DIC", f"{gp}/Data/F5597.DIC", f"{gp}/Data/R5597.DIC", ""])


def runtime_paths(folder: str) -> dict[str, str]:
    return {"dynamics_exe": f"{folder}\\Dynamics.exe", "dynamics_set": f"{folder}\\Dynamics.set",
            "dex_ini": f"{folder}\\Data\\Dex.ini"}


def _web_server(p: Profile, web: str, runtime_folder: str) -> FakeHost:
    host = FakeHost("gp-web01", "web_server", {k: _service(p, k) for k in ("session_central", "gp_service")})
    host.products = {PRODUCT_NAMES["web_components"]: web, PRODUCT_NAMES["web_client_help"]: web}
    host.texts = {expand(p["files.tenant_configuration"]): tenant_configuration(runtime_folder)}
    return host


def _install_desktop(host: FakeHost, folder: str, version: str) -> None:
    for key, path in runtime_paths(folder).items():
        host.files[path] = f"{version}.0" if key == "dynamics_exe" else ""
    host.texts[f"{folder}\\Dynamics.set"] = dynamics_set(folder)
    for dictionary in ("Dynamics.dic", "LABISV.DIC"):  # the main dictionaries Dynamics.set names
        host.files[f"{folder}\\{dictionary}"] = ""


def _session_host(name: str, source: Profile, target: Profile, web: str, config_db: str, sba: bool = True) -> FakeHost:
    host = FakeHost(name, "session_host", {k: _service(target, k, name) for k in ("session_service", "dex_service_control")})
    _install_desktop(host, expand(str(source["files.dynamics_exe"])).rsplit("\\", 1)[0], source.version)
    _install_desktop(host, release_folder(target), target.version)
    dsn, cfg = target["registry.odbc_dsn"], LAB_CONFIG_DB_SETTING
    host.registry = {
        (dsn["view"], dsn["path"], dsn["name"]): "SQL Server Native Client 11.0",
        (cfg["view"], cfg["path"], cfg["name"]): config_db,
    }
    if sba:  # the SBA's Dexterity Service of the target release (GPDS-<instance>-<major>)
        host.services["dexterity_service"] = FakeService(f"GPDS-DEFAULT-{target.version.split('.')[0]}",
                                                         f"GPDS-DEFAULT-{target.version.split('.')[0]}")
    gp = GP_ENTRY.get(target.name, "Microsoft Dynamics GP")
    host.products = {PRODUCT_NAMES["web_components"]: web, PRODUCT_NAMES["web_client_help"]: web, gp: target.version}
    host.features = {gp: sorted(LAB_FEATURES.values())}
    return host


def _client(name: str, p: Profile, era: Era) -> FakeHost:
    host = FakeHost(name, "client")
    if era == "silverlight":
        for key in ("silverlight_trust_64", "silverlight_trust_32"):
            reg = p[f"registry.{key}"]
            host.registry[(reg["view"], reg["path"], reg["name"])] = 1
        host.certificates[p["certificates.trusted_publisher_store"]] = [SIGNING_CERT]
    return host


def _tenant_server(p: Profile, version: str) -> FakeHost:
    host = FakeHost("gp-ten01", "tenant_services", {k: _service(p, k) for k in ("tenant_discovery", "tenant_management")})
    host.products = {PRODUCT_NAMES["tenant_services"]: version}
    return host


def _triple(version: str | tuple[int, int, int]) -> tuple[int, int, int]:
    major, minor, build = (int(x) for x in version.split(".")[:3]) if isinstance(version, str) else version
    return major, minor, build


def _version_row(db: str, version: str | tuple[int, int, int], prodid: int = 0, status: int = 0) -> dict[str, Any]:
    major, minor, build = _triple(version)
    return {"db_name": db, "PRODID": prodid, "db_verMajor": major, "db_verMinor": minor, "db_verBuild": build,
            "db_verOldMajor": major, "db_verOldMinor": minor, "db_verOldBuild": build, "db_status": status,
            "start_time": "2026-11-20 22:00:00", "stop_time": "2026-11-20 22:40:00"}


def _system_tables(version: str, system_db: str) -> dict[str, list[dict[str, Any]]]:
    """DYNAMICS as GP Utilities leaves it: GP (PRODID 0) and a third-party product in every database."""
    isv = int(THIRD_PARTY["PRODID"])  # type: ignore[call-overload]
    isv_version = THIRD_PARTY["version"]
    companies = [{"CMPANYID": cid, "CMPNYNAM": name, "INTERID": inter} for cid, name, inter in COMPANIES]
    databases = [system_db] + [i for _, _, i in COMPANIES]
    products = [(0, _triple(version), "GP18"), (isv, _triple(isv_version), "LABISV")]  # type: ignore[arg-type]
    return {
        "SY01500": companies,
        "DB_Upgrade": [_version_row(db, v, prodid) for prodid, v, _ in products for db in databases],
        "DU000020": [{"companyID": c, "PRODID": prodid, "versionMajor": v[0], "versionMinor": v[1], "versionBuild": v[2]}
                     for prodid, v, _ in products for c, _, _ in COMPANIES],
        "DU000010": [{"PRODID": prodid, "fileNumber": n, "fileName": table, "fileOSName": table,
                      "versionMajor": v[0], "versionMinor": v[1], "versionBuild": v[2], "CODENAME": code}
                     for prodid, v, code in products for n, table in ((1, "GL00100" if prodid == 0 else "LAB10100"),
                                                                      (2, "SY00100" if prodid == 0 else "LAB10200"))],
        # Status 15 is a finished conversion; Status 0 rows are tables left as they were. Neither is listed by
        # Microsoft's query (upgrade/company-data-conversion.md).
        "DU000030": [{"PRODID": prodid, "fileNumber": n, "companyID": c, "errornum": 0, "errordes": "",
                      "Status": 15 if n == 1 else 0}
                     for prodid, _, _ in products for n in (1, 2) for c, _, _ in COMPANIES],
        "ACTIVITY": [], "SY00800": [], "SY00801": [],
    }


# --- SQL Server state: backups, principals, version (GP-PRE-014 to GP-PRE-017) ---------------------------
LAB_SQL_VERSION = "15.0.4355.3"  # SQL Server 2019 CU: compatibility level 150, the lab's databases' level
LAB_WEB_CLIENT_LOGIN = "GPWebClient"  # the name an operator chose in "Manage Web Client SQL Server Login"


def lab_sid(name: str) -> str:
    """A stable SID for a lab principal, as the hex text the lab stores (SQL Server: varbinary(85))."""
    return "0x" + hashlib.sha1(name.encode()).hexdigest().upper()[:32]


def database_users() -> list[dict[str, Any]]:
    """The users GP Utilities leaves in the system and company databases: dbo, DYNGRP and the web client login's."""
    return [{"name": "dbo", "sid": "0x01", "type_desc": "SQL_USER"},
            {"name": "DYNGRP", "sid": lab_sid("role:DYNGRP"), "type_desc": "DATABASE_ROLE"},
            {"name": LAB_WEB_CLIENT_LOGIN, "sid": lab_sid(LAB_WEB_CLIENT_LOGIN), "type_desc": "SQL_USER"}]


def server_logins() -> list[dict[str, Any]]:
    return [{"name": "sa", "sid": "0x01", "type_desc": "SQL_LOGIN"},
            {"name": "DYNSA", "sid": lab_sid("DYNSA"), "type_desc": "SQL_LOGIN"},
            {"name": LAB_WEB_CLIENT_LOGIN, "sid": lab_sid(LAB_WEB_CLIENT_LOGIN), "type_desc": "SQL_LOGIN"}]


def full_backups(databases: list[str], finished: datetime) -> list[dict[str, Any]]:
    """backupset rows of a nightly job that ran at `finished` (UTC, time_zone 0): a full backup of each database,
    an older full one and log backups, which do not count as complete backups."""
    rows = []
    for db in databases:
        rows += [{"database_name": db, "type": "D", "backup_finish_date": finished, "time_zone": 0},
                 {"database_name": db, "type": "D", "backup_finish_date": finished - timedelta(days=7), "time_zone": 0},
                 {"database_name": db, "type": "L", "backup_finish_date": finished + timedelta(hours=1), "time_zone": 0}]
    return rows


def config_tables(hosts: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The lab's configuration database. GP's real tables and columns are not public, so these are the lab's own
    and match no name the suite ships: like a real farm, it needs `gpverify discover` and overrides."""
    recent = (datetime.now(UTC) - timedelta(minutes=1)).replace(tzinfo=None)  # Session Services report often
    return {"LabSessionHostRegistry": [{"MachineName": f"{n}.lab.invalid", "IsSuspended": 0,
                                        "LastStatusUtc": recent} for n in hosts],
            "LabWebSession": []}


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
    step), installed side by side with the previous release; the web components, and the tenant configuration's
    runtime paths, are still the previous release's. `extra_clients` adds client machines (gp-cl003, ...).
    """
    source, target = (load_profile(n, origin="lab") for n in ERAS[era])
    upgraded = stage == "upgraded"
    web = target.version if upgraded else source.version
    runtime_folder = release_folder(target) if upgraded else expand(str(source["files.dynamics_exe"])).rsplit("\\", 1)[0]
    session_hosts = ["gp-sh01", "gp-sh02"]
    hosts = [_web_server(target, web, runtime_folder), _tenant_server(target, target.version)]
    hosts += [_session_host(n, source, target, web, "GPCONFIGURATION") for n in session_hosts]
    hosts += [_client(n, target, era) for n in ("gp-cl01", "gp-cl02")]
    databases: dict[str, dict[str, list[dict[str, Any]]]] = {
        "DYNAMICS": _system_tables(target.version, "DYNAMICS"),
        "tempdb": {"DEX_LOCK": [], "DEX_SESSION": []},
    }
    databases.update({inter: {"SY00100": [{"CMPANYID": cid, "DBNAME": inter}]} for cid, _, inter in COMPANIES})
    # GP 2013-era farms keep sessions in the Session Central database GPWEBCLIENTSESSIONCENTRAL; the web server
    # upgrade creates GPCONFIGURATION and migrates them (scale-out-upgrade.md), so before it only the old one exists.
    if era == "html" or upgraded:
        databases["GPCONFIGURATION"] = config_tables(session_hosts)
    else:
        databases[str(source["sql.old_session_database"])] = {"LabSessionCentralSession": []}
    databases[str(target["sql.tenant_discovery_database"])] = {"LabTenant": [{"TenantName": "DefaultTenant"}]}
    for name, tables in databases.items():
        if name == "DYNAMICS" or name in (i for _, _, i in COMPANIES):
            tables["database_principals"] = database_users()
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    databases["msdb"] = {"backupset": full_backups([n for n in databases if n != "tempdb"], now - timedelta(hours=2))}
    farm = FakeFarm(era, stage, source, target, {h.name: h for h in hosts}, databases)
    farm.server_logins = server_logins()
    farm.runtime = runtime_paths(runtime_folder)
    add_clients(farm, extra_clients)
    return farm
