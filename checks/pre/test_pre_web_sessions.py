"""Preparing for the upgrade: no web client session is left running.

Session Management shows each host's "Total Sessions Running" (managing-web-client-sessions.md): read first from
Session Central through GP's PowerShell module on the web server (fixtures/post.py). Without it, from the session
database: before a GP 2013-era upgrade the old session database GPWEBCLIENTSESSIONCENTRAL, which the web server
upgrade migrates into the new configuration database (single-machine-upgrade.md); after it, GPCONFIGURATION.
Neither database's tables are public: the check reads them through the profile's config_db.* and old_session_db.*
identifiers, and is "not verified" until those are set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import pytest

from gpverify.catalogue import check
from gpverify.facts import configdb
from gpverify.facts.gpsql import GpSqlView, Row
from gpverify.facts.sessioncentral import SessionManagement

SECTION = "Preparing for the upgrade"


def _describe(database: str, sessions: list[Row]) -> str:
    return f"{database}: {len(sessions)} web client session(s) still active: " + ", ".join(
        f"{s['UserId']}" + (f" on {s['HostName']}" if s.get("HostName") else "") + f" (session {s['SessionId']})"
        for s in sessions
    )


@check(
    "GP-PRE-009",
    title="Be sure that all of the users have signed out of the system before you start the web client "
    "upgrade process (no web client sessions).",
    section=SECTION,
    impact="critical",
    remediation=(
        "Ask the users listed to sign out of the web client, or end their sessions in the Session "
        "Management snap-in of the Web Management Console "
        "(https://learn.microsoft.com/dynamics-gp/web-components/managing-web-client-sessions); a closed "
        "browser leaves its session running while HeartbeatTimeout is 0."
    ),
)
def test_no_web_client_sessions(
    gp_sql: GpSqlView, session_central: tuple[SessionManagement | None, str], unverifiable: Callable[[str], NoReturn]
) -> None:
    view, why = session_central
    if view is not None and view.sessions is not None:
        running = [h for h in view.hosts if h.sessions]
        assert not running, (
            "Session Central shows web client sessions still running: "
            + ", ".join(f"{h.name}: {h.sessions}" for h in running)
            + f" ({view.sessions.describe()}; {view.source})"
        )
        return
    why = why or (view.problems.get("sessions", "") if view else "")
    if gp_sql.database_exists(gp_sql.config_database):
        if gp_sql.profile.unconfirmed(*configdb.SESSION_KEYS):
            unverifiable(
                f"Session Central's sessions could not be read ({why}); and {gp_sql.config_database}'s "
                "tables are not public: set config_db.sessions_table and its columns under `overrides:` "
                "(gpverify discover lists them)"
            )
        sessions = configdb.sessions(gp_sql)
        assert not sessions, _describe(gp_sql.config_database, sessions)
        return
    old = str(gp_sql.profile["sql.old_session_database"])
    if not gp_sql.database_exists(old):
        pytest.skip(
            f"neither the configuration database {gp_sql.config_database} nor the GP 2013-era session "
            f"database {old} exists, so no web client session can be recorded"
        )
    sessions = configdb.old_sessions(gp_sql, old)
    assert not sessions, _describe(old, sessions)
