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
    remediation="Users signed in: ask them to sign out (Tools > Utilities > System > User Activity lists them). "
    "Stale records (no live SQL Server session behind them, as a crashed client leaves): after confirming nobody is "
    "working, remove them as KB 864411 "
    "(https://learn.microsoft.com/troubleshoot/dynamics/gp/remove-all-the-inactive-sessions-dex-lock) (DEX_LOCK) "
    "and KB 864413 (https://learn.microsoft.com/troubleshoot/dynamics/gp/remove-all-the-inactive-dex-session) "
    "(DEX_SESSION) describe and delete the ACTIVITY, SY00800 and SY00801 rows of those users (KB 850289 "
    "(https://learn.microsoft.com/troubleshoot/dynamics/gp/a-batch-is-held-in-the-several-statuses)). To tell the two "
    "apart gpverify's SQL login needs VIEW SERVER STATE (read-only).",
)
def test_all_users_signed_out(gp_sql: GpSqlView) -> None:
    activity = gp_sql.sign_in_activity()
    parts = []
    if activity.live_users:
        parts.append(f"users are still signed in: {activity.describe_live()}")
    if undecided := activity.undecided_users:
        parts.append(
            "users signed in, or left by clients that ended without signing out (gpverify cannot tell: its "
            "SQL login lacks VIEW SERVER STATE, so sys.dm_exec_sessions does not show whether their SQL "
            f"Server process still exists): {activity.describe(undecided)}"
        )
    if stale := activity.stale():
        parts.append(
            "stale sign-in records with no live session behind them (clean up per KB 864411 and KB 864413): "
            + "; ".join(stale)
        )
    assert not parts, f"{gp_sql.system_database}: " + " | ".join(parts)
