"""The inventory: one GP farm described in YAML, validated before any check runs."""

from __future__ import annotations

import ipaddress
import os
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from gpverify.config.paths import MAX_PEM_BYTES, file_problem, history_problem
from gpverify.config.profiles import shipped_fact
from gpverify.config.schema import Schema, trimmed, validate
from gpverify.config.yamlfile import PATTERN_WORDS, YamlFloat, expected, read_yaml
from gpverify.errors import ConfigError

INVENTORY_ENV = "GPVERIFY_INVENTORY"
Role = Literal["web_server", "session_host", "client", "tenant_services"]
ROLE_GROUPS: dict[str, Role] = {
    "web_server": "web_server",
    "session_hosts": "session_host",
    "clients": "client",
    "tenant_services": "tenant_services",
}


class _Strict(Schema, BaseModel):  # BaseModel named for linters: Schema is one (config/schema.py)
    """The base of every gpverify file format: strict types, no unknown fields, no control characters."""


def _as_text(value: Any) -> Any:
    """A number where text is meant, as it was written: `profile: 18.4` is the text "18.4", not a float."""
    if isinstance(value, YamlFloat):
        return value.text
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (date, time)):  # `farm: 2026-11-29` names the farm by a date
        return value.isoformat()
    return value


# Host names the runner can also use in gate ids, file names and --host (letters, digits, - _ .).
HOST_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$"
PATTERN_WORDS[HOST_NAME] = "a host name: letters, digits, '-', '_' and '.', starting with a letter or digit"
_AS_TEXT = BeforeValidator(_as_text, json_schema_input_type=str | int | float)
Text = Annotated[str, _AS_TEXT]
HostName = Annotated[str, _AS_TEXT, Field(pattern=HOST_NAME)]  # 1 to 253 characters
# Seconds: finite (".inf" and ".nan" are YAML floats), positive, and short of what would overflow a timer.
# Strict: `read_timeout: true` is not one second.
Seconds = Annotated[float, Field(strict=True, gt=0, le=86400, allow_inf_nan=False)]
# Files an inventory names, resolved against the inventory's own folder when relative.
PATH_FIELDS = ("ca_bundle", "cert_pem", "cert_key_pem", "lab_dir")


def _pem_file(value: str | None) -> str | None:
    """A PEM file the transport will open: missing is said by `inventory check` and by the run; a named pipe,
    device or folder would block or fail deep in the TLS library, so it is refused here."""
    if not isinstance(value, str):
        return value  # not text: the type check after this says so
    problem = file_problem(value, "PEM file", MAX_PEM_BYTES, missing_ok=True)
    if problem:
        raise ValueError(problem)
    return value


PemFile = Annotated[str, BeforeValidator(_pem_file)]


def _check_ip(value: str) -> str:
    """An IP address a WinRM client can connect to (RFC 4291, RFC 6890): not unspecified, multicast or broadcast,
    and no IPv6 zone ID (%eth0), which no WinRM URL can carry."""
    address = ipaddress.ip_address(value)
    if "%" in value:
        raise ValueError(
            f"an address without a zone ID (a WinRM URL cannot carry %{value.split('%', 1)[1]}), got {value!r}"
        )
    if address.is_unspecified or address.is_multicast or str(address) == "255.255.255.255":
        what = "unspecified" if address.is_unspecified else "multicast" if address.is_multicast else "broadcast"
        raise ValueError(f"an address of one host (this {what} address can never be connected to), got {value!r}")
    return value


def _check_address(value: str | None) -> str | None:
    """A host name or an IP address to connect to: no scheme, port, path, query or fragment."""
    if value is None:
        return value
    try:
        ipaddress.ip_address(value)
    except ValueError:
        pass
    else:
        return _check_ip(value)
    if (
        not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?", value)
        or len(value) > 253
    ):
        raise ValueError(f"a host name or IP address only (no scheme, port, path or fragment), got {value!r}")
    return value


