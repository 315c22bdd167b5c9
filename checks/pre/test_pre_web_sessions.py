"""Preparing for the upgrade: no web client session is left in the configuration database."""

from __future__ import annotations

import pytest

from gpverify.catalogue import check
from gpverify.facts.gpsql import GpSqlView

SECTION = "Preparing for the upgrade"


@check(
    "GP-PRE-009",
    title="Be sure that all of the users have signed out of the system before you start the web client "
    "upgrade process (no web client sessions).",
    section=SECTION,
    impact="critical",
    remediation="Ask the users listed to sign out of the web client, or end their sessions in the Session "
    "Management snap-in of the Web Management Console (S5); a closed browser leaves its session running (S20).",
)
def test_no_web_client_sessions(gp_sql: GpSqlView) -> None:
    if not gp_sql.database_exists(gp_sql.config_database):
        pytest.skip(f"the configuration database {gp_sql.config_database} does not exist yet: the web server "
                    "upgrade creates it (S1), so there are no web client sessions to look for in it")
    sessions = gp_sql.config_sessions()
    assert not sessions, f"{gp_sql.config_database}: {len(sessions)} web client session(s) still active: " + ", ".join(
        f"{s['UserId']} on {s['HostName']} (session {s['SessionId']})" for s in sessions)
