"""Preparing for the upgrade: every user has signed out before the web client upgrade starts."""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.facts.gpsql import GpSqlView

SECTION = "Preparing for the upgrade"


@check(
    "GP-PRE-008",
    title="Be sure that all of the users have signed out of the system before you start the web client "
    "upgrade process.",
    section=SECTION,
    impact="critical",
    remediation="Ask the users listed to sign out (Tools > Utilities > System > User Activity shows them); clear "
    "stale rows only as KB 850289 describes, after confirming nobody is working.",
)
def test_all_users_signed_out(gp_sql: GpSqlView) -> None:
    activity = gp_sql.sign_in_activity()
    assert activity.is_empty, f"{gp_sql.system_database}: users are still signed in: {activity.describe()}"
