"""GP SQL facts: one read-only connection per database, each query loaded from a checked T-SQL file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from gpverify.config.inventory import SqlSettings
from gpverify.config.profiles import Profile
from gpverify.errors import SqlUnavailable
from gpverify.extension import lab
from gpverify.transport.odbc import SqlConnection, SqlTarget, open_sql
from gpverify.transport.sqlguard import check_read_only, quote_identifier

Row = dict[str, Any]
# Query placeholder -> profile identifier: the session databases' tables and columns are not public, so every
# name comes from the profile (unknown until the operator sets it after `gpverify discover`).
CONFIG_IDENTIFIERS = {
    "session_hosts": "config_db.session_hosts_table",
    "host_name": "config_db.session_host_name_column",
    "suspended": "config_db.session_host_suspended_column",
    "status_time": "config_db.session_host_status_time_column",
    "sessions": "config_db.sessions_table",
    "session_id": "config_db.session_id_column",
    "session_host": "config_db.session_host_column",
    "session_user": "config_db.session_user_column",
    "old_sessions": "old_session_db.sessions_table",
    "old_session_id": "old_session_db.session_id_column",
    "old_session_user": "old_session_db.session_user_column",
}


def load_query(name: str, identifiers: dict[str, str] | None = None) -> str:
    """A query file, with profile-given table names validated and quoted; then checked to be one SELECT."""
    sql = resources.files(__package__).joinpath("queries", f"{name}.sql").read_text(encoding="utf-8")
    for placeholder, identifier in (identifiers or {}).items():
        if "{" + placeholder + "}" in sql:
            sql = sql.replace("{" + placeholder + "}", quote_identifier(identifier))
    check_read_only(sql, source=f"{name}.sql")
    return sql


def _connector(settings: SqlSettings) -> Any:
    if settings.lab_dir:  # the simulated lab: SQLite files through the same pyodbc/unixODBC chain
        return lab().sql_connector(Path(settings.lab_dir))
    return None


@dataclass
class GpSql:
    """The farm's GP databases for one run: lazy connections, each query's rows cached."""

    settings: SqlSettings
    profile: Profile
    password: str | None = field(repr=False)
    _connections: dict[str, SqlConnection | SqlUnavailable] = field(default_factory=dict)
    _rows: dict[tuple[str, str, tuple[Any, ...]], list[Row]] = field(default_factory=dict)

    @property
    def system_database(self) -> str:
        return self.settings.system_database

    @property
    def config_database(self) -> str:
        return self.settings.config_database

    def target(self, database: str) -> SqlTarget:
        s = self.settings
        return SqlTarget(
            driver=s.driver,
            server=s.server,
            database=database,
            authentication=s.authentication,
            user=s.user,
            password=self.password,
            encrypt=s.encrypt,
            trust_server_certificate=s.trust_server_certificate,
            host_name_in_certificate=s.host_name_in_certificate,
        )

    def connection(self, database: str) -> SqlConnection:
        if database not in self._connections:
            try:
                self._connections[database] = open_sql(self.target(database), connector=_connector(self.settings))
            except SqlUnavailable as exc:
                self._connections[database] = exc
        conn = self._connections[database]
        if isinstance(conn, SqlUnavailable):
            raise conn
        return conn

    def rows(self, database: str, query: str, params: tuple[Any, ...] = ()) -> list[Row]:
        key = (database, query, params)
        if key not in self._rows:
            identifiers = {ph: self.profile[k] for ph, k in CONFIG_IDENTIFIERS.items() if self.profile[k] is not None}
            self._rows[key] = self.connection(database).query(query, load_query(query, identifiers), params)
        return self._rows[key]

    def select_columns(
        self, database: str, table: str, columns: dict[str, str], *, top: int | None = None, schema: str | None = None
    ) -> list[Row]:
        """SELECT [TOP n] of named columns (alias -> column) of one table: the names come from the profile or from
        INFORMATION_SCHEMA, each checked to be a plain identifier and bracket-quoted; the query is guarded."""
        listed = ", ".join(
            f"{quote_identifier(column)} AS {quote_identifier(alias)}" for alias, column in columns.items()
        )
        where = f"{quote_identifier(schema)}.{quote_identifier(table)}" if schema else quote_identifier(table)
        sql = f"SELECT {f'TOP {int(top)} ' if top else ''}{listed} FROM {where}"
        key = (database, sql, ())
        if key not in self._rows:
            self._rows[key] = self.connection(database).query(f"columns of {table}", sql)
        return self._rows[key]

    def select(self, database: str, source: str, sql: str) -> list[Row]:
        """Rows of a site's own query (a declarative check's), checked read-only by the connection's guard again."""
        key = (database, sql, ())
        if key not in self._rows:
            self._rows[key] = self.connection(database).query(source, sql)
        return self._rows[key]

    def close(self) -> None:
        for conn in self._connections.values():
            if isinstance(conn, SqlConnection):
                conn.close()


