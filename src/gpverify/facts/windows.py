"""Windows host facts: the collector request for each role and the typed answer it returns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from gpverify.config.inventory import Role
from gpverify.config.profiles import Profile
from gpverify.errors import HostUnavailable

COLLECTOR_SCRIPT = resources.files(__package__).joinpath("collector.ps1").read_text(encoding="ascii")
# Separates the script from its JSON request on stdin, as Ansible's bootstrap wrapper does.
STDIN_SEPARATOR = b"\0\0\0\0"
# The only thing on the command line: read stdin, split it, run the script with the request as an argument.
# The script travels through stdin because cmd.exe stops near 8 KB of command line (pywinrm#184).
BOOTSTRAP = (
    "$ErrorActionPreference = 'Stop'\n"
    '$parts = ($input | Out-String).Split([string[]]@("`0`0`0`0"), 2, [StringSplitOptions]::None)\n'
    "& ([ScriptBlock]::Create($parts[0])) -RequestJson $parts[1]\n"
)

ROLE_FACTS: dict[Role, dict[str, list[str]]] = {
    "web_server": {
        "services": ["session_central", "gp_service"],
        "files": ["configuration_wizard"],
        "products": ["web_components", "web_client_help"],
        "texts": ["tenant_configuration"],
        "session_central": ["session_central"],
        "events": ["dynamics"],
    },
    "session_host": {
        "services": ["session_service", "dex_service_control", "dexterity_service"],
        "files": ["dynamics_exe", "dex_ini", "dynamics_set", "configuration_wizard"],
        "file_search": ["dynamics_exe", "dex_ini"],
        "registry": ["web_components_config_db"],
        "registry_subkeys": ["odbc_dsn"],  # every 32-bit System DSN with its Server (GP-PRE-006)
        "products": ["web_components", "web_client_help", "gp_desktop"],
        # Dynamics.set's dictionaries, from the block Dex.ini's Workstation2 line picks (the collector reads both
        # files for this; nothing reads their whole text, so they are not sent back as texts too).
        "dictionaries": ["dynamics_set"],
    },
    "client": {
        "registry": ["silverlight_trust_64", "silverlight_trust_32"],
        "certificates": ["trusted_publisher_store"],
    },
    "tenant_services": {
        "services": ["tenant_discovery", "tenant_management"],
        "products": ["tenant_services"],
    },
}
SECTIONS = (
    "services",
    "files",
    "file_search",
    "registry",
    "registry_subkeys",
    "products",
    "certificates",
    "texts",
    "dictionaries",
    "session_central",
    "events",
)
# Text files are read whole (TenantConfiguration.xml, Dynamics.set); anything larger is refused by the collector.
TEXT_CAP_BYTES = 256 * 1024


@dataclass(frozen=True)
class RuntimePaths:
    """Where the web client's runtime is on the session hosts (TenantConfiguration.xml or the profile)."""

    dynamics_exe: str
    dynamics_set: str
    dex_ini: str
    origin: str  # said in every message that judges these paths
    known: bool = True  # False: defaults standing in for paths kept where gpverify cannot read them


def release_pattern(path: str) -> str:
    r"""...\Microsoft Dynamics\GP\Data\Dex.ini -> ...\Microsoft Dynamics\*\Data\Dex.ini: every release's copy.

    The folder after "Microsoft Dynamics" is the release's (GP, GP 2018, ...); for other paths, the file's folder.
    """
    parts = path.split("\\")
    at = next((i + 1 for i, part in enumerate(parts[:-1]) if part.lower() == "microsoft dynamics"), len(parts) - 2)
    return "\\".join([*parts[:at], "*", *parts[at + 1 :]])


# What one Session Central listing may bring back (objects per getter, properties per object, characters per
# value, getters run): enough for a farm's session hosts, scale groups and tenants, bounded whatever a module does.
SESSION_CENTRAL_BOUNDS = {"max_getters": 12, "max_objects": 500, "max_properties": 64, "max_value_chars": 256}
# The Dynamics event log read on the web server: errors of the last two weeks, the newest 20, 500 characters each.
EVENT_BOUNDS = {"hours": 336, "max_events": 20, "max_chars": 500}


def session_central_addresses(profile: Profile, host: str | None) -> list[str]:
    """Where Session Central answers: the inventory's address, else the web server's name on the profile's port
    and path, https first then http (HTTPS is optional and the scheme is the site's: managing-web-client-sessions.md;
    the docs' https:// came from a 2019 bulk edit of their URLs, sources-20-21 A2), unless the scheme is set."""
    given = profile.get("session_central.address")
    if given:
        return [str(given)]
    scheme = profile.get("session_central.scheme")
    schemes = [str(scheme)] if scheme else ["https", "http"]
    port, path = profile["session_central.port"], profile["session_central.path"]
    return [f"{s}://{host or 'localhost'}:{port}{path}" for s in schemes]


