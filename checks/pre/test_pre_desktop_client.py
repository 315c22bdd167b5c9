"""Preparing for the upgrade: a working desktop client, matching the databases, on the session hosts.

Major upgrades install side by side: the previous release stays in its folder (upgrade/installing-on-first-
computer.md). Before the web components are upgraded the tenant configuration may still name the old folder, so
these checks look for the desktop client in every release folder, not at one fixed path.

At this gate they advise (a warning): "at least one desktop client installation is working" is what the guide asks
now, and each session host's own desktop client is updated at its step 2 ("If you haven't already done so, perform
the update for the desktop client components"), where that host's gate fails it (GP-HOST-012).
"""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.errors import FactsUnavailable
from gpverify.expect import (
    database_gp_version,
    desktop_client_problems,
    desktop_version_problem,
    dex_ini_problem,
    host_step_later,
    odbc_problem,
    runtime_later,
)
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView
from gpverify.verdicts import warn

SECTION = "Preparing for the upgrade"
WORKING = (
    "You should verify that at least one desktop client installation is working properly before you "
    "continue with the Microsoft Dynamics GP web client upgrade"
)
FIRST_STEP = (
    "The first step to performing the upgrade for a scale out installation is to upgrade for the database "
    "and the desktop client components for Microsoft Dynamics GP"
)


def _advise(problems: list[str], farm: Farm) -> None:
    """Before the web client upgrade a session host's desktop client is advice: the host's own step 2 updates it."""
    if farm.inventory.web_components_only:
        runtime_later(True, problems)
    host_step_later(problems)


@check(
    "GP-PRE-005",
    title=f"{FIRST_STEP} (on each session host, a desktop client at the databases' version is installed; advice "
    "here, the host's gate requires it).",
    section=SECTION,
    impact="high",
    remediation="Install or update the desktop client on this session host to the databases' release and build, "
    "at the latest in the host's own upgrade step; GP refuses to log in when the client and the databases differ "
    "(https://learn.microsoft.com/dynamics-gp/upgrade/system-preparation).",
)
def test_desktop_client_matches_databases(session_host: HostView, gp_sql: GpSqlView, farm: Farm) -> None:
    problem = desktop_version_problem(session_host, database_gp_version(gp_sql), gp_sql.system_database)
    _advise([problem] if problem else [], farm)


@check(
    "GP-PRE-006",
    title=f"{WORKING} (on each session host, a 32-bit ODBC data source points at the GP SQL Server; advice here).",
    section=SECTION,
    impact="medium",
    remediation="Create a 32-bit System DSN for the GP SQL Server with the 32-bit ODBC administrator (any name: "
    "'Dynamics GP' is the installer's default), or correct the server of the one there "
    "(https://learn.microsoft.com/dynamics-gp/installation/installing-on-first-computer).",
)
def test_odbc_data_source_exists(session_host: HostView, farm: Farm) -> None:
    problem = odbc_problem(session_host, farm.profile, farm.inventory.sql.server)
    _advise([problem] if problem else [], farm)


@check(
    "GP-PRE-007",
    title=f"{WORKING} (on each session host, Dex.ini is present beside the desktop client; advice here).",
    section=SECTION,
    impact="medium",
    remediation="Repair the desktop client installation on this session host so that its Data\\Dex.ini exists "
    "(https://learn.microsoft.com/dynamics-gp/installation/systemadminguide).",
)
def test_dex_ini_is_present(session_host: HostView, gp_sql: GpSqlView, farm: Farm) -> None:
    problem = dex_ini_problem(session_host, database_gp_version(gp_sql))
    _advise([problem] if problem else [], farm)


@check(
    "GP-PRE-010",
    title=f"{WORKING} (one working desktop client is enough; the session hosts' own are required at their gates).",
    section=SECTION,
    impact="high",
    remediation="Log in to GP with a desktop client at the databases' release (the one where you ran Dynamics GP "
    "Utilities counts) before you continue; resolve the problems listed on each session host at the latest in "
    "its own upgrade step (https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade).",
)
def test_at_least_one_desktop_client_works(
    every_session_host: dict[str, HostView | FactsUnavailable], gp_sql: GpSqlView, farm: Farm
) -> None:
    assert every_session_host, "the inventory lists no session host"
    version = database_gp_version(gp_sql)
    problems: dict[str, list[str]] = {}
    for name, host in every_session_host.items():
        if isinstance(host, FactsUnavailable):
            problems[name] = [f"{name}: could not read the facts: {host.cause}"]
            continue
        problems[name] = desktop_client_problems(
            host, version, gp_sql.system_database, farm.profile, farm.inventory.sql.server
        )
    if all(problems.values()):
        # Any working desktop client satisfies "at least one", and the one GP Utilities ran on is not a session
        # host of the inventory: gpverify cannot see it, so this is advice, not a failed precondition.
        warn(
            "no session host has a working desktop client yet (a working one elsewhere, such as where Dynamics GP "
            "Utilities ran, satisfies the guide; gpverify cannot see it): "
            + "; ".join("; ".join(p) for p in problems.values())
        )