@dataclass(frozen=True)
class SignInActivity:
    """Microsoft's test that everyone signed out: ACTIVITY, SY00800, SY00801, DEX_LOCK, DEX_SESSION empty (KB 850289).

    A user is live when their ACTIVITY row's GP session (SQLSESID) is in DEX_SESSION and that session's SQL Server
    process (DEX_SESSION.sqlsvr_spid, as GP's own dbo.GetGPUserIDbySPID reads it) still exists in
    sys.dm_exec_sessions. A client that crashed or lost its connection leaves both its ACTIVITY and DEX_SESSION rows
    behind, so those two alone cannot tell it from a signed-in user; SQL login names cannot either (web client users
    can all run as the Web Client SQL login, scale-out-installation.md). Everything that is not live is a stale
    record: ACTIVITY rows whose SQL process is gone, DEX_LOCK and DEX_SESSION rows of sessions with no ACTIVITY row
    (KB 864411, KB 864413), batches and resources of users who are not signed in. `sql_sessions` is None when the
    login gpverify uses lacks VIEW SERVER STATE: then a user with a DEX_SESSION row may be either.
    """

    users: list[Row]
    batches: list[Row]
    resources: list[Row]
    locks: list[Row]
    sessions: list[Row]
    sql_sessions: frozenset[int] | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.users or self.batches or self.resources or self.locks or self.sessions)

    def _spids(self) -> dict[int, int]:
        return {_int(s["session_id"]): _int(s["sqlsvr_spid"]) for s in self.sessions}

    def _signed_in(self) -> set[int]:
        return {_int(u["SQLSESID"]) for u in self.users}

    def _live(self, user: Row) -> bool | None:
        """True: signed in; False: stale; None: cannot tell (sys.dm_exec_sessions not visible)."""
        spid = self._spids().get(_int(user["SQLSESID"]))
        if spid is None:
            return False
        return None if self.sql_sessions is None else spid in self.sql_sessions

    @property
    def live_users(self) -> list[Row]:
        return [u for u in self.users if self._live(u) is True]

    @property
    def undecided_users(self) -> list[Row]:
        """Users with a GP session whose SQL process gpverify could not look for (no VIEW SERVER STATE)."""
        return [u for u in self.users if self._live(u) is None]

    def stale(self) -> list[str]:
        """The stale records, described by table."""
        kept = {_user(u) for u in self.users if self._live(u) is not False}
        signed_in = self._signed_in()
        parts = []
        if gone := [u for u in self.users if self._live(u) is False]:
            parts.append(
                "ACTIVITY rows of clients that ended without signing out (no GP session in tempdb "
                "DEX_SESSION, or its SQL Server process DEX_SESSION.sqlsvr_spid no longer exists): "
                + self.describe(gone, gone=True)
            )
        if batches := [b for b in self.batches if _user(b) not in kept]:
            parts.append("SY00800 batches of users not signed in: " + _held(batches, "BACHNUMB"))
        if resources := [r for r in self.resources if _user(r) not in kept]:
            parts.append("SY00801 resources of users not signed in: " + _held(resources, "RSRCID"))
        parts += self._orphans(signed_in)
        return parts

    def _orphans(self, signed_in: set[int]) -> list[str]:
        """tempdb records (DEX_LOCK, DEX_SESSION) of GP sessions with no ACTIVITY row."""
        parts = []
        if locks := [x for x in self.locks if _int(x["session_id"]) not in signed_in]:
            parts.append(
                f"tempdb DEX_LOCK {len(locks)} lock(s) of session(s) "
                + ", ".join(sorted({str(x["session_id"]) for x in locks}))
                + " with no ACTIVITY row"
            )
        if sessions := [x for x in self.sessions if _int(x["session_id"]) not in signed_in]:
            parts.append(
                "tempdb DEX_SESSION session(s) "
                + ", ".join(str(x["session_id"]) for x in sessions)
                + " with no ACTIVITY row"
            )
        return parts

    def describe_live(self) -> str:
        """Each live user with company, sign-in time, and what they hold."""
        return self.describe(self.live_users)

    def describe(self, users: list[Row], *, gone: bool = False) -> str:
        """Each user with company, sign-in time, SQL process (`gone`: no longer there), and what they hold."""
        described, spids = [], self._spids()
        for u in users:
            user = str(u["USERID"]).strip()
            held = [f"batch {b['BACHNUMB']}" for b in self.batches if str(b["USERID"]).strip() == user]
            held += [f"resource {r['RSRCID']}" for r in self.resources if str(r["USERID"]).strip() == user]
            locks = [x for x in self.locks if _int(x["session_id"]) == _int(u["SQLSESID"])]
            held += [f"{len(locks)} record lock(s)"] if locks else []
            spid = spids.get(_int(u["SQLSESID"]))
            process = "no DEX_SESSION row" if spid is None else f"SQL process {spid}" + (" gone" if gone else "")
            described.append(
                f"{user} in {u['CMPNYNAM']} since {_login_time(u)} (GP session {u['SQLSESID']}, {process}"
                + (f"; holding {', '.join(held)}" if held else "")
                + ")"
            )
        return "; ".join(described)


