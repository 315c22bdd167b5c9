"""GP SQL facts: one read-only connection per database, each query loaded from a checked T-SQL file."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from gpverify.errors import SqlUnavailable
from gpverify.inventory import SqlSettings
from gpverify.profiles import Profile
from gpverify.sqlguard import check_read_only, quote_identifier
from gpverify.transport.odbc import SqlConnection, SqlTarget, open_sql

Row = dict[str, Any]


def load_query(name: str, identifiers: dict[str, str] | None = None) -> str:
    """A query file, with profile-given table names validated and quoted; then checked to be one SELECT."""
    sql = resources.files(__package__).joinpath("queries", f"{name}.sql").read_text(encoding="utf-8")
    for placeholder, identifier in (identifiers or {}).items():
        sql = sql.replace("{" + placeholder + "}", quote_identifier(identifier))
    check_read_only(sql, source=f"{name}.sql")
    return sql


def _connector(settings: SqlSettings) -> Any:
    if settings.lab_dir:  # the simulated lab: SQLite files through the same pyodbc/unixODBC chain
        from gpverify.lab.sql import lab_connector

        return lab_connector(Path(settings.lab_dir))
    return None


@dataclass
class GpSql:
    """The farm's GP databases for one run: lazy connections, each query's rows cached."""

    settings: SqlSettings
    profile: Profile
    password: str | None
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


class GpSqlView:
    """What a check sees of the GP databases; every query result it reads is kept as evidence."""

    def __init__(self, sql: GpSql, evidence: dict[str, Any]) -> None:
        self._sql = sql
        self._evidence = evidence
        self.system_database = sql.system_database
        self.config_database = sql.config_database

    def rows(self, database: str, query: str, params: tuple[Any, ...] = ()) -> list[Row]:
        rows = self._sql.rows(database, query, params)
        self._evidence[f"{database}: {query}"] = [{k: str(v) for k, v in r.items()} for r in rows]
        return rows

    def sign_in_activity(self) -> SignInActivity:
        db = self.system_database
        return SignInActivity(*(self.rows(db, q) for q in (
            "sign_in_activity", "batch_activity", "resource_activity", "dex_locks", "dex_sessions")))
