"""Preparing for the upgrade: a working desktop client, matching the databases, on the session hosts."""

from __future__ import annotations

import pytest

from gpverify.catalogue import check
from gpverify.errors import FactsUnavailable
from gpverify.expect import file_version_problem
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView
from gpverify.farm import Farm
from gpverify.plugin import evidence_key
from gpverify.profiles import Profile

SECTION = "Preparing for the upgrade"
WORKING = ("You should verify that at least one desktop client installation is working properly before you "
           "continue with the Microsoft Dynamics GP web client upgrade")
FIRST_STEP = ("The first step to performing the upgrade for a scale out installation is to upgrade for the database "
              "and the desktop client components for Microsoft Dynamics GP")


def _database_version(gp_sql: GpSqlView) -> str:
    """The system database's GP version (DB_Upgrade, PRODID 0); the target when it has no row (GP-PRE-001)."""
    row = gp_sql.database_versions().get(gp_sql.system_database.upper())
    return row.version if row else gp_sql.target_version


def client_version_problem(host: HostView, database_version: str, system_database: str) -> str | None:
    return file_version_problem(host, "dynamics_exe", "Dynamics.exe", database_version,
                                f" (the version of {system_database})")


def odbc_problem(host: HostView, profile: Profile) -> str | None:
    where = profile["registry.odbc_dsn"]
    name = str(where["path"]).rsplit("\\", 1)[-1]
    dsn = host.registry("odbc_dsn")
    if dsn is None or not dsn.key_exists:
        return f"{host.name}: no 32-bit ODBC data source {name!r} (HKLM\\{where['path']}, {where['view']}-bit view)"
    if not dsn.exists or not str(dsn.value or "").strip():
        return (f"{host.name}: the 32-bit ODBC data source {name!r} has no {where['name']} value "
                f"(HKLM\\{where['path']}, {where['view']}-bit view)")
    return None


def dex_ini_problem(host: HostView) -> str | None:
    ini = host.file("dex_ini")
    if ini is None or not ini.exists:
        return f"{host.name}: Dex.ini not found ({ini.path if ini else 'profile files.dex_ini'})"
    return None


@check(
    "GP-PRE-005",
    title=f"{FIRST_STEP} (on each session host, Dynamics.exe matches the databases' version).",
    section=SECTION,
    impact="critical",
    remediation="Update the desktop client on this session host to the databases' release; GP refuses to log "
    "in when the client and the databases differ (S51).",
)
def test_desktop_client_matches_databases(session_host: HostView, gp_sql: GpSqlView) -> None:
    problem = client_version_problem(session_host, _database_version(gp_sql), gp_sql.system_database)
    assert problem is None, problem


@check(
    "GP-PRE-006",
    title=f"{WORKING} (on each session host, the 32-bit ODBC data source exists).",
    section=SECTION,
    impact="high",
    remediation="Create the 32-bit ODBC data source 'Dynamics GP' with the 32-bit ODBC administrator "
    "(S24, S51).",
)
def test_odbc_data_source_exists(session_host: HostView, farm: Farm) -> None:
    problem = odbc_problem(session_host, farm.profile)
    assert problem is None, problem


@check(
    "GP-PRE-007",
    title=f"{WORKING} (on each session host, Dex.ini is present).",
    section=SECTION,
    impact="high",
    remediation="Repair the desktop client installation on this session host so that Data\\Dex.ini exists "
    "(S25).",
)
def test_dex_ini_is_present(session_host: HostView) -> None:
    problem = dex_ini_problem(session_host)
    assert problem is None, problem


@pytest.fixture
def every_session_host(request: pytest.FixtureRequest, farm: Farm) -> dict[str, HostView | FactsUnavailable]:
    """All session hosts of the inventory (not limited by --host), or why a host could not be read."""
    names = [s.name for s in farm.hosts("session_host")]
    farm.collect(names)
    evidence = request.node.stash.setdefault(evidence_key, {})
    views: dict[str, HostView | FactsUnavailable] = {}
    for name in names:
        try:
            views[name] = HostView(name, farm.facts(name), evidence)
        except FactsUnavailable as exc:
            views[name] = exc
    return views


@check(
    "GP-PRE-010",
    title=f"{WORKING}.",
    section=SECTION,
    impact="critical",
    remediation="Resolve the problems listed on at least one session host and log in to GP there with the "
    "desktop client before you continue (S1).",
)
def test_at_least_one_desktop_client_works(every_session_host: dict[str, HostView | FactsUnavailable],
                                           gp_sql: GpSqlView, farm: Farm) -> None:
    version = _database_version(gp_sql)
    problems: dict[str, list[str]] = {}
    for name, host in every_session_host.items():
        if isinstance(host, FactsUnavailable):
            problems[name] = [f"{name}: could not read the facts: {host.cause}"]
            continue
        found = [client_version_problem(host, version, gp_sql.system_database), odbc_problem(host, farm.profile),
                 dex_ini_problem(host)]
        problems[name] = [p for p in found if p]
    assert every_session_host, "the inventory lists no session host"
    assert any(not p for p in problems.values()), "no session host has a working desktop client: " + "; ".join(
        "; ".join(p) for p in problems.values())