def _query(
    section: str, key: str, profile: Profile, runtime: RuntimePaths | None, host: str | None = None
) -> dict[str, Any] | None:
    if section == "session_central":
        return {
            "key": key,
            "addresses": session_central_addresses(profile, host),
            "module_path": profile.get("session_central.module_path"),
            **SESSION_CENTRAL_BOUNDS,
        }
    if section == "events":
        return {"key": key, "patterns": [profile["event_log.name_pattern"]], **EVENT_BOUNDS}
    if section == "services":
        # A name with a wildcard is a pattern (the SBA's Dexterity Service is GPDS-<instance>-<major>).
        name = str(profile[f"services.{key}.name"])
        names = {"name_patterns": [name]} if "*" in name else {"names": [name]}
        return {"key": key, **names, "display": [profile[f"services.{key}.display"]]}
    if section in ("files", "texts", "dictionaries", "file_search"):
        return _file_query(section, key, profile, runtime)
    value = profile[f"registry.{key}" if section == "registry_subkeys" else f"{section}.{key}"]
    if value is None:
        return None  # an identifier no public source confirms: the checks that need it report "not verified"
    if section in ("registry", "registry_subkeys"):
        return {"key": key, **value}
    if section == "products":
        # The web client help is also found by the .msi it was installed from: its file name is published
        # (help_installer), its Programs and Features name is not. The GP entry's features are asked by their titles
        # too: their IDs are not public (features.*).
        package = profile.get("help_installer") if key == "web_client_help" else None
        return {
            "key": key,
            "pattern": value,
            **({"package": package} if package else {}),
            **({"titles": True} if key == "gp_desktop" else {}),
        }
    return {"key": key, "store": value}


def _file_query(section: str, key: str, profile: Profile, runtime: RuntimePaths | None) -> dict[str, Any] | None:
    """A file, text or dictionary to read, or a file to search for in every release's folder."""
    if section == "file_search":
        # Every release's copy, so a desktop client installed side by side is found wherever it is
        # (upgrade/installing-on-first-computer.md: the previous release stays installed).
        paths = [str(profile[f"files.{key}"]), *([getattr(runtime, key)] if runtime else [])]
        return {"key": key, "patterns": sorted({release_pattern(p) for p in paths})}
    # The runtime's own paths where the tenant configuration gives them, else the profile's.
    path = getattr(runtime, key, None) or profile[f"files.{key}"]
    if path is None:
        return None
    query = {"key": key, "path": path, **({"max_bytes": TEXT_CAP_BYTES} if section != "files" else {})}
    if section == "dictionaries":  # the Dex.ini whose Workstation2 line picks the launch file's block
        query["dex_ini"] = getattr(runtime, "dex_ini", None) or profile["files.dex_ini"]
    return query