def _user(row: Row) -> str:
    """A GP user ID to compare: char columns come padded with blanks; compared without case, as a user types it."""
    return str(row["USERID"]).strip().upper()


def _held(rows: list[Row], key: str) -> str:
    """Each batch or resource with the user holding it."""
    return ", ".join(f"{r[key]} ({r['USERID']})" for r in rows)


def _login_time(user: Row) -> str:
    """ACTIVITY keeps the date in LOGINDAT and the time of day in LOGINTIM (on 1900-01-01)."""
    day, time = user.get("LOGINDAT"), user.get("LOGINTIM")
    day_text = day.strftime("%Y-%m-%d") if isinstance(day, datetime) else str(day or "")[:10]
    time_text = time.strftime("%H:%M") if isinstance(time, datetime) else str(time or "")[11:16]
    return f"{day_text} {time_text}".strip() or "an unknown time"


# --- typed readers for the upgrade checks (DB_Upgrade, DU000020, DU000030, configuration database) ----------


def _int(value: Any) -> int:
    return int(value) if value is not None and str(value).strip() != "" else 0


def _version(row: Row, prefix: str) -> str:
    return f"{_int(row[prefix + 'Major'])}.{_int(row[prefix + 'Minor'])}.{_int(row[prefix + 'Build'])}"


@dataclass(frozen=True)
class DatabaseVersion:
    """One DB_Upgrade row: the version GP Utilities left one product at in one database, and whether it finished."""

    database: str
    product: int  # PRODID: 0 is Dynamics GP; modules and third-party products have their own
    version: str
    old_version: str  # db_verOld*: equal to db_ver* once an upgrade finished (KB 850662)
    status: int  # db_status: 0 when the upgrade finished; anything else is in progress or interrupted (KB 973027)
    started: datetime | None = None  # start_time: when GP Utilities started upgrading it (server time [inferred])

    def problem(self) -> str | None:
        where = f"{self.database} product {self.product} at {self.version}"
        if self.status != 0:
            return f"{where}: db_status {self.status}, expected 0 (the upgrade of this product did not finish)"
        if self.old_version != self.version:
            return f"{where}: db_verOld {self.old_version} differs from db_ver {self.version}, expected them equal"
        return None


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    database: str  # SY01500.INTERID, the company database (company-data-conversion.md)


@dataclass(frozen=True)
class CompanyVersion:
    """One DU000020 row: the version GP Utilities records for one product in one company (KB 850662)."""

    company_id: int
    product: int
    version: str


@dataclass(frozen=True)
class TableConversion:
    """A table conversion Microsoft's DU000030/DU000010 query lists (upgrade/company-data-conversion.md)."""

    company: str  # INTERID
    product: int
    table: str  # DU000010.fileOSName
    status: int
    error_number: int
    error: str

    @property
    def failed(self) -> bool:
        return self.error_number != 0

    def describe(self) -> str:
        error = f", error {self.error_number} {self.error!r}" if self.error_number or self.error else ""
        return f"{self.company} table {self.table} (product {self.product}): status {self.status}{error}"


@dataclass(frozen=True)
class DatabaseState:
    """A database as sys.databases shows it."""

    name: str
    state: str
    user_access: str
    read_only: bool
    compatibility_level: int


@dataclass(frozen=True)
class LastBackup:
    """A database's last full backup (msdb.dbo.backupset), its finish time in UTC."""

    database: str
    finished: datetime  # UTC
    zone_known: bool  # False: backupset's time_zone was 127 or NULL, the local time was read as UTC
    offset: timedelta = timedelta(0)  # the server's local time minus UTC when it finished (backupset time_zone)

    def describe(self) -> str:
        text = self.finished.strftime("%Y-%m-%d %H:%M:%S UTC")
        return text if self.zone_known else f"{text} (time zone not recorded, read as UTC)"


