"""Web client session databases (GPCONFIGURATION, and GPWEBCLIENTSESSIONCENTRAL before a GP 2013-era upgrade).

What Session Management shows lives in the configuration database, whose tables and columns Microsoft has not
published (docs/sources.md). Every table and column name is a profile identifier (config_db.*, old_session_db.*)
that ships unknown; until the operator sets them after `gpverify discover`, the checks that need them end as
"not verified" and say exactly what to set, instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gpverify.config.inventory import SqlSettings
from gpverify.facts.gpsql import GpSqlView, Row
from gpverify.facts.names import short_name, truthy
from gpverify.verdicts import not_verified

SESSION_HOST_KEYS = (
    "config_db.session_hosts_table",
    "config_db.session_host_name_column",
    "config_db.session_host_suspended_column",
    "config_db.session_host_status_time_column",
)
SESSION_KEYS = (
    "config_db.sessions_table",
    "config_db.session_id_column",
    "config_db.session_host_column",
    "config_db.session_user_column",
)
DEFAULT_CONFIG_DATABASE = str(SqlSettings.model_fields["config_database"].default)
OLD_SESSION_KEYS = (
    "old_session_db.sessions_table",
    "old_session_db.session_id_column",
    "old_session_db.session_user_column",
)


@dataclass(frozen=True)
class SessionHostEntry:
    """One row of the Session Management snap-in's session host list."""

    name: str
    suspended: bool  # Suspended: no new web client sessions (running ones continue; managing-web-client-sessions.md)
    last_status: datetime | None = None

    @property
    def short_name(self) -> str:
        return short_name(self.name)


def require(sql: GpSqlView, keys: tuple[str, ...], database: str) -> None:
    """End the check as not verified when any of these identifiers is still unknown, naming what to set.

    The database is opened first: one that cannot be reached is an error whatever the identifiers say.
    """
    sql.open(database)
    missing = sql.profile.unconfirmed(*keys)
    if missing:
        not_verified(
            f"{database}: Microsoft does not publish this database's tables and columns, so the check needs "
            f"them from you: run `gpverify discover --inventory FILE`, then set under `overrides:` in the "
            f"inventory {', '.join(f'{k}: <name>' for k in missing)}"
        )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y"}
    return bool(value)


def session_hosts(sql: GpSqlView) -> list[SessionHostEntry]:
    """The session hosts registered in the configuration database."""
    require(sql, SESSION_HOST_KEYS, sql.config_database)
    rows = sql.rows(sql.config_database, "config_session_hosts")
    when = sql.profile.get("config_db.session_host_suspended_when")
    return [
        SessionHostEntry(
            str(r["HostName"] or "").strip(),
            is_suspended(r["Suspended"], when),
            r["LastStatusUpdate"] if isinstance(r["LastStatusUpdate"], datetime) else None,
        )
        for r in rows
    ]


def is_suspended(value: Any, when: Any) -> bool:
    """Suspended: the column equals the value discovery saw on a suspended host, or (none set) is true."""
    if when is None:
        return _flag(value)
    return truthy(value) == truthy(when)


def configured(sql: GpSqlView) -> bool:
    """Whether the inventory names the configuration database's session host table and its columns."""
    return not sql.profile.unconfirmed(*SESSION_HOST_KEYS)


def _trimmed(rows: list[Row]) -> list[Row]:
    # The column types are unknown too: CHAR columns come blank-padded, so text is trimmed here, not in SQL.
    return [{k: v.strip() if isinstance(v, str) else v for k, v in r.items()} for r in rows]


def sessions(sql: GpSqlView) -> list[Row]:
    """Web client sessions recorded in the configuration database."""
    require(sql, SESSION_KEYS, sql.config_database)
    return _trimmed(sql.rows(sql.config_database, "config_sessions"))


def old_sessions(sql: GpSqlView, database: str) -> list[Row]:
    """Web client sessions in the GP 2013-era session database."""
    require(sql, OLD_SESSION_KEYS, database)
    return _trimmed(sql.rows(database, "old_sessions"))


def previous_databases(sql: GpSqlView) -> list[str]:
    """Databases on the server that may hold the configuration from before the upgrade: the GP 2013-era session
    database (sql.old_session_database) and one under the upgrade's default name GPCONFIGURATION when the new one was
    given another ("Upgrading the database will ask you for a new database name, defaulting to GPCONFIGURATION",
    scale-out-upgrade.md step 5)."""
    on_server = sql.databases()
    names = [str(sql.profile["sql.old_session_database"]), DEFAULT_CONFIG_DATABASE]
    return [
        on_server[n.upper()].name
        for n in dict.fromkeys(names)
        if n.upper() in on_server and n.upper() != sql.config_database.upper()
    ]


def columns(sql: GpSqlView, database: str) -> list[tuple[str, str, str, str]]:
    """(schema, table, column, type) of every column of a session database, for `gpverify discover`."""
    rows = sql.rows(database, "config_tables")
    return sorted(
        (str(r["TABLE_SCHEMA"]), str(r["TABLE_NAME"]), str(r["COLUMN_NAME"]), str(r["DATA_TYPE"])) for r in rows
    )