def build_request(
    role: Role, profile: Profile, runtime: RuntimePaths | None = None, extra: Any = None, host: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Everything a host of this role is asked, as JSON-ready data; `extra` (inventory ExtraFacts) adds the
    facts of an administrator's own checks to the same request; `host` is the inventory's name of the host."""
    wanted = ROLE_FACTS[role]
    request: dict[str, list[dict[str, Any]]] = {}
    for section in SECTIONS:
        queries = (_query(section, key, profile, runtime, host) for key in wanted.get(section, []))
        request[section] = [q for q in queries if q is not None]
    if extra is not None:
        for section, added in _extra_queries(extra).items():
            request[section] += added
    return request


def _extra_queries(extra: Any) -> dict[str, list[dict[str, Any]]]:
    """The inventory's extra_facts in the collector's request shapes."""
    services = []
    for key, spec in extra.services.items():
        name = spec.name or ""
        names = {"name_patterns": [name]} if "*" in name else {"names": [name] if name else []}
        services.append({"key": key, **names, "display": [spec.display] if spec.display else []})
    return {
        "services": services,
        "files": [{"key": k, "path": v} for k, v in extra.files.items()],
        "registry": [{"key": k, **spec.model_dump()} for k, spec in extra.registry.items()],
        "products": [{"key": k, "pattern": v} for k, v in extra.products.items()],
        "texts": [{"key": k, "path": v, "max_bytes": TEXT_CAP_BYTES} for k, v in extra.texts.items()],
    }


def collector_stdin(request: dict[str, Any]) -> bytes:
    """Script and request as sent on stdin; ASCII only, so no code page can garble it."""
    return COLLECTOR_SCRIPT.encode("ascii") + STDIN_SEPARATOR + json.dumps(request, ensure_ascii=True).encode()


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ServiceFact(_Fact):
    name: str
    display_name: str
    status: str
    start_mode: str = ""
    account: str = ""
    started: datetime | None = None  # when its process started (UTC); None when it is not running

    @property
    def is_running(self) -> bool:
        return self.status.lower() == "running"


class FileFact(_Fact):
    path: str
    exists: bool
    version: str | None = None


class RegistryFact(_Fact):
    key_exists: bool
    exists: bool
    value: Any = None


class ProductFact(_Fact):
    name: str
    version: str = ""
    package: str = ""  # the .msi it was installed from (Windows Installer ProductInfo PackageName), when asked
    features: list[str] = []  # Windows Installer features whose FeatureState is local or source (installed)
    # Every feature's Title by its ID, from the Feature table of the product's cached package (asked for the GP
    # entry only), or why it could not be read.
    titles: dict[str, str] = {}
    titles_error: str | None = None

    @field_validator("features", mode="before")
    @classmethod
    def _feature_list(cls, value: Any) -> Any:
        return _as_list(value)


class RegistrySubkeyFact(_Fact):
    """One subkey of a registry key, with the value the query names (None when the subkey has none)."""

    subkey: str
    value: Any = None


class TextFact(_Fact):
    """A small text file read whole: its text decoded (UTF-16, UTF-8 or Windows-1252), or why it could not be."""

    path: str
    exists: bool
    text: str | None = None
    problem: str | None = None  # empty, too large
    encoding: str | None = None  # utf-16 (byte-order mark), utf-8, or windows-1252 (bytes that are not UTF-8)


class DictionaryFact(_Fact):
    """A product Dynamics.set launches, and whether its main dictionary exists."""

    product: int
    name: str
    path: str
    exists: bool
    location: str = ""  # the dictionary location ID of the block read (Dex.ini's Workstation2, or the only one)


class CertificateFact(_Fact):
    subject: str
    issuer: str
    thumbprint: str
    not_after: datetime
    chain_ok: bool


class SessionCentralObject(_Fact):
    """One object a getter of GP's PowerShell module returned: its type name and every property (names not public)."""

    getter: str
    type: str = ""
    properties: dict[str, Any] = {}
    types: dict[str, str] = {}  # property -> .NET type of its value ("" for null)

    @field_validator("properties", "types", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        return value or {}


class GetterFact(_Fact):
    name: str
    count: int = 0
    truncated: bool = False
    error: str | None = None


class AddressAttempt(_Fact):
    address: str
    error: str


class SessionCentralFact(_Fact):
    """What Session Central listed through GP's PowerShell module on the web server (collector.ps1)."""

    installed: bool
    module: str = ""
    version: str = ""
    address: str | None = None  # the address that answered; None when none did (attempts say why)
    attempts: list[AddressAttempt] = []
    getters: list[GetterFact] = []
    skipped: list[str] = []  # getters that need a parameter, so they were not run
    objects: list[SessionCentralObject] = []

    @field_validator("attempts", "getters", "skipped", "objects", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)


class EventFact(_Fact):
    log: str = ""
    source: str = ""
    id: int = 0
    level: str = ""
    time: datetime
    message: str = ""


class EventLogFact(_Fact):
    """Errors in the Dynamics event log(s) of a host: which logs and sources matched, and their newest errors."""

    logs: list[str] = []
    providers: list[str] = []
    since: datetime | None = None
    events: list[EventFact] = []

    @field_validator("logs", "providers", "events", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)


class CollectorError(_Fact):
    section: str
    key: str
    message: str


def _as_list(value: Any) -> Any:
    # PowerShell 5.1 ConvertTo-Json turns one-element arrays into objects and empty ones into null.
    return [] if value is None else value if isinstance(value, list) else [value]


class HostFacts(_Fact):
    """What the collector found on one host."""

    computer: str = ""
    ps_version: str = ""  # $PSVersionTable.PSVersion of the shell that ran the collector
    services: dict[str, list[ServiceFact]] = {}
    files: dict[str, FileFact] = {}
    file_search: dict[str, list[FileFact]] = {}
    texts: dict[str, TextFact] = {}
    dictionaries: dict[str, list[DictionaryFact]] = {}
    registry: dict[str, RegistryFact] = {}
    registry_subkeys: dict[str, list[RegistrySubkeyFact]] = {}
    products: dict[str, list[ProductFact]] = {}
    certificates: dict[str, list[CertificateFact]] = {}
    session_central: dict[str, SessionCentralFact] = {}
    events: dict[str, EventLogFact] = {}
    errors: list[CollectorError] = []

    @field_validator(
        "services", "products", "certificates", "file_search", "dictionaries", "registry_subkeys", mode="before"
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return {k: _as_list(v) for k, v in (value or {}).items()}

    @field_validator("errors", mode="before")
    @classmethod
    def _errors(cls, value: Any) -> Any:
        return _as_list(value)


def parse_collector_output(host: str, stdout: bytes) -> HostFacts:
    """Turn the collector's stdout into HostFacts, or say plainly why it cannot be read."""
    text = stdout.decode("utf-8", errors="replace").strip()
    if not text:
        raise HostUnavailable(host, "the collector printed nothing")
    try:
        return HostFacts.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise HostUnavailable(host, f"malformed collector output (not JSON: {exc.msg} at char {exc.pos})") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HostUnavailable(host, f"malformed collector output ({where}: {first['msg']})") from None