def _moment(value: Any) -> datetime | None:
    """A datetime column as a naive datetime; None for NULL or GP's empty date (1900-01-01)."""
    if value is None or str(value).strip() == "":
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    return None if when.year <= 1900 else when.replace(tzinfo=None)


def _utc_finish(local: Any, time_zone: Any) -> tuple[datetime, bool]:
    """backup_finish_date is local time; time_zone is local minus UTC in 15-minute steps, -48..48 (127 unknown)."""
    when = local if isinstance(local, datetime) else datetime.fromisoformat(str(local))
    known = time_zone is not None and -48 <= int(time_zone) <= 48
    if known:
        when -= timedelta(minutes=15 * int(time_zone))
    return when.replace(tzinfo=UTC), known


def _last_backups(rows: list[Row]) -> dict[str, LastBackup]:
    """Each database's last full backup by upper-cased name, from rows of database_name, time_zone, last_full."""
    latest: dict[str, LastBackup] = {}
    for r in rows:
        if r["last_full"] is None:
            continue
        finished, known = _utc_finish(r["last_full"], r["time_zone"])
        offset = timedelta(minutes=15 * int(r["time_zone"])) if known else timedelta(0)
        name = str(r["database_name"]).strip()
        if name.upper() not in latest or finished > latest[name.upper()].finished:
            latest[name.upper()] = LastBackup(name, finished, known, offset)
    return latest


# explain_connect (transport/odbc.py) says "database 'X' does not exist or cannot be opened" for SQL Server's
# 4060 and for the lab's missing SQLite file; an unreachable server or a rejected login says something else.
DATABASE_MISSING = "does not exist"


