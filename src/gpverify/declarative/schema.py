"""The one format of a declarative check file (NAME.checks.yml): strict types, no unknown field, bounded values."""

from __future__ import annotations

import os
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, field_validator, model_validator

from gpverify.catalogue import Impact, Phase
from gpverify.config.schema import Schema
from gpverify.config.yamlfile import PATTERN_WORDS, YamlFloat, config_error, read_yaml
from gpverify.declarative import is_check_file
from gpverify.errors import ConfigError, UnsafeQuery
from gpverify.transport.sqlguard import check_read_only

DOCS = "README.md, 'Checks without Python'"
Role = Literal["web_server", "session_host", "sql", "client", "tenant_services"]
HOST_ROLES = ("web_server", "session_host", "client", "tenant_services")
KINDS = ("service", "product", "registry", "file", "certificate", "sql")
MAX_CHECKS = 500  # per file: a site's checks are tens, a file of thousands is a mistake
MAX_DAYS = 3650  # ten years: longer than any certificate a public CA issues

# IDs take any prefix but the shipped GP-, so a site's check never hides or shadows a shipped one.
CHECK_ID = r"^[A-Za-z][A-Za-z0-9]{0,15}(-[A-Za-z0-9]{1,16}){0,4}$"
PATTERN_WORDS[CHECK_ID] = "a check ID such as ACME-001: letters and digits in up to five parts joined by '-'"
VERSION = r"^\d{1,9}(\.\d{1,9}){0,3}$"
PATTERN_WORDS[VERSION] = "a version of one to four numbers joined by '.', such as 18.4.1461 (in quotes)"
# A Windows path the collector tests as it is written, after expanding %VARIABLES% (Test-Path -LiteralPath).
WINDOWS_PATH = r"^(%[A-Za-z0-9_()]{1,64}%|[A-Za-z]:\\|\\\\[^\\*?]+\\)[^*?\"<>|\r\n]*$"
PATTERN_WORDS[WINDOWS_PATH] = (
    r"a full Windows path without wildcards, such as 'C:\Program Files\...\x.exe' or "
    r"'%ProgramFiles%\...\x.exe' (in single quotes)"
)
# Certificate stores of the machine: a user's own store cannot be read through a remote shell.
STORE = r"^LocalMachine\\[A-Za-z][A-Za-z0-9 ]{0,63}$"
PATTERN_WORDS[STORE] = r"a machine certificate store such as 'LocalMachine\My' (in single quotes)"
THUMBPRINT = r"^[0-9A-Fa-f]{40}$"
PATTERN_WORDS[THUMBPRINT] = "a certificate thumbprint: 40 hexadecimal digits without spaces"
DATABASE = r"^[A-Za-z0-9_][A-Za-z0-9_$#@.-]{0,127}$"
PATTERN_WORDS[DATABASE] = "a database name: letters, digits and _ $ # @ . -"
WILDCARD = r"^[^\r\n]+$"
PATTERN_WORDS[WILDCARD] = "one line of text"


def _as_text(value: Any) -> Any:
    """A number written where text is meant (`min_version: 18.4`, `view: 32`) is the text it was written as."""
    if isinstance(value, YamlFloat):
        return value.text
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    return value


Text = Annotated[str, Field(min_length=1, max_length=200, pattern=WILDCARD)]
LongText = Annotated[str, Field(min_length=1, max_length=2000)]
Pattern = Annotated[str, Field(min_length=1, max_length=256, pattern=WILDCARD)]  # a -like wildcard: * and ?
Version = Annotated[str, BeforeValidator(_as_text), Field(pattern=VERSION)]
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]
Rows = Annotated[int, Field(ge=0, le=1_000_000)]


class _Strict(Schema, BaseModel):  # BaseModel named for linters: Schema is one (config/schema.py)
    """The check file format's base: strict types, no unknown fields, no control characters."""


def _check_versions(present: bool, min_version: str | None, version: str | None, word: str) -> None:
    if min_version and version:
        raise ValueError("min_version or version, not both")
    if not present and (min_version or version):
        raise ValueError(f"no version when {word} is false (nothing to compare)")


