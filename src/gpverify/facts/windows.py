"""Windows host facts: the collector request for each role and the typed answer it returns."""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from gpverify.errors import HostUnavailable
from gpverify.inventory import Role
from gpverify.profiles import Profile

COLLECTOR_SCRIPT = resources.files(__package__).joinpath("collector.ps1").read_text(encoding="ascii")
# Separates the script from its JSON request on stdin, as Ansible's bootstrap wrapper does.
STDIN_SEPARATOR = b"\0\0\0\0"
# The only thing on the command line: read stdin, split it, run the script with the request as an argument.
# The script travels through stdin because cmd.exe stops near 8 KB of command line (pywinrm#184).
BOOTSTRAP = (
    "$ErrorActionPreference = 'Stop'\n"
    "$parts = ($input | Out-String).Split([string[]]@(\"`0`0`0`0\"), 2, [StringSplitOptions]::None)\n"
    "& ([ScriptBlock]::Create($parts[0])) -RequestJson $parts[1]\n"
)

ROLE_FACTS: dict[Role, dict[str, list[str]]] = {
    "web_server": {
        "services": ["session_central", "gp_service"],
        "products": ["web_components", "web_client_help"],
    },
    "session_host": {
        "services": ["session_service", "dex_service_control"],
        "files": ["dynamics_exe", "dex_ini"],
        "registry": ["odbc_dsn", "web_components_config_db"],
        "products": ["web_components", "web_client_help", "service_based_architecture"],
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


def _query(section: str, key: str, profile: Profile) -> dict[str, Any]:
    if section == "services":
        return {"key": key, "names": [profile[f"services.{key}.name"]], "display": [profile[f"services.{key}.display"]]}
    if section == "files":
        return {"key": key, "path": profile[f"files.{key}"]}
    if section == "registry":
        return {"key": key, **profile[f"registry.{key}"]}
    if section == "products":
        return {"key": key, "pattern": profile[f"products.{key}"]}
    return {"key": key, "store": profile[f"certificates.{key}"]}


def build_request(role: Role, profile: Profile) -> dict[str, list[dict[str, Any]]]:
    """Everything a host of this role is asked, as JSON-ready data."""
    wanted = ROLE_FACTS[role]
    sections = ("services", "files", "registry", "products", "certificates")
    return {s: [_query(s, key, profile) for key in wanted.get(s, [])] for s in sections}


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


class CertificateFact(_Fact):
    subject: str
    issuer: str
    thumbprint: str
    not_after: datetime
    chain_ok: bool


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
    registry: dict[str, RegistryFact] = {}
    products: dict[str, list[ProductFact]] = {}
    certificates: dict[str, list[CertificateFact]] = {}
    errors: list[CollectorError] = []

    @field_validator("services", "products", "certificates", mode="before")
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


def version_tuple(version: str | None) -> tuple[int, ...]:
    """'18.04.1361.0' -> (18, 4, 1361, 0); GP writes builds zero-padded (14.00.0725)."""
    parts = []
    for part in (version or "").strip().split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def same_build(found: str | None, expected: str) -> bool:
    """True when major.minor.build agree; file versions carry a fourth part that GP does not use."""
    want = version_tuple(expected)[:3]
    return bool(want) and version_tuple(found)[:3] == want