class GpSqlView:
    """What a check sees of the GP databases; every query result it reads is kept as evidence."""

    def __init__(self, sql: GpSql, evidence: dict[str, Any]) -> None:
        self._sql = sql
        self._evidence = evidence
        self.system_database = sql.system_database
        self.config_database = sql.config_database
        self.profile = sql.profile

    def rows(self, database: str, query: str, params: tuple[Any, ...] = ()) -> list[Row]:
        rows = self._sql.rows(database, query, params)
        self._evidence[f"{database}: {query}"] = [{k: str(v) for k, v in r.items()} for r in rows]
        return rows

    def select_columns(
        self, database: str, table: str, columns: dict[str, str], *, top: int | None = None, schema: str | None = None
    ) -> list[Row]:
        rows = self._sql.select_columns(database, table, columns, top=top, schema=schema)
        self._evidence[f"{database}: {table}"] = [{k: str(v) for k, v in r.items()} for r in rows]
        return rows

    def query(self, database: str, source: str, sql: str) -> list[Row]:
        """Rows of a site's own read-only query, kept as evidence under its source (the check's ID)."""
        rows = self._sql.select(database, source, sql)
        self._evidence[f"{database}: {source}"] = [{k: str(v) for k, v in r.items()} for r in rows]
        return rows

    def sign_in_activity(self) -> SignInActivity:
        db = self.system_database
        tables = [
            self.rows(db, q)
            for q in ("sign_in_activity", "batch_activity", "resource_activity", "dex_locks", "dex_sessions")
        ]
        users, batches, resources, locks, sessions = tables
        return SignInActivity(users, batches, resources, locks, sessions, sql_sessions=self.sql_sessions())

    def sql_sessions(self) -> frozenset[int] | None:
        """The session ids in sys.dm_exec_sessions, or None when the login lacks VIEW SERVER STATE (it would see
        only its own session)."""
        granted = self.rows(self.system_database, "view_server_state")
        if not granted or not _int(granted[0]["granted"]):
            return None
        return frozenset(_int(r["session_id"]) for r in self.rows(self.system_database, "sql_sessions"))

    def database_versions(self) -> list[DatabaseVersion]:
        """Every DB_Upgrade row: every product in the system and every company database."""
        return [
            DatabaseVersion(
                str(r["db_name"]).strip(),
                _int(r["PRODID"]),
                _version(r, "db_ver"),
                _version(r, "db_verOld"),
                _int(r["db_status"]),
                _moment(r.get("start_time")),
            )
            for r in self.rows(self.system_database, "database_versions")
        ]

    def companies(self) -> list[Company]:
        rows = self.rows(self.system_database, "companies")
        return [Company(_int(r["CMPANYID"]), str(r["CMPNYNAM"]).strip(), str(r["INTERID"]).strip()) for r in rows]

    def company_versions(self) -> list[CompanyVersion]:
        """Every DU000020 row: every product of every company."""
        return [
            CompanyVersion(_int(r["companyID"]), _int(r["PRODID"]), _version(r, "version"))
            for r in self.rows(self.system_database, "company_versions")
        ]

    def table_conversions(self) -> list[TableConversion]:
        rows = self.rows(self.system_database, "failed_conversions")
        return [
            TableConversion(
                str(r["INTERID"]).strip(),
                _int(r["PRODID"]),
                str(r["fileOSName"]).strip(),
                _int(r["Status"]),
                _int(r["errornum"]),
                str(r["errordes"] or "").strip(),
            )
            for r in rows
        ]

    def databases(self) -> dict[str, DatabaseState]:
        """The server's databases by upper-cased name (sys.databases, read through the system database)."""
        rows = self.rows(self.system_database, "databases")
        states = [
            DatabaseState(
                str(r["name"]).strip(),
                str(r["state_desc"]).strip(),
                str(r["user_access_desc"]).strip(),
                bool(_int(r["is_read_only"])),
                _int(r["compatibility_level"]),
            )
            for r in rows
        ]
        return {d.name.upper(): d for d in states}

    def open(self, database: str) -> None:
        """Connect to the database now; SqlUnavailable (an error naming it) when it cannot be opened."""
        self._sql.connection(database)

    def database_exists(self, database: str) -> bool:
        """False only when SQL Server says the database does not exist; any other failure is raised."""
        try:
            self._sql.connection(database)
        except SqlUnavailable as exc:
            if DATABASE_MISSING in exc.cause:
                self._evidence[f"{database}: exists"] = False
                return False
            raise
        self._evidence[f"{database}: exists"] = True
        return True

    # --- SQL Server state (GP-PRE-014 to GP-PRE-017) ------------------------------------------------------

    def gp_databases(self) -> list[str]:
        """The GP databases on the server: the system database, each company's (SY01500), and the web
        components' configuration, 2013-era session and Tenant Services databases where they exist."""
        on_server = self.databases()
        names = [
            self.system_database,
            *(c.database for c in self.companies()),
            self.config_database,
            *(str(self.profile[k]) for k in ("sql.old_session_database", "sql.tenant_discovery_database")),
        ]
        return [on_server[n.upper()].name for n in dict.fromkeys(names) if n.upper() in on_server]

    def tables(self, database: str) -> list[str]:
        """The base tables of a database (schema.name)."""
        return [
            f"{str(r['TABLE_SCHEMA']).strip()}.{str(r['TABLE_NAME']).strip()}"
            for r in self.rows(database, "database_tables")
        ]

    def missing_company_databases(self) -> list[Company]:
        """The companies of SY01500 whose database SQL Server does not list (GP-PRE-013 fails them; a per-company
        check cannot pass for them either)."""
        on_server = self.databases()
        return [c for c in self.companies() if c.database.upper() not in on_server]

    def last_full_backups(self) -> dict[str, LastBackup]:
        """Each database's last full backup by upper-cased name (msdb.dbo.backupset, read in database msdb)."""
        return _last_backups(self.rows("msdb", "backups"))

    def last_full_backup_before(self, database: str, moment: datetime) -> LastBackup | None:
        """The database's last full backup that finished before `moment`, a time of the server's clock. The last
        full backup (last_full_backups, read once for every database) is that one when it finished before; msdb is
        asked again only when it finished after (a backup taken once the upgrade had started)."""
        last = self.last_full_backups().get(database.upper())
        if last is None:
            return None
        if (last.finished + last.offset).replace(tzinfo=None) < moment:  # its finish on the server's clock
            return last
        return _last_backups(self.rows("msdb", "backup_before", (database, moment))).get(database.upper())

    def server_version(self) -> str:
        """SQL Server's ProductVersion, e.g. 15.0.4355.3."""
        rows = self.rows(self.system_database, "server_version")
        return str(rows[0]["product_version"] or "").strip() if rows else ""

    def login_exists(self, login: str) -> bool:
        """Whether the server has this login (sys.server_principals, read through the system database)."""
        return bool(self.rows(self.system_database, "server_login", (login,)))

    def database_user(self, database: str, login: str) -> str | None:
        """The name of the user mapped to the login in the database (by SID), or None."""
        rows = self.rows(database, "database_user", (login,))
        return str(rows[0]["user_name"]).strip() if rows else None
