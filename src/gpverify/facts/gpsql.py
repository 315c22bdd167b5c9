"""GP SQL facts: one read-only connection per database, each query loaded from a checked T-SQL file."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from gpverify.errors import SqlUnavailable
from gpverify.extension import lab
from gpverify.inventory import SqlSettings
from gpverify.profiles import Profile
from gpverify.sqlguard import check_read_only, quote_identifier
from gpverify.transport.odbc import SqlConnection, SqlTarget, open_sql

Row = dict[str, Any]


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
        return SqlTarget(driver=s.driver, server=s.server, database=database, authentication=s.authentication,
                         user=s.user, password=self.password, encrypt=s.encrypt,
                         trust_server_certificate=s.trust_server_certificate,
                         host_name_in_certificate=s.host_name_in_certificate)

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
            identifiers = {"session_hosts": self.profile["sql.config_session_hosts_table"],
                           "sessions": self.profile["sql.config_sessions_table"]}
            self._rows[key] = self.connection(database).query(query, load_query(query, identifiers), params)
        return self._rows[key]

    def close(self) -> None:
        for conn in self._connections.values():
            if isinstance(conn, SqlConnection):
                conn.close()


@dataclass(frozen=True)
class SignInActivity:
    users: list[Row]
    batches: list[Row]
    resources: list[Row]
    locks: list[Row]
    sessions: list[Row]

    @property
    def is_empty(self) -> bool:
        return not (self.users or self.batches or self.resources or self.locks or self.sessions)

    def describe(self) -> str:
        parts = []
        if self.users:
            parts.append("ACTIVITY " + ", ".join(f"{u['USERID']} in {u['CMPNYNAM']}" for u in self.users))
        if self.batches:
            parts.append("SY00800 batches " + ", ".join(f"{b['BACHNUMB']} ({b['USERID']})" for b in self.batches))
        if self.resources:
            parts.append("SY00801 resources " + ", ".join(f"{r['RSRCID']} ({r['USERID']})" for r in self.resources))
        if self.locks:
            parts.append(f"tempdb DEX_LOCK {len(self.locks)} lock(s) of session(s) "
                         + ", ".join(sorted({str(x['session_id']) for x in self.locks})))
        if self.sessions:
            parts.append(f"tempdb DEX_SESSION {len(self.sessions)} session(s)")
        return "; ".join(parts)


# --- typed readers for the upgrade checks (DB_Upgrade, DU000020, DU000030, configuration database) ----------

def _int(value: Any) -> int:
    return int(value) if value is not None and str(value).strip() != "" else 0


@dataclass(frozen=True)
class DatabaseVersion:
    """One DB_Upgrade row: the GP version GP Utilities left a database at, and whether it finished (S41)."""

    database: str
    major: int
    minor: int
    build: int
    status: int  # 0 = upgrade finished; anything else = in progress or interrupted (S41)

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"


@dataclass(frozen=True)
class Company:
    id: int
    name: str
    database: str  # SY01500.INTERID, the company database (S23)


@dataclass(frozen=True)
class CompanyVersion:
    """One DU000020 row: the version GP Utilities records for a company (KB 850662)."""

    company_id: int
    major: int
    minor: int
    build: int

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"


@dataclass(frozen=True)
class FailedConversion:
    """A table conversion the upgrade guide's DU000030/DU000010 query reports as failed (S23)."""

    company: str  # INTERID
    product: int
    table: str  # DU000010.fileOSName
    status: int
    error_number: int
    error: str

    def describe(self) -> str:
        return (f"{self.company} table {self.table} (product {self.product}): status {self.status}, "
                f"error {self.error_number} {self.error!r}")


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
        self.target_version = sql.profile.version  # the release the farm is upgraded to (profile `version`)

    def rows(self, database: str, query: str, params: tuple[Any, ...] = ()) -> list[Row]:
        rows = self._sql.rows(database, query, params)
        self._evidence[f"{database}: {query}"] = [{k: str(v) for k, v in r.items()} for r in rows]
        return rows

    def sign_in_activity(self) -> SignInActivity:
        db = self.system_database
        return SignInActivity(*(self.rows(db, q) for q in (
            "sign_in_activity", "batch_activity", "resource_activity", "dex_locks", "dex_sessions")))

    def database_versions(self, product: int = 0) -> dict[str, DatabaseVersion]:
        """DB_Upgrade rows of one product (0 = Dynamics GP), by database name upper-cased."""
        rows = self.rows(self.system_database, "database_versions", (product,))
        versions = [DatabaseVersion(str(r["db_name"]).strip(), _int(r["db_verMajor"]), _int(r["db_verMinor"]),
                                    _int(r["db_verBuild"]), _int(r["db_status"])) for r in rows]
        return {v.database.upper(): v for v in versions}

    def companies(self) -> list[Company]:
        rows = self.rows(self.system_database, "companies")
        return [Company(_int(r["CMPANYID"]), str(r["CMPNYNAM"]).strip(), str(r["INTERID"]).strip()) for r in rows]

    def company_versions(self, product: int = 0) -> dict[int, CompanyVersion]:
        """DU000020 rows of one product, by company ID."""
        rows = self.rows(self.system_database, "company_versions", (product,))
        return {_int(r["companyID"]): CompanyVersion(_int(r["companyID"]), _int(r["versionMajor"]),
                                                     _int(r["versionMinor"]), _int(r["versionBuild"]))
                for r in rows}

    def failed_conversions(self) -> list[FailedConversion]:
        rows = self.rows(self.system_database, "failed_conversions")
        return [FailedConversion(str(r["INTERID"]).strip(), _int(r["PRODID"]), str(r["fileOSName"]).strip(),
                                 _int(r["Status"]), _int(r["errornum"]), str(r["errordes"] or "").strip())
                for r in rows]

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

    def config_sessions(self) -> list[Row]:
        """Web client sessions recorded in the configuration database (profile sql.config_sessions_table)."""
        return self.rows(self.config_database, "config_sessions")

    def config_session_hosts(self) -> list[Row]:
        """Session hosts registered in the configuration database (profile sql.config_session_hosts_table)."""
        return self.rows(self.config_database, "config_session_hosts")