def _check_url(value: str | None) -> str | None:
    """An http(s) URL with a host: the web client's base address."""
    if value is None:
        return value
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(f"a URL such as https://gp.contoso.com, got {value!r}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"a URL with scheme https (or http) and a host, such as https://gp.contoso.com, got {value!r}")
    if parts.fragment or parts.query or parts.username or parts.password or port == 0:
        raise ValueError(f"a URL without user, query or fragment, such as https://gp.contoso.com, got {value!r}")
    _check_address(parts.hostname)
    return value


class WinRMSettings(_Strict):
    """WinRM connection settings; unset fields inherit from the group, then the inventory."""

    scheme: Literal["https", "http"] | None = None
    port: StrictInt | None = Field(None, ge=1, le=65535)  # strict: `port: true` is not port 1
    transport: Literal["ntlm", "kerberos", "credssp", "certificate", "basic"] | None = None
    cert_validation: bool | None = None
    ca_bundle: PemFile | None = None
    user: str | None = None
    password_env: str | None = None
    message_encryption: Literal["auto", "always", "never"] | None = None
    read_timeout: Seconds | None = None
    operation_timeout: Seconds | None = None
    # Reliability (issue 14): a host that accepts the connection and never answers ends within connect_timeout;
    # every host ends within deadline (connect, authenticate and collect together).
    connect_timeout: Seconds | None = None
    deadline: Seconds | None = None
    allow_basic_over_http: bool | None = None  # Basic sends the password in the clear over HTTP
    # Hardening (issue 6): client certificate auth, more password sources, explicit opt-out of encryption.
    cert_pem: PemFile | None = None  # client certificate (PEM) for transport: certificate
    cert_key_pem: PemFile | None = None  # its private key (PEM, unencrypted) for transport: certificate
    password_keyring: str | None = Field(None, pattern=r"^[^/]+/.+$")  # "service/user" in the OS keyring
    password_prompt: bool | None = None  # ask on the terminal (only when there is one)
    allow_unencrypted: bool | None = None  # permit message_encryption: never over plain HTTP (lab only)
    # The HTTP proxy to WinRM: "environment" (HTTP(S)_PROXY/NO_PROXY, the default), "none", or a proxy URL.
    # Resolved once per host and run, never per request.
    proxy: str | None = None
    # Which WinRM client talks to the host: lean (gpverify's own, the default where it can: NTLM or Basic, no proxy)
    # or pywinrm (the reference, and what Kerberos, CredSSP, certificates and proxies always use).
    client: Literal["lean", "pywinrm"] | None = None

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is None or value in ("environment", "none"):
            return value
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
        except ValueError:
            parts = parts._replace(netloc="")
        if "@" in parts.netloc:  # never echoed: it may hold a password
            raise ValueError(
                "a proxy URL without a user or password (those would be a secret in the inventory; "
                "let the proxy allow this machine, or use proxy: none)"
            )
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError(f"environment, none, or a proxy URL such as http://proxy.contoso.com:8080, got {value!r}")
        return value

    @model_validator(mode="after")
    def _timeouts(self) -> WinRMSettings:
        # pywinrm refuses a read timeout that is not longer than the WS-Man operation timeout.
        if self.read_timeout and self.operation_timeout and self.read_timeout <= self.operation_timeout:
            raise ValueError("a read_timeout longer than operation_timeout (pywinrm requires it)")
        if self.deadline and self.read_timeout and self.deadline < self.read_timeout:
            raise ValueError("a deadline at least as long as read_timeout (the deadline covers the whole host)")
        return self


WINRM_DEFAULTS = WinRMSettings(
    scheme="https",
    port=None,
    transport="ntlm",
    cert_validation=True,
    message_encryption="auto",
    read_timeout=60,
    operation_timeout=20,
    allow_basic_over_http=False,
    connect_timeout=10,
    deadline=300,
)


class HostEntry(_Strict):
    name: HostName
    address: str | None = None  # where to connect when it differs from the name (the lab uses 127.0.0.1)
    winrm: WinRMSettings = WinRMSettings()

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return _check_address(value)


class SessionHostEntry(HostEntry):
    # Where browsers reach the host's runtime service (web-components/web-client-operation.md; port 443 by default,
    # troubleshooting.md): the Runtime Service URL given at install, e.g. https://gpsh01.contoso.com:8443.
    https_url: str | None = None

    @field_validator("https_url")
    @classmethod
    def _https_root(cls, value: str | None) -> str | None:
        parts = urlsplit(value or "")
        try:
            parts.port  # noqa: B018 (raises ValueError for a port that is not a number from 0 to 65535)
        except ValueError:
            parts = parts._replace(netloc="")
        if value is not None and (
            parts.scheme != "https"
            or not parts.hostname
            or parts.path not in ("", "/")
            or parts.query
            or parts.fragment
        ):
            raise ValueError(
                f"an https:// URL of the host's runtime service with a host name and at most a port, "
                f"such as https://gpsh01.contoso.com:443, got {value!r}"
            )
        return value

    @property
    def runtime_url(self) -> str:
        """Base URL of the runtime service: https_url, default https://<name> (port 443)."""
        return (self.https_url or f"https://{self.name}").rstrip("/")


class WebServerEntry(HostEntry):
    url: str | None = None  # base URL of the web site, e.g. https://gp.contoso.com; default https://<name>
    ca_bundle: PemFile | None = None  # PEM file the site's certificate must chain to; default: system store

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_url(value)


class SqlSettings(_Strict):
    driver: str = "ODBC Driver 18 for SQL Server"
    server: str = Field(min_length=1)
    authentication: Literal["windows", "sql"] = "windows"
    user: str | None = None
    password_env: str | None = None
    password_keyring: str | None = Field(None, pattern=r"^[^/]+/.+$")  # "service/user" in the OS keyring
    password_prompt: bool | None = None  # ask on the terminal (only when there is one)
    system_database: str = Field(
        "DYNAMICS", min_length=1
    )  # named system databases exist (GP 2013 and later, docs/sources.md)
    config_database: str = Field(
        "GPCONFIGURATION", min_length=1
    )  # default name offered by the upgrade (scale-out-upgrade.md)
    encrypt: Literal["yes", "no", "strict", "mandatory", "optional"] = "yes"
    trust_server_certificate: bool = False
    host_name_in_certificate: str | None = None
    lab_dir: str | None = None  # set only by the simulated lab (with `lab:`): SQLite files standing in for SQL Server
    # The SQL login GP Utilities' "Manage Web Client SQL Server Login" created (its name is chosen at install,
    # upgrade/company-data-conversion.md); unset, the check that it is a user in every database is not verified.
    web_client_login: str | None = Field(None, min_length=1, max_length=128)

    @model_validator(mode="after")
    def _sql_login_needs_credentials(self) -> SqlSettings:
        if self.authentication == "sql" and not (
            self.user and (self.password_env or self.password_keyring or self.password_prompt)
        ):
            raise ValueError(
                "for SQL authentication both 'user' and 'password_env' (or 'password_keyring', "
                "or 'password_prompt: true')"
            )
        return self


def utc_time(value: Any) -> datetime:
    """A date or date-time as an aware UTC datetime (no zone given: UTC); ValueError or TypeError otherwise."""
    if isinstance(value, str):
        value = datetime.fromisoformat(trimmed(value))
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        raise TypeError(f"a date or date-time such as 2026-11-28T22:00:00Z, got {value!r}")
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-12:00 is past the last time Python can hold once in UTC
        raise ValueError(f"a date-time that exists in UTC (years 1 to 9999), got {value.isoformat()}") from None


class BackupSettings(_Strict):
    """When the last full backups must have finished: after `since`, else within the last `within_hours`."""

    since: datetime | None = None  # e.g. 2026-11-28T22:00:00Z (no zone: UTC); `gpverify upgrade` passes its start
    within_hours: float = Field(24, gt=0, le=24 * 366)

    @field_validator("since", mode="before")
    @classmethod
    def _a_time(cls, value: Any) -> datetime | None:
        if value is None:
            return None
        try:
            return utc_time(value)
        except (ValueError, TypeError) as exc:  # "2026-02-30" and "tomorrow" alike; a number is no date either
            raise ValueError(
                f"a date or date-time such as 2026-11-28T22:00:00Z, got {value!r} ({exc})"
                if "such as" not in str(exc)
                else str(exc)
            ) from None

    @model_validator(mode="after")
    def _one_bound(self) -> BackupSettings:
        if self.since is not None and "within_hours" in self.model_fields_set:
            raise ValueError("either 'since' or 'within_hours', not both")
        return self

    def bound(self, now: datetime | None = None) -> datetime:
        """The time the last full backups must have finished after."""
        return self.since or (now or datetime.now(UTC)) - timedelta(hours=self.within_hours)


class LabInfo(_Strict):
    """Present only in inventories written by the simulated lab."""

    scenario: str
    era: Literal["html", "silverlight"]


class ExtraService(_Strict):
    name: str | None = None  # the short name (a * makes it a pattern)
    display: str | None = None  # a display-name wildcard

    @model_validator(mode="after")
    def _some_name(self) -> ExtraService:
        if not (self.name or self.display):
            raise ValueError("a service needs a name or a display pattern")
        return self


class ExtraRegistry(_Strict):
    path: str = Field(min_length=1)  # under HKLM
    name: str = Field(min_length=1)
    view: Literal["32", "64"] = "64"


class ExtraFacts(_Strict):
    """Facts an administrator's own checks read, collected in the same one collector run per host."""

    services: dict[str, ExtraService] = {}
    files: dict[str, str] = {}
    registry: dict[str, ExtraRegistry] = {}
    products: dict[str, str] = {}  # a Programs and Features display-name wildcard
    texts: dict[str, str] = {}  # small text files, read whole (same size cap as the collector's own)


class Inventory(_Strict):
    farm: Text = Field(min_length=1, max_length=256)
    profile: Text
    sql: SqlSettings
    web_server: WebServerEntry
    session_hosts: list[SessionHostEntry] = Field(min_length=1)
    clients: list[HostEntry] = []
    tenant_services: HostEntry | None = None
    service_based_architecture: bool = False
    # A hotfix raises the build inside a release: the lowest build accepted (e.g. "18.4.1461"), default the profile's.
    target_build: str | None = None
    # The guide allows upgrading the web components first: "older versions of the Microsoft Dynamics GP runtime
    # can be used with the latest version of the web components" (scale-out-upgrade.md). When true, the database
    # and desktop-client checks report what is not at the target release as warnings.
    web_components_only: bool = False
    # How old a session host's "Last Status Update" in Session Management may be (its interval is not public).
    session_status_max_age_minutes: StrictInt = Field(15, ge=1, le=10080)
    certificate_expiry_days: StrictInt = Field(30, ge=0, le=3650)
    backups: BackupSettings = BackupSettings()  # the full backups the pre phase requires (GP-PRE-014)
    winrm: WinRMSettings = WinRMSettings()
    groups: dict[Literal["web_server", "session_hosts", "clients", "tenant_services"], WinRMSettings] = {}
    overrides: dict[str, Any] = {}
    # Custom checks' facts per role group, by key: `extra_facts: {session_hosts: {services: {econnect: {...}}}}`.
    extra_facts: dict[Literal["web_server", "session_hosts", "clients", "tenant_services"], ExtraFacts] = {}
    history: str | None = None  # audit history: postgresql://USER@HOST/DB or a SQLite file (gpverify.history)
    lab: LabInfo | None = None

    @field_validator("history")
    @classmethod
    def _history(cls, value: str | None) -> str | None:
        problem = None if value is None else history_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _lab_dir_only_in_a_lab(self) -> Inventory:
        # SQLite files standing in for SQL Server make a lab run: one whose reports say SIMULATED LAB. In an
        # inventory without `lab:` the checks would read local files and report them as the real farm's.
        if self.sql.lab_dir is not None and self.lab is None:
            raise ValueError(
                "no sql.lab_dir in the inventory of a real farm (lab_dir is the simulated lab's: "
                "its SQLite files would be reported as this farm's SQL Server)"
            )
        return self

    @model_validator(mode="after")
    def _extra_facts_add_only(self) -> Inventory:
        for group, extra in self.extra_facts.items():
            for section in ("services", "files", "registry", "products", "texts"):
                for key in getattr(extra, section):
                    shipped = shipped_fact(section, key)
                    if shipped:
                        raise ValueError(
                            f"extra facts that add to the shipped ones, but extra_facts.{group}."
                            f"{section}.{key} would replace the shipped fact {shipped}: give it a "
                            f"name of its own (e.g. site_{key})"
                        )
        return self

    @field_validator("target_build")
    @classmethod
    def _gp_version(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{1,3}\.\d{1,3}\.\d{1,5}(\.\d{1,5})?", str(value).strip()):
            raise ValueError(f"a GP version major.minor.build such as 18.4.1461, got {value!r}")
        return value

    @field_validator("session_hosts", "clients")
    @classmethod
    def _unique_in_list(cls, hosts: list[HostEntry]) -> list[HostEntry]:
        _reject_duplicates([h.name for h in hosts])
        return hosts

    @model_validator(mode="after")
    def _unique_hosts(self) -> Inventory:
        _reject_duplicates([h.name for h in self.hosts_entries()])
        return self

    def hosts_entries(self) -> list[HostEntry]:
        single = [self.web_server] + ([self.tenant_services] if self.tenant_services else [])
        return single + self.session_hosts + self.clients


def _reject_duplicates(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name.lower() in seen:
            raise ValueError(f"each host name once, but {name!r} appears twice")
        seen.add(name.lower())


@dataclass(frozen=True)
class HostSpec:
    """A host to collect facts from, with its WinRM settings fully resolved."""

    name: str
    role: Role
    address: str
    winrm: WinRMSettings

    @property
    def endpoint(self) -> str:
        port = self.winrm.port or (5986 if self.winrm.scheme == "https" else 5985)
        host = f"[{self.address}]" if ":" in self.address else self.address  # an IPv6 address (RFC 3986 3.2.2)
        return f"{self.winrm.scheme}://{host}:{port}/wsman"


def _layer(*settings: WinRMSettings) -> WinRMSettings:
    merged: dict[str, Any] = {}
    for layer in settings:
        merged.update(layer.model_dump(exclude_none=True))
    return WinRMSettings(**merged)


def host_specs(inv: Inventory, origin: str = "inventory") -> list[HostSpec]:
    """Every host of the farm with inherited WinRM settings applied (defaults < inventory < group < host)."""
    specs = []
    for group, role in ROLE_GROUPS.items():
        entries = getattr(inv, group)
        for entry in entries if isinstance(entries, list) else [entries] if entries else []:
            group_settings = inv.groups.get(group, WinRMSettings())  # type: ignore[call-overload]
            try:
                settings = _layer(WINRM_DEFAULTS, inv.winrm, group_settings, entry.winrm)
            except ValidationError as exc:  # each level valid, the merge not (e.g. timeouts from two levels)
                raise ConfigError(origin, f"{entry.name}.winrm", expected(exc.errors()[0])) from None
            specs.append(HostSpec(entry.name, role, entry.address or entry.name, settings))
    return specs


def _field_names() -> set[str]:
    names: set[str] = set()
    for model in (Inventory, WinRMSettings, HostEntry, WebServerEntry, SqlSettings, LabInfo):
        names |= set(model.model_fields)
    return names | set(ROLE_GROUPS)


def parse_inventory(data: Any, origin: str) -> Inventory:
    """Validate parsed YAML; raise ConfigError naming the file, field and what was expected."""
    return validate(Inventory, data, origin, known=_field_names(), what="a mapping of inventory fields")


def _home(path: Path) -> Path:
    """~ and ~user expanded; a ~name that is no user of this machine stays as written (then: no such file)."""
    try:
        return path.expanduser()
    except RuntimeError:
        return path


def resolve_paths(data: Any, base: Path) -> Any:
    """The same data with every relative file path (ca_bundle, cert_pem, ...) made relative to `base`."""
    if isinstance(data, list):
        return [resolve_paths(item, base) for item in data]
    if not isinstance(data, dict):
        return data
    out: dict[Any, Any] = {}
    for key, value in data.items():
        if key in PATH_FIELDS and isinstance(value, str) and value.strip():
            path = _home(Path(value))
            out[key] = str(path if path.is_absolute() else base / path)
        else:
            out[key] = resolve_paths(value, base)
    return out


def load_inventory(path: str | os.PathLike[str]) -> Inventory:
    """Read and validate an inventory file; relative paths in it are relative to the file's folder."""
    data = read_yaml(path, "inventory file")
    return parse_inventory(resolve_paths(data, Path(path).resolve().parent), str(path))
