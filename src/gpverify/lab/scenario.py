"""Lab scenarios: named or file overlays that change the lab farm or inject a fault."""

from __future__ import annotations

import difflib
import os
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, StrictInt, create_model
from pydantic.json_schema import SkipJsonSchema

from gpverify.config.inventory import Inventory, utc_time
from gpverify.config.schema import Schema, validate
from gpverify.config.yamlfile import parse_yaml, read_yaml
from gpverify.errors import ConfigError
from gpverify.lab import sessioncentral
from gpverify.lab import sql as labsql
from gpverify.lab.models import (
    GP_ENTRY,
    HOST_FAULTS,
    LAB_DISCOVERED,
    LAB_FEATURES,
    PERSONAL_STORE,
    PRODUCT_NAMES,
    FakeCert,
    FakeFarm,
    FakeHost,
    FakeService,
    FakeWebSite,
    add_dsn,
    build_farm,
    default_folder,
    dsns,
    expand,
    personal_certificate,
    release_folder,
    runtime_paths,
    session_host_site,
    tenant_configuration,
)
from gpverify.lab.statement import Statement


class _Strict(Schema, BaseModel):  # BaseModel named for linters: Schema is one (config/schema.py)
    """The scenario format's base: strict types, no unknown fields, no control characters."""


# A certificate's days from now: a century either way (a date further out is past what Python's datetime holds).
Days = Annotated[float, Field(ge=-36500, le=36500, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=256)]


def _a_time_or_days(value: Any) -> Any:
    """not_after: a number of days from now, else a date or date-time (no zone: UTC)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        return utc_time(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a date-time such as 2026-12-01T00:00:00Z or a number of days from now ({exc})") from None


class WebSiteChange(_Strict):
    """An HTTPS endpoint changed: the web site, or a session host's runtime service (hosts.<name>.https)."""

    cert_names: list[Name] | None = None
    cert_days_left: StrictInt | None = Field(None, ge=-36500, le=36500)
    missing_paths: list[str] = []
    down: bool = False


class ServiceChange(_Strict):
    """A service's fields as the collector reports them (lab/models.py FakeService); unset ones are kept."""

    name: Name | None = None
    display_name: Name | None = None
    status: Name | None = None  # Stopped, Running, ... as Get-Service words it
    start_mode: Name | None = None  # Auto, Manual, Disabled
    account: Name | None = None


class CertChange(_Strict):
    """A certificate in a store (lab/models.py FakeCert)."""

    subject: Name
    issuer: Name
    not_after: Annotated[datetime | Days, BeforeValidator(_a_time_or_days)]
    chain_ok: bool = True
    thumbprint: str | None = Field(None, pattern=r"^[0-9A-Fa-f]{40}$")  # SHA-1, as certutil shows it


# A registry value as Windows stores one: REG_DWORD/REG_QWORD (0 to 2**64 - 1), REG_SZ, or REG_MULTI_SZ.
RegistryValue = Annotated[StrictInt, Field(ge=0, le=2**64 - 1)] | str | list[str]


class HostChange(_Strict):
    """Changes to one host; keys are the lab statement's identifiers (services.<key>, files.<key>, ...)."""

    services: dict[str, ServiceChange | None] = {}  # key -> changed fields, or null: not installed
    files: dict[str, str | None] = {}  # key (or a Windows path) -> file version, or null: file missing
    registry: dict[str, RegistryValue | None] = {}  # key -> value, or null: value missing (odbc_dsn: null removes
    # every DSN)
    dsns: dict[str, str | None] = {}  # 32-bit System DSN name -> its Server, or null: no such DSN
    products: dict[str, str | None] = {}  # key -> DisplayVersion, or null: not installed
    certificates: dict[str, list[CertChange]] = {}  # store key -> replacement certificate list;
    # each {subject, issuer, not_after (ISO date-time or days from now), chain_ok}
    fault: Literal[HOST_FAULTS] | None = None  # type: ignore[valid-type]
    texts: dict[str, str | None] = {}  # files.<key> -> the file's content, or null: file missing
    features: dict[Literal["web_client_runtime", "service_based_architecture"], bool] = {}  # of the GP entry
    # The GP entry's cached package's Feature table (feature ID -> Title) replaced; {}: no cached package
    feature_titles: dict[str, str] | None = None
    latency: float = Field(0.0, ge=0, le=30)  # seconds this host waits before every answer
    stderr_progress: bool = False  # CLIXML progress records on stderr, exit code 0 (as powershell.exe writes)
    https: WebSiteChange | None = None  # a session host's runtime service on 443 (certificate, paths, down)


