"""Preparing for the upgrade: a working desktop client, matching the databases, on the session hosts.

Major upgrades install side by side: the previous release stays in its folder (upgrade/installing-on-first-
computer.md). Before the web components are upgraded the tenant configuration may still name the old folder, so
these checks look for the desktop client in every release folder, not at one fixed path.
"""

from __future__ import annotations

import pytest

from gpverify.catalogue import check
from gpverify.config.profiles import Profile
from gpverify.config.versions import same_build
from gpverify.errors import FactsUnavailable
from gpverify.expect import runtime_later
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView
from gpverify.facts.windows import FileFact
from gpverify.plugin import evidence_key

SECTION = "Preparing for the upgrade"
WORKING = ("You should verify that at least one desktop client installation is working properly before you "
           "continue with the Microsoft Dynamics GP web client upgrade")
FIRST_STEP = ("The first step to performing the upgrade for a scale out installation is to upgrade for the database "
              "and the desktop client components for Microsoft Dynamics GP")


def _database_version(gp_sql: GpSqlView) -> str | None:
    """Dynamics GP's version in the system database (DB_Upgrade, PRODID 0); None without a row (GP-PRE-001)."""
    rows = [r for r in gp_sql.database_versions()
            if r.product == 0 and r.database.upper() == gp_sql.system_database.upper()]
    return rows[0].version if rows else None


def matching_client(host: HostView, version: str) -> FileFact | None:
    """The Dynamics.exe, in any release folder, at the databases' major version and build."""
    return next((f for f in host.found_files("dynamics_exe") if f.exists and same_build(f.version, version)), None)


def client_version_problem(host: HostView, version: str | None, system_database: str) -> str | None:
    if version is None:
        return None  # no GP row in DB_Upgrade: GP-PRE-001 reports it
    if matching_client(host, version):
        return None
    found = ", ".join(f"{f.version or 'no version'} at {f.path}" for f in host.found_files("dynamics_exe"))
    return (f"{host.name}: no desktop client at {version} (the version of {system_database}); found "
            f"{found or 'no Dynamics.exe in any Microsoft Dynamics folder'}")


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


def dex_ini_problem(host: HostView, version: str | None) -> str | None:
    """Dex.ini beside the desktop client at the databases' version (or any, when that client is missing)."""
    exe = matching_client(host, version) if version else None
    folder = exe.path.rsplit("\\", 1)[0].lower() if exe else None
    inis = [f for f in host.found_files("dex_ini") if f.exists]
    if folder is not None:
        if any(f.path.lower().startswith(folder + "\\") for f in inis):
            return None
        return f"{host.name}: Dex.ini not found in {folder}\\Data (the desktop client at {version})"
    return None if inis else f"{host.name}: Dex.ini not found in any Microsoft Dynamics folder"


@check(
    "GP-PRE-005",
    title=f"{FIRST_STEP} (on each session host, a desktop client at the databases' version is installed).",
    section=SECTION,
    impact="critical",
    remediation="Install or update the desktop client on this session host to the databases' release and build; "
    "GP refuses to log in when the client and the databases differ (upgrade/system-preparation.md).",
)
def test_desktop_client_matches_databases(session_host: HostView, gp_sql: GpSqlView, farm: Farm) -> None:
    problem = client_version_problem(session_host, _database_version(gp_sql), gp_sql.system_database)
    runtime_later(farm.inventory.web_components_only, [problem] if problem else [])
    assert problem is None, problem


@check(
    "GP-PRE-006",
    title=f"{WORKING} (on each session host, the 32-bit ODBC data source exists).",
    section=SECTION,
    impact="high",
    remediation="Create the 32-bit ODBC data source 'Dynamics GP' with the 32-bit ODBC administrator "
    "(installation/installing-on-first-computer.md, upgrade/system-preparation.md).",
)
def test_odbc_data_source_exists(session_host: HostView, farm: Farm) -> None:
    problem = odbc_problem(session_host, farm.profile)
    assert problem is None, problem


@check(
    "GP-PRE-007",
    title=f"{WORKING} (on each session host, Dex.ini is present beside the desktop client).",
    section=SECTION,
    impact="high",
    remediation="Repair the desktop client installation on this session host so that its Data\\Dex.ini exists "
    "(installation/SystemAdminGuide.md).",
)
def test_dex_ini_is_present(session_host: HostView, gp_sql: GpSqlView) -> None:
    problem = dex_ini_problem(session_host, _database_version(gp_sql))
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
    "desktop client before you continue (scale-out-upgrade.md).",
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
                 dex_ini_problem(host, version)]
        problems[name] = [p for p in found if p]
    assert every_session_host, "the inventory lists no session host"
    assert any(not p for p in problems.values()), "no session host has a working desktop client: " + "; ".join(
        "; ".join(p) for p in problems.values())
