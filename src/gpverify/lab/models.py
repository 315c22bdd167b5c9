"""Lab state: the simulated farm's hosts and databases, built from the profiles and changed by scenarios."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from gpverify.inventory import Role
from gpverify.profiles import Profile, load_profile

Era = Literal["html", "silverlight"]
Stage = Literal["before-upgrade", "upgraded"]
# (source release, target release) of each lab era: an HTML-era 18.x upgrade, a Silverlight-era one.
ERAS: dict[Era, tuple[str, str]] = {"html": ("gp18.3", "gp18.4"), "silverlight": ("gp2013r2", "gp2015r2")}
COMPANIES = [(1, "Fabrikam, Inc.", "TWO"), (2, "Contoso Ltd.", "CONTO")]
LAB_DOMAIN, LAB_USER = "LAB", "gpadmin"
HOST_FAULTS = ("unreachable", "name-unresolvable", "bad-password", "slow", "timeout", "reset",
               "malformed-json", "truncated", "clixml-error", "unencrypted-refused",
               "tls-wrong-name", "tls-self-signed",  # tls-*: HTTPS listener with a bad certificate (hardening)
               "http-200-html", "bad-negotiate", "huge-body", "trickle")  # hostile endpoints (issue 14)

# Display names the lab gives its services: Microsoft's doc names with the "Microsoft Dynamics GP" prefix
# real names carry (gp-facts.md caveat on names); they match the profile's display patterns.
SERVICE_DISPLAY = {
    "session_central": "Microsoft Dynamics GP Session Central Service",
    "session_service": "Microsoft Dynamics GP Session Service",
    "gp_service": "Microsoft Dynamics GP Service",
    "dex_service_control": "Microsoft Dynamics GP Dex Service Control",
    "tenant_discovery": "Microsoft Dynamics GP Tenant Discovery Service",
    "tenant_management": "Microsoft Dynamics GP Tenant Management Service",
}
PRODUCT_NAMES = {
    "web_components": "Microsoft Dynamics GP Web Components",
    "web_client_help": "Microsoft Dynamics GP Web Client Help",
    "tenant_services": "Microsoft Dynamics GP Tenant Services",
    "service_based_architecture": "Microsoft Dynamics GP Service Based Architecture",
}


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

    @property
    def thumbprint(self) -> str:
        return hashlib.sha1(f"{self.subject}|{self.not_after.isoformat()}".encode()).hexdigest().upper()


@dataclass
class FakeHost:
    """One simulated Windows machine, keyed the way the collector asks (paths, registry keys, names)."""

    name: str
    role: Role
    services: dict[str, FakeService] = field(default_factory=dict)  # profile key -> service
    files: dict[str, str | None] = field(default_factory=dict)  # path as the profile writes it -> version
    registry: dict[tuple[str, str, str], Any] = field(default_factory=dict)  # (view, key path, value name)
    products: dict[str, str] = field(default_factory=dict)  # Programs and Features name -> version
    certificates: dict[str, list[FakeCert]] = field(default_factory=dict)  # store -> certificates
    fault: str | None = None


@dataclass
class FakeWebSite:
    """The IIS site on the web server: which paths answer and the certificate it presents."""

    paths: set[str] = field(default_factory=lambda: {"/GP", "/WebManagementConsole"})
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

    def host(self, name: str) -> FakeHost:
        for host in self.hosts.values():
            if host.name.lower() == name.lower():
                return host
        raise KeyError(f"the lab has no host {name!r}")


def _service(profile: Profile, key: str) -> FakeService:
    return FakeService(profile[f"services.{key}.name"], SERVICE_DISPLAY[key])


def _web_server(p: Profile, web: str, sba: bool) -> FakeHost:
    host = FakeHost("gp-web01", "web_server", {k: _service(p, k) for k in ("session_central", "gp_service")})
    host.products = {PRODUCT_NAMES["web_components"]: web, PRODUCT_NAMES["web_client_help"]: web}
    if not sba:
        del host.services["gp_service"]
    return host


def _session_host(name: str, p: Profile, web: str, desktop: str, config_db: str) -> FakeHost:
    host = FakeHost(name, "session_host", {k: _service(p, k) for k in ("session_service", "dex_service_control")})
    host.files = {p["files.dynamics_exe"]: f"{desktop}.0", p["files.dex_ini"]: ""}
    dsn, cfg = p["registry.odbc_dsn"], p["registry.web_components_config_db"]
    host.registry = {
        (dsn["view"], dsn["path"], dsn["name"]): "SQL Server Native Client 11.0",
        (cfg["view"], cfg["path"], cfg["name"]): config_db,
    }
    host.products = {PRODUCT_NAMES["web_components"]: web, PRODUCT_NAMES["web_client_help"]: web,
                     PRODUCT_NAMES["service_based_architecture"]: desktop}
    return host


def _client(name: str, p: Profile, era: Era) -> FakeHost:
    host = FakeHost(name, "client")
    if era == "silverlight":
        for key in ("silverlight_trust_64", "silverlight_trust_32"):
            reg = p[f"registry.{key}"]
            host.registry[(reg["view"], reg["path"], reg["name"])] = 1
        expiry = datetime(2030, 6, 30, tzinfo=UTC)  # fixed, so the thumbprint is stable between runs
        cert = FakeCert("CN=Microsoft Corporation, O=Microsoft Corporation", "CN=Microsoft Code Signing PCA", expiry)
        host.certificates[p["certificates.trusted_publisher_store"]] = [cert]
    return host


def _tenant_server(p: Profile, version: str) -> FakeHost:
    host = FakeHost("gp-ten01", "tenant_services", {k: _service(p, k) for k in ("tenant_discovery", "tenant_management")})
    host.products = {PRODUCT_NAMES["tenant_services"]: version}
    return host


def _version_row(db: str, version: str, status: int = 0) -> dict[str, Any]:
    major, minor, build = (int(x) for x in version.split(".")[:3])
    return {"db_name": db, "PRODID": 0, "db_verMajor": major, "db_verMinor": minor, "db_verBuild": build,
            "db_verOldMajor": major, "db_verOldMinor": minor, "db_verOldBuild": build, "db_status": status,
            "start_time": "2026-11-20 22:00:00", "stop_time": "2026-11-20 22:40:00"}


def _system_tables(version: str, system_db: str) -> dict[str, list[dict[str, Any]]]:
    major, minor, build = (int(x) for x in version.split(".")[:3])
    companies = [{"CMPANYID": cid, "CMPNYNAM": name, "INTERID": inter} for cid, name, inter in COMPANIES]
    return {
        "SY01500": companies,
        "DB_Upgrade": [_version_row(system_db, version)] + [_version_row(i, version) for _, _, i in COMPANIES],
        "DU000020": [{"companyID": c, "PRODID": 0, "versionMajor": major, "versionMinor": minor, "versionBuild": build}
                     for c, _, _ in COMPANIES],
        "DU000010": [{"PRODID": 0, "fileNumber": 1, "fileName": "GL00100", "fileOSName": "GL00100",
                      "versionMajor": major, "versionMinor": minor, "versionBuild": build, "CODENAME": "GP18"}],
        "DU000030": [{"PRODID": 0, "fileNumber": 1, "companyID": c, "errornum": 0, "errordes": "", "Status": 15}
                     for c, _, _ in COMPANIES],
        "ACTIVITY": [], "SY00800": [], "SY00801": [],
    }


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

    `extra_clients` adds that many client machines (gp-cl003, ...) to the fixed six-host farm.
    """
    source, target = (load_profile(n, origin="lab") for n in ERAS[era])
    web = target.version if stage == "upgraded" else source.version
    hosts = [_web_server(target, web, sba=True), _tenant_server(target, target.version)]
    hosts += [_session_host(n, target, web, target.version, "GPCONFIGURATION") for n in ("gp-sh01", "gp-sh02")]
    hosts += [_client(n, target, era) for n in ("gp-cl01", "gp-cl02")]
    databases: dict[str, dict[str, list[dict[str, Any]]]] = {
        "DYNAMICS": _system_tables(target.version, "DYNAMICS"),
        "tempdb": {"DEX_LOCK": [], "DEX_SESSION": []},
    }
    databases.update({inter: {"SY00100": [{"CMPANYID": cid, "DBNAME": inter}]} for cid, _, inter in COMPANIES})
    # GP 2013-era farms keep sessions in the Session Central database; GPCONFIGURATION is created by the
    # web server upgrade (S1), so the Silverlight-era farm has it only once upgraded.
    if era == "html" or stage == "upgraded":
        databases["GPCONFIGURATION"] = {
            "SessionHosts": [{"HostName": n, "FullComputerName": f"{n}.lab.invalid", "Suspended": 0, "ScaleGroupId": 0}
                             for n in ("gp-sh01", "gp-sh02")],
            "Sessions": [],
        }
    farm = FakeFarm(era, stage, source, target, {h.name: h for h in hosts}, databases)
    add_clients(farm, extra_clients)
    return farm