class ExtraHost(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$")
    suspended: bool = False


class LabWebSession(_Strict):
    host: str
    user: str
    gp_user: str = ""
    company: str = ""


class EventError(_Strict):
    source: str = "Lab.SessionCentral"
    id: int = 1000
    message: str
    minutes_ago: float = Field(10.0, ge=0)


class SessionCentralChange(_Strict):
    """The web server's Session Central and GP PowerShell module (lab/sessioncentral.py)."""

    module: bool = True  # false: the GP PowerShell component is not installed on the web server
    naming: Literal["lab", "allow-flag", "ambiguous", "no-name-property"] = "lab"
    fault: Literal["unreachable", "module-throws"] | None = None
    scheme: Literal["http", "https"] = "http"
    port: int = Field(48650, ge=1, le=65535)
    unregistered: list[str] = []  # session hosts that never registered
    suspended: list[str] = []  # suspended in Session Management
    fqdn: list[str] = []  # listed under their FQDN (<name>.lab.invalid) instead of the short name
    stale: list[str] = []  # their Session Service stopped reporting two days ago
    not_restarted: list[str] = []  # registered again after Session Central last started (no restart since)
    extra_hosts: list[ExtraHost] = []  # machines still registered that the inventory does not have
    sessions: list[LabWebSession] = []  # web client sessions running
    event_errors: list[EventError] = []  # errors in the Dynamics event log of the web server


class RowChange(_Strict):
    """One table's change as applied (the typed form a scenario's sql.<db>.<table> is read as, as plain rows)."""

    add: list[dict[str, Any]] = []
    where: dict[str, Any] = {}
    set: dict[str, Any] = {}
    delete: bool = False


# The tables a scenario's sql: section may change, with their columns (lab/sql.py: GP's declared types).
LAB_TABLES: dict[str, tuple[labsql.Column, ...]] = {
    **labsql.GP_SCHEMA,
    **labsql.TEMPDB_SCHEMA,
    **labsql.CONFIG_SCHEMA,
    **labsql.SESSION2013_SCHEMA,
    **labsql.DATABASE_CATALOG_SCHEMA,
    **labsql.MSDB_SCHEMA,
}


# SQL Server's integer types (and GP's DEX_ROW_ID identity, from 1): the values each column can hold.
_INTEGERS = {
    "tinyint": (0, 255),
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "identity": (1, 2**31 - 1),
}


def _sql_datetime(value: Any) -> Any:
    """A datetime column's value as the lab stores one (lab/sql.py): a YAML date or date-time, or ISO 8601 text."""
    if isinstance(value, (datetime, date)):
        return value
    try:
        if isinstance(value, str):
            datetime.fromisoformat(value)
            return value
    except ValueError:
        pass
    raise ValueError(f"a date-time such as 2026-11-30 21:00:00, got {value!r}")


def _column_type(sqltype: str) -> Any:
    """The YAML value a lab column takes, from the SQL Server type GP declares for it (lab/sql.py)."""
    kind, _, rest = sqltype.partition("(")
    if kind in _INTEGERS:
        low, high = _INTEGERS[kind]
        return Annotated[StrictInt, Field(ge=low, le=high)]
    if kind == "char":  # GP's fixed-width text: at most its width
        return Annotated[str, Field(max_length=int(rest.rstrip(")")))]
    if kind == "binary":
        return Annotated[bytes, Field(max_length=int(rest.rstrip(")")))]
    if kind == "numeric":
        return Annotated[float, Field(allow_inf_nan=False)]
    if kind == "datetime":
        return Annotated[datetime | date | str, BeforeValidator(_sql_datetime)]
    raise AssertionError(f"lab/sql.py declares a type the scenario format does not know: {sqltype}")


def _row_model(table: str, columns: tuple[labsql.Column, ...]) -> type[_Strict]:
    """A row of a lab table: each column optional, of its type; one left out is not set (None is no value a
    scenario can give, and exclude_unset keeps an unset column out of the row)."""
    fields: dict[str, Any] = {name: (_column_type(t), None) for name, t in columns}
    return create_model(f"{table}Row", __base__=_Strict, **fields)


def _table_change(table: str, columns: tuple[labsql.Column, ...]) -> type[_Strict]:
    """sql.<db>.<table>: rows to add, the rows `where` picks (to `set` or `delete`), each column of its type."""
    row = _row_model(table, columns)
    return create_model(
        f"{table}Change",
        __base__=_Strict,
        add=(list[row], []),  # type: ignore[valid-type]
        where=(row, row()),
        set=(row, row()),
        delete=(bool, False),
    )


if TYPE_CHECKING:
    SqlTables = _Strict
    DatabaseState = _Strict
else:
    # database_state.<db>: its sys.databases columns (state_desc, ...); the name and id are the lab's.
    DatabaseState = _row_model(
        "DatabaseState", tuple(c for c in labsql.CATALOG_SCHEMA["databases"] if c[0] not in ("name", "database_id"))
    )
    # sql.<db>: the lab's tables by name, each typed column by column (a table given as null is refused).
    SqlTables = create_model(
        "SqlTables", __base__=_Strict, **{t: (_table_change(t, c), None) for t, c in LAB_TABLES.items()}
    )


def _inventory_change() -> type[_Strict]:
    """inventory: settings the lab's inventory carries, each an inventory field of its own type and bounds
    (config/inventory.py), all optional: the lab's inventory takes each one given in place of its own."""
    fields: dict[str, Any] = {
        name: (Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation, None)
        for name, info in Inventory.model_fields.items()
    }
    return create_model("InventoryChange", __base__=_Strict, **fields)


if TYPE_CHECKING:
    InventoryChange = _Strict
else:
    InventoryChange = _inventory_change()


def _row_changes(tables: _Strict) -> dict[str, RowChange]:
    """The tables a scenario's sql.<db> changes, as plain rows (only the columns the file gave)."""
    found: dict[str, RowChange] = {}
    for table in sorted(tables.model_fields_set):
        change = getattr(tables, table)
        found[table] = RowChange(
            add=[r.model_dump(exclude_unset=True) for r in change.add],
            where=change.where.model_dump(exclude_unset=True),
            set=change.set.model_dump(exclude_unset=True),
            delete=change.delete,
        )
    return found


def _a_time(value: Any) -> Any:
    """A date-time as YAML or a string gives it (no zone: UTC), as the lab's SQL Server keeps it: without a zone."""
    try:
        return utc_time(value).replace(tzinfo=None)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a date-time such as 2026-11-24 08:11:40 ({exc})") from None


class SqlSession(_Strict):
    """A row of sys.dm_exec_sessions (lab/sql.py: the columns the checks read, with SQL Server's types)."""

    session_id: StrictInt = Field(ge=1, le=32767)  # smallint
    login_name: Name = Field(max_length=128)
    host_name: str = Field("", max_length=128)
    program_name: str = Field("", max_length=128)
    is_user_process: StrictInt = Field(1, ge=0, le=1)  # bit: 1 a client's session, 0 SQL Server's own
    login_time: Annotated[datetime, BeforeValidator(_a_time)] | None = None


class Scenario(_Strict):
    """A scenario overlay file (format documented in src/gpverify/lab/SCENARIOS.md)."""

    description: str
    base: Literal["healthy", "before-upgrade"] = "healthy"
    era: Literal["html", "silverlight"] = "html"
    proves: list[str] = []  # IDs of the checks this scenario is made to fail
    warns: list[str] = []  # IDs of the checks this scenario is made to warn (advice, where the guide allows later)
    hosts: dict[str, HostChange] = {}
    remove_hosts: list[str] = []
    sql: dict[str, SqlTables] = {}  # database -> table -> change (rows typed by the lab's columns)
    drop_databases: list[str] = []
    empty_databases: list[str] = []  # the database exists but holds no table (created by hand, never configured)
    sql_fault: Literal["unreachable", "login-failed"] | None = None
    web_site: WebSiteChange = WebSiteChange()
    service_based_architecture: bool = True
    system_database: str = Field("DYNAMICS", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,30}$")  # a named system database
    runtime: Literal["previous", "target"] | None = None  # where TenantConfiguration.xml points the session hosts
    heartbeat_timeout: str | None = None  # HeartbeatTimeout in TenantConfiguration.xml (0.00:00:00: never)
    database_state: dict[str, DatabaseState] = {}  # database -> sys.databases columns (state_desc, ...)
    sql_server_version: str | None = Field(None, pattern=r"^\d{1,2}\.\d{1,2}\.\d{1,5}\.\d{1,5}$")  # ProductVersion
    inventory: InventoryChange = InventoryChange()  # settings the lab's inventory carries (overrides, target_build)
    sql_sessions: list[SqlSession] = []  # sys.dm_exec_sessions rows added (a signed-in client's SQL session)
    view_server_state: bool = True  # whether the login gpverify uses may see every session (VIEW SERVER STATE)
    discovered: bool = False  # the inventory sets the overrides an operator sets after `gpverify discover`
    session_central: SessionCentralChange = SessionCentralChange()
    # Set by load_scenario, never by the file (SkipJsonSchema: not part of the format it describes).
    name: SkipJsonSchema[str] = Field("", exclude=True)
    origin: SkipJsonSchema[str] = Field("", exclude=True)


# Every name the format knows (fields, tables, columns): what a misspelt key is matched against.
_COLUMNS = (name for columns in [*LAB_TABLES.values(), labsql.CATALOG_SCHEMA["databases"]] for name, _ in columns)
KNOWN = {*Scenario.model_fields, *Inventory.model_fields, *LAB_TABLES, *_COLUMNS}


def scenario_names() -> list[str]:
    files = resources.files(__package__).joinpath("scenarios").iterdir()
    return sorted(p.name[:-4] for p in files if p.name.endswith(".yml"))


def _a_file(spec: str) -> bool:
    """Whether the scenario given is a path to a file (anything there: the one path guard says what it is)."""
    try:
        return "\0" not in spec and (Path(spec).is_file() or (os.path.lexists(spec) and not Path(spec).is_dir()))
    except OSError:  # a name too long, a symlink loop: not a file of a scenario
        return False


def load_scenario(spec: str) -> Scenario:
    """A scenario by name (shipped) or by path to an overlay file."""
    if spec in scenario_names():
        text = resources.files(__package__).joinpath("scenarios").joinpath(f"{spec}.yml").read_text(encoding="utf-8")
        origin, name, data = f"scenario {spec}", spec, parse_yaml(text, f"scenario {spec}")
    elif _a_file(spec):
        origin, name, data = spec, Path(spec).stem, read_yaml(spec, "scenario file")
    else:
        close = difflib.get_close_matches(spec, scenario_names(), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "`gpverify lab --list` shows them"
        raise ConfigError("--lab", "scenario", f"a shipped scenario name or an overlay file, got {spec!r} ({hint})")
    if not isinstance(data, dict):
        raise ConfigError(origin, "(top level)", "a mapping with at least 'description'")
    for own in ("name", "origin"):  # the loader's, from the file name: a file's own would be dropped unseen
        if own in data:
            raise ConfigError(
                origin,
                own,
                f"a known field (there is no field {own!r}; the scenario is named by "
                "its file; see src/gpverify/lab/SCENARIOS.md)",
            )
    return validate(
        Scenario, {**data, "name": name, "origin": origin}, origin, "src/gpverify/lab/SCENARIOS.md", known=KNOWN
    )


def _apply_host(farm: FakeFarm, host_name: str, change: HostChange, origin: str) -> None:
    try:
        host = farm.host(host_name)
    except KeyError:
        raise ConfigError(origin, f"hosts.{host_name}", f"a lab host ({', '.join(farm.hosts)})") from None
    p, field = farm.target, f"hosts.{host_name}"
    _apply_services(host, p, change, origin, field)
    _apply_files(host, p, change, origin, field)
    _apply_registry(host, p, change, origin, field)
    _apply_products(host, p, change, origin, field)
    for key, certs in change.certificates.items():
        store = _stated(p, f"certificates.{key}", origin, f"{field}.certificates")
        host.certificates[store] = [_cert(c) for c in certs]
    if change.https is not None:
        if host.role != "session_host":
            raise ConfigError(origin, f"{field}.https", "a session host (only session hosts run the runtime service)")
        _change_site(session_host_site(host), change.https)
    host.fault = change.fault or host.fault
    host.latency = change.latency or host.latency
    host.stderr_progress = change.stderr_progress or host.stderr_progress


def _apply_files(host: FakeHost, p: Statement, change: HostChange, origin: str, field: str) -> None:
    """files.<key> and texts.<key>: the target release's own copy, the one installed side by side
    (release_folder), and its main dictionaries (dynamics_dic, labisv_dic) that Dynamics.set names."""
    folder = release_folder(p)
    target_files = {
        **runtime_paths(folder),
        "dynamics_dic": f"{folder}\\Dynamics.dic",
        "labisv_dic": f"{folder}\\LABISV.DIC",
    }
    for key, version in change.files.items():
        # A key with a backslash is a file's own path (a dictionary of a product the scenario adds).
        path = target_files.get(key) or (
            key if "\\" in key else expand(str(_stated(p, f"files.{key}", origin, f"{field}.files")))
        )
        host.files[path] = None if version is None else version
    for key, text in change.texts.items():
        path = target_files.get(key) or expand(str(_stated(p, f"files.{key}", origin, f"{field}.texts")))
        host.texts[path] = text


def _apply_registry(host: FakeHost, p: Statement, change: HostChange, origin: str, field: str) -> None:
    for key, value in change.registry.items():
        if key == "odbc_dsn":  # every DSN's key under ODBC.INI: null empties them (no Server, no Driver value), a
            for dsn in dsns(host):  # value is every one's Server
                add_dsn(host, dsn, None if value is None else str(value), keep_key=True)
            continue
        # Where GP keeps it is unknown: the lab's own location stands in (the statement's basis "lab").
        reg = _stated(p, f"registry.{key}", origin, f"{field}.registry")
        host.registry[(reg["view"], reg["path"], reg["name"])] = value
    for dsn, server in change.dsns.items():
        add_dsn(host, dsn, server)


def _apply_products(host: FakeHost, p: Statement, change: HostChange, origin: str, field: str) -> None:
    """Programs and Features entries, and the GP entry's Windows Installer features and their titles."""
    for key, version in change.products.items():
        name = PRODUCT_NAMES.get(key) or (GP_ENTRY.get(p.name) if key == "gp_desktop" else None)
        if name is None:
            raise ConfigError(origin, f"{field}.products.{key}", f"one of {', '.join([*PRODUCT_NAMES, 'gp_desktop'])}")
        if version is None:
            host.products.pop(name, None)
            host.packages.pop(name, None)
        else:
            host.products[name] = version
    for key, installed in change.features.items():
        features = host.features.setdefault(GP_ENTRY.get(p.name, ""), [])
        features[:] = sorted(set(features) - {LAB_FEATURES[key]} | ({LAB_FEATURES[key]} if installed else set()))
    if change.feature_titles is not None:
        host.feature_titles[GP_ENTRY.get(p.name, "")] = dict(change.feature_titles)


def _apply_services(host: FakeHost, p: Statement, change: HostChange, origin: str, field: str) -> None:
    # A service the statement has no key for (another release's) must give its own name.
    _known(p, "services", {k: v for k, v in change.services.items() if not (v and v.name)}, origin, field)
    for key, service in change.services.items():
        if service is None:
            host.services.pop(key, None)
            continue
        fields = service.model_dump(exclude_none=True)
        current = host.services.get(key) or FakeService(fields.get("name") or p[f"services.{key}.name"], key)
        host.services[key] = FakeService(**{**current.__dict__, **fields})


def _stated(gp: Any, key: str, origin: str, field: str) -> Any:
    """A value of the lab's statement (lab/statement.py), or one message naming the scenario's field."""
    if key not in gp or gp[key] is None:
        raise ConfigError(
            origin,
            f"{field}.{key.split('.', 1)[1]}",
            "an identifier of the lab's statement of GP with a value (src/gpverify/lab/statement.py)",
        )
    return gp[key]


def _known(gp: Any, section: str, keys: dict[str, Any], origin: str, field: str) -> None:
    for key in keys:
        _stated(gp, f"{section}.{key}.name", origin, f"{field}.{section}")


def _cert(cert: CertChange) -> FakeCert:
    """A store certificate; not_after is a date-time, or a number of days from now (negative: expired)."""
    when = cert.not_after
    if not isinstance(when, datetime):
        when = datetime.now(UTC) + timedelta(days=when)
    return FakeCert(cert.subject, cert.issuer, when, cert.chain_ok, cert.thumbprint)


def _apply_rows(rows: list[dict[str, Any]], change: RowChange) -> list[dict[str, Any]]:
    def hit(row: dict[str, Any]) -> bool:
        return all(str(row.get(k)).strip() == str(v).strip() for k, v in change.where.items())

    kept = [r for r in rows if not (change.delete and hit(r))]
    updated = [{**r, **change.set} if change.set and hit(r) else r for r in kept]
    return updated + [dict(r) for r in change.add]


def apply_scenario(scenario: Scenario) -> FakeFarm:
    """Build the scenario's base farm and apply its changes; a mistake is one ConfigError naming the field."""
    origin = scenario.origin or f"scenario {scenario.name}"
    farm = build_farm(scenario.era, "upgraded" if scenario.base == "healthy" else "before-upgrade")
    farm.service_based_architecture = scenario.service_based_architecture
    _rename_system_database(farm, scenario.system_database)
    if scenario.runtime is not None or scenario.heartbeat_timeout is not None:
        _point_runtime(farm, scenario.runtime, scenario.heartbeat_timeout)
    for name, change in scenario.hosts.items():
        _apply_host(farm, name, change, origin)
    for name in scenario.remove_hosts:
        try:
            host = farm.host(name)
        except KeyError:
            raise ConfigError(
                origin, "remove_hosts", f"lab host names ({', '.join(farm.hosts)}), got {name!r}"
            ) from None
        if host.role == "web_server":  # a scale-out farm always has its web server (scale-out-upgrade.md)
            raise ConfigError(origin, "remove_hosts", f"hosts other than the web server, got {name!r}")
        farm.hosts.pop(host.name)
    _apply_session_central(farm, scenario.session_central, origin)
    for db, tables in scenario.sql.items():
        _lab_database(farm, db, origin, f"sql.{db}")
        for table, rows in _row_changes(tables).items():
            farm.databases[db][table] = _apply_rows(farm.databases[db].get(table, []), rows)
    for db in [*scenario.database_state, *scenario.drop_databases]:
        _lab_database(farm, db, origin, "database_state" if db in scenario.database_state else "drop_databases")
    farm.database_state = {db: state.model_dump(exclude_unset=True) for db, state in scenario.database_state.items()}
    if scenario.sql_server_version:
        farm.server_properties["ProductVersion"] = scenario.sql_server_version
    farm.inventory_extra = scenario.inventory.model_dump(mode="json", exclude_unset=True)
    farm.sql_sessions += [row.model_dump(exclude_none=True) for row in scenario.sql_sessions]
    farm.view_server_state = scenario.view_server_state
    if scenario.discovered:
        farm.inventory_extra["overrides"] = {**LAB_DISCOVERED, **farm.inventory_extra.get("overrides", {})}
    for db in scenario.drop_databases:
        farm.databases.pop(db, None)
    for db in scenario.empty_databases:
        _lab_database(farm, db, origin, "empty_databases")
        farm.empty_databases.add(db)
    farm.sql_fault = scenario.sql_fault
    _change_site(farm.web_site, scenario.web_site)
    _personal_stores(farm)
    return farm


def _lab_database(farm: FakeFarm, db: str, origin: str, field: str) -> None:
    """A database the scenario names is one of the lab's: a misspelt name would otherwise change nothing (or make a
    database of its own) and the scenario would not prove what it says."""
    if db not in farm.databases:
        raise ConfigError(origin, field, f"a database of the lab ({', '.join(farm.databases)}), got {db!r}")


def _apply_session_central(farm: FakeFarm, change: SessionCentralChange, origin: str) -> None:
    """Session Central's state, then the configuration database rows that render it (before the sql: changes)."""
    central = sessioncentral.install(farm)
    central.module, central.naming, central.fault = change.module, change.naming, change.fault
    central.scheme, central.port = change.scheme, change.port
    field = "session_central"
    named = {
        f"{field}.{k}": getattr(change, k) for k in ("unregistered", "suspended", "fqdn", "stale", "not_restarted")
    }
    for where, names in named.items():
        for name in names:
            record = central.records.get(name.lower())
            if record is None:
                raise ConfigError(
                    origin, where, f"session hosts of the lab ({', '.join(central.records)}), got {name!r}"
                )
            _change_record(central, record, where.rsplit(".", 1)[1])
    for extra in change.extra_hosts:
        central.records[extra.name.lower()] = sessioncentral.HostRecord(
            extra.name,
            sessioncentral.now() - timedelta(days=60),
            extra.name.split(".")[0].upper(),
            suspended=extra.suspended,
            last_status=sessioncentral.now() - timedelta(days=50),
            retired=True,
        )
    central.sessions = [sessioncentral.WebSession(s.host, s.user, s.gp_user, s.company) for s in change.sessions]
    central.event_errors = [
        {
            "source": e.source,
            "id": e.id,
            "message": e.message,
            "time": sessioncentral.now() - timedelta(minutes=e.minutes_ago),
        }
        for e in change.event_errors
    ]
    sessioncentral.render_tables(farm)


def _change_record(central: sessioncentral.SessionCentral, record: sessioncentral.HostRecord, what: str) -> None:
    if what == "unregistered":
        record.registered = None
    elif what == "suspended":
        record.suspended = True
    elif what == "fqdn":
        record.listed_as = f"{record.name.lower()}{sessioncentral.LAB_DOMAIN_SUFFIX}"
    elif what == "stale":
        record.last_status = sessioncentral.now() - timedelta(days=2)
    elif what == "not_restarted":
        # Its upgrade registered it again (and restarted its Session Service) after Session Central last started.
        started = central.started() or sessioncentral.now()
        record.registered = started + timedelta(minutes=20)
        host = central.farm.host(record.name)
        if "session_service" in host.services:
            host.services["session_service"].started = record.registered


def _personal_stores(farm: FakeFarm) -> None:
    """The web site's and each session host's runtime certificate in their machines' Personal stores (unless the
    scenario set that store itself)."""
    for host in farm.hosts.values():
        site = (
            farm.web_site
            if host.role == "web_server"
            else session_host_site(host)
            if host.role == "session_host"
            else None
        )
        if site is not None and PERSONAL_STORE not in host.certificates:
            host.certificates[PERSONAL_STORE] = [personal_certificate(site)]


def _change_site(site: FakeWebSite, change: WebSiteChange) -> None:
    site.cert_names = change.cert_names or site.cert_names
    site.cert_days_left = site.cert_days_left if change.cert_days_left is None else change.cert_days_left
    site.paths -= set(change.missing_paths)
    site.down = change.down


def _rename_system_database(farm: FakeFarm, name: str) -> None:
    """A named system database (GP 2013 and later allow one other than DYNAMICS)."""
    if name.upper() == farm.system_database.upper():
        return
    tables = farm.databases.pop(farm.system_database)
    for row in tables["DB_Upgrade"]:
        if str(row["db_name"]).upper() == farm.system_database.upper():
            row["db_name"] = name
    farm.databases[name] = tables
    for backup in farm.databases.get("msdb", {}).get("backupset", []):
        if str(backup["database_name"]).upper() == farm.system_database.upper():
            backup["database_name"] = name
    farm.system_database = name


def _point_runtime(farm: FakeFarm, which: str | None, heartbeat: str | None) -> None:
    """Rewrite the web server's TenantConfiguration.xml: the runtime folder (previous or target release, default
    where it points now) and HeartbeatTimeout."""
    folder = (
        release_folder(farm.target)
        if which == "target"
        else default_folder(farm.source)
        if which == "previous"
        else farm.runtime["dynamics_exe"].rsplit("\\", 1)[0]
    )
    web = next(h for h in farm.hosts.values() if h.role == "web_server")
    web.texts[expand(str(farm.target["files.tenant_configuration"]))] = (
        tenant_configuration(folder, gp=farm.target)
        if heartbeat is None
        else tenant_configuration(folder, heartbeat, gp=farm.target)
    )
    farm.runtime = runtime_paths(folder)