class ServiceSpec(_Strict):
    """A Windows service, by short name or display name (either may hold * wildcards), its state and start mode."""

    name: Pattern | None = None
    display: Pattern | None = None
    installed: bool = True
    state: Literal["Running", "Stopped", "Paused"] | None = None  # Win32_Service State
    start_mode: Literal["Auto", "Manual", "Disabled"] | None = None  # Win32_Service StartMode (delayed is Auto)

    @model_validator(mode="after")
    def _named(self) -> ServiceSpec:
        if not (self.name or self.display):
            raise ValueError("a service's name or display (its short or display name; * is a wildcard)")
        if not self.installed and (self.state or self.start_mode):
            raise ValueError("no state or start_mode when installed is false")
        return self


class ProductSpec(_Strict):
    """A Programs and Features entry by display name (wildcards), and its DisplayVersion: at least `min_version`,
    or exactly `version` (numbers compared, not text)."""

    name: Pattern
    installed: bool = True
    min_version: Version | None = None
    version: Version | None = None

    @model_validator(mode="after")
    def _versions(self) -> ProductSpec:
        _check_versions(self.installed, self.min_version, self.version, "installed")
        return self


class RegistrySpec(_Strict):
    """A value under HKEY_LOCAL_MACHINE: present, absent, or holding `value`."""

    path: Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[^*?\r\n]+$")]
    name: Annotated[str, Field(min_length=1, max_length=256, pattern=WILDCARD)]
    view: Annotated[Literal["64", "32"], BeforeValidator(_as_text)] = "64"
    exists: bool = True
    value: str | int | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _data(cls, value: Any) -> Any:
        """Text (REG_SZ) or a whole number (REG_DWORD); true/false is neither in the registry."""
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**64):
            return value
        if isinstance(value, str) and len(value) <= 2000:
            return value
        raise ValueError(f"the value's data: text (up to 2000 characters) or a whole number, got {value!r}")

    @field_validator("path")
    @classmethod
    def _under_hklm(cls, value: str) -> str:
        """HKLM\\ or HKEY_LOCAL_MACHINE\\ may be written; the collector opens the path under HKLM."""
        for prefix in ("HKEY_LOCAL_MACHINE\\", "HKLM:\\", "HKLM\\"):
            if value.upper().startswith(prefix):
                value = value[len(prefix) :]
        if not value.strip("\\") or value.upper().startswith(("HKEY_", "HKCU", "HKU")):
            raise ValueError(
                r"a key under HKEY_LOCAL_MACHINE, such as 'SOFTWARE\ODBC\ODBC.INI\Dynamics GP' "
                f"(other hives cannot be read for every user), got {value!r}"
            )
        return value.strip("\\")

    @model_validator(mode="after")
    def _consistent(self) -> RegistrySpec:
        if not self.exists and self.value is not None:
            raise ValueError("no value when exists is false")
        return self


class FileSpec(_Strict):
    """A file by full path (environment variables expanded on the host), and its file version."""

    path: Annotated[str, Field(min_length=4, max_length=1024, pattern=WINDOWS_PATH)]
    exists: bool = True
    min_version: Version | None = None
    version: Version | None = None

    @model_validator(mode="after")
    def _versions(self) -> FileSpec:
        _check_versions(self.exists, self.min_version, self.version, "exists")
        return self


class CertificateSpec(_Strict):
    """The newest certificate in a machine store matching subject (wildcards) or thumbprint: days it has left."""

    store: Annotated[str, Field(pattern=STORE)]
    subject: Pattern | None = None
    thumbprint: Annotated[str, Field(pattern=THUMBPRINT)] | None = None
    min_days_left: Days = 30
    trusted: bool = False  # its chain must build to a trusted root on the host

    @model_validator(mode="after")
    def _selected(self) -> CertificateSpec:
        if not (self.subject or self.thumbprint):
            raise ValueError("a certificate's subject (a wildcard such as 'CN=gp.contoso.com*') or thumbprint")
        return self


