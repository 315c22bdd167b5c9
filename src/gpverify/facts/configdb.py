"""Web components configuration database facts (GPCONFIGURATION): what Session Management shows.

The table and column names are not public (gp-facts.md Unknowns 2); the queries take them from the profile
(sql.config_session_hosts_table) and `gpverify discover` lists a live database's tables to set them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpverify.facts.gpsql import GpSqlView


@dataclass(frozen=True)
class SessionHostEntry:
    """One row of the Session Management snap-in's session host list."""

    name: str
    suspended: bool  # Suspended: no new web client sessions (running ones continue, S5)

    @property
    def short_name(self) -> str:
        return short_name(self.name)


def short_name(name: str) -> str:
    """gp-sh01.contoso.com -> gp-sh01 (lower case): inventories and the snap-in may use either form."""
    return name.strip().split(".")[0].lower()


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y"}
    return bool(value)


def session_hosts(sql: GpSqlView) -> list[SessionHostEntry]:
    """The session hosts registered in the configuration database."""
    rows = sql.rows(sql.config_database, "config_session_hosts")
    return [SessionHostEntry(str(r["HostName"] or "").strip(), _flag(r["Suspended"])) for r in rows]


def tables(sql: GpSqlView) -> list[tuple[str, str]]:
    """(schema, table) of every base table of the configuration database, for `gpverify discover`."""
    rows = sql.rows(sql.config_database, "config_tables")
    return sorted((str(r["TABLE_SCHEMA"]), str(r["TABLE_NAME"])) for r in rows)