class SqlSpec(_Strict):
    """One read-only query and the number of rows it must return."""

    database: Annotated[str, Field(pattern=DATABASE)] | None = None  # default: the inventory's system database
    query: Annotated[str, Field(min_length=1, max_length=8000)]
    rows: Rows | None = None
    min_rows: Rows | None = None
    max_rows: Rows | None = None

    @field_validator("query")
    @classmethod
    def _read_only(cls, value: str) -> str:
        # Refused when the file is read, before any run: the same guard every shipped query passes.
        try:
            check_read_only(value, source="query")
        except UnsafeQuery as exc:
            raise ValueError(f"a read-only SELECT query; this one {exc.reason}") from None
        return value

    @model_validator(mode="after")
    def _counted(self) -> SqlSpec:
        if self.rows is None and self.min_rows is None and self.max_rows is None:
            raise ValueError("the rows the query must return: rows, min_rows or max_rows")
        if self.rows is not None and (self.min_rows is not None or self.max_rows is not None):
            raise ValueError("rows, or min_rows and max_rows, not both")
        if self.min_rows is not None and self.max_rows is not None and self.min_rows > self.max_rows:
            raise ValueError(f"min_rows ({self.min_rows}) at most max_rows ({self.max_rows})")
        return self


class DeclarativeCheck(_Strict):
    """One check: what the catalogue and every report say of it, where it runs, and exactly one kind."""

    id: Annotated[str, Field(pattern=CHECK_ID)]
    title: Text
    impact: Impact
    remediation: LongText
    section: Text | None = None  # the site's document it enforces; default: the check file's name
    phase: Phase | None = None  # default: the folder (DIR/post/...), else post
    role: Role | None = None  # the hosts it runs on (once per host); sql for a query
    service: ServiceSpec | None = None
    product: ProductSpec | None = None
    registry: RegistrySpec | None = None
    file: FileSpec | None = None
    certificate: CertificateSpec | None = None
    sql: SqlSpec | None = None

    @field_validator("id")
    @classmethod
    def _not_shipped(cls, value: str) -> str:
        if value.upper().startswith("GP-"):
            raise ValueError(
                f"an ID with a prefix of your own, such as ACME-001 (GP- is the shipped checks'), got {value!r}"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _sql_role(cls, data: Any) -> Any:
        if isinstance(data, dict) and "sql" in data and "role" not in data:
            return {**data, "role": "sql"}  # a query runs once, against the farm's SQL Server
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> DeclarativeCheck:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            found = f"found {' and '.join(given)}" if given else "found none"
            raise ValueError(f"exactly one of {', '.join(KINDS)} ({found})")
        if given == ["sql"] and self.role != "sql":
            raise ValueError(f"role sql for a sql check (a query runs on the SQL Server), got {self.role!r}")
        if given != ["sql"] and self.role not in HOST_ROLES:
            raise ValueError(
                f"a role for a {given[0]} check: one of {', '.join(HOST_ROLES)} (it runs once per host "
                f"of the role), got {self.role!r}"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def spec(self) -> Any:
        return getattr(self, self.kind)


class CheckFile(_Strict):
    checks: list[DeclarativeCheck] = Field(min_length=1, max_length=MAX_CHECKS)

    @field_validator("checks")
    @classmethod
    def _unique(cls, checks: list[DeclarativeCheck]) -> list[DeclarativeCheck]:
        seen: set[str] = set()
        for check in checks:
            if check.id.upper() in seen:
                raise ValueError(f"each check ID once, but {check.id!r} appears twice")
            seen.add(check.id.upper())
        return checks


def _field_names() -> set[str]:
    names: set[str] = set(KINDS)
    for model in (
        CheckFile,
        DeclarativeCheck,
        ServiceSpec,
        ProductSpec,
        RegistrySpec,
        FileSpec,
        CertificateSpec,
        SqlSpec,
    ):
        names |= set(model.model_fields)
    return names


def load_check_file(path: str | os.PathLike[str]) -> CheckFile:
    """Read and validate one check file; a mistake is one ConfigError naming the file, field and what was expected."""
    origin = str(path)
    data = read_yaml(path, "check file")
    if not isinstance(data, dict):
        raise ConfigError(origin, "(top level)", f"a mapping with 'checks:', a list of checks (see {DOCS})")
    try:
        return CheckFile.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, origin, DOCS, known=_field_names()) from None


def check_files(folder: Path) -> list[Path]:
    """The check files under a folder, as pytest would find them (hidden folders and caches left out)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        found += [Path(root) / f for f in sorted(files) if is_check_file(Path(f))]
    return found


def key_of(check: DeclarativeCheck) -> str:
    """The check's own key in the collector's request and in HostFacts: never a shipped or extra_facts key."""
    return f"check:{check.id}"
