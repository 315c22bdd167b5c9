"""Preparing for the upgrade: SQL Server's side: backups, database state, version and the web client's login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gpverify.catalogue import check
from gpverify.errors import SqlUnavailable
from gpverify.expect import every_company, missing_companies
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView, LastBackup
from gpverify.verdicts import not_verified, warn

SECTION = "Preparing for the upgrade"
EXPECTED_STATE = {"state": "ONLINE", "user_access": "MULTI_USER"}


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@check(
    "GP-PRE-014",
    title="You should make at least one complete backup of all your databases before upgrading (a full backup of "
    "each database Dynamics GP Utilities upgrades, finished before it started upgrading that database; of the "
    "configuration and other GP databases, finished after the upgrade run started).",
    section=SECTION,
    impact="critical",
    remediation="Make a full backup of each database named (BACKUP DATABASE, or a maintenance plan; copy-only full "
    "backups count) before Dynamics GP Utilities upgrades it: a backup taken after GP Utilities started is no "
    "rollback point of the GP upgrade (https://learn.microsoft.com/dynamics-gp/upgrade/system-preparation#backups). "
    "`gpverify upgrade` asks for backups before its GP Utilities step; otherwise the inventory's `backups: {since: "
    "...}` or `{within_hours: N}` (default 24) sets how recent they must be, or pytest's --backups-since.",
)
def test_full_backups_since_the_upgrade_started(gp_sql: GpSqlView, farm: Farm, backups_since: datetime) -> None:
    started = _utilities_started(gp_sql, farm)
    last = gp_sql.last_full_backups()
    problems = []
    for database in gp_sql.gp_databases():
        start = started.get(database.upper())
        problem = (
            _rollback_problem(gp_sql, database, start, last.get(database.upper()), backups_since, farm)
            if start
            else _recent_problem(database, last.get(database.upper()), backups_since)
        )
        problems += [problem] if problem else []
    if problems:
        problems[0] = "expected a full backup of every GP database before it is upgraded: " + problems[0]
    every_company(problems, missing_companies(gp_sql), "the full backups")


def _utilities_started(gp_sql: GpSqlView, farm: Farm) -> dict[str, datetime]:
    """When GP Utilities started upgrading each database to the target release (DB_Upgrade start_time of PRODID 0)."""
    return {
        r.database.upper(): r.started
        for r in gp_sql.database_versions()
        if r.product == 0 and r.started is not None and not farm.target.problem(r.version)
    }


def _recent_problem(database: str, backup: LastBackup | None, since: datetime) -> str | None:
    """A database GP Utilities has not upgraded (or never does): a full backup since the bound."""
    if backup is None:
        return f"{database}: no full backup in msdb.dbo.backupset"
    if backup.finished < since:
        return f"{database}: last full backup finished {backup.describe()}, expected after {_utc(since)}"
    return None


def _rollback_problem(
    gp_sql: GpSqlView, database: str, start: datetime, last: LastBackup | None, since: datetime, farm: Farm
) -> str | None:
    """An upgraded database: its last full backup before GP Utilities started (start_time is the server's clock,
    inferred: no source says which clock GP Utilities writes), within the inventory's window before that."""
    when = f"Dynamics GP Utilities started upgrading it at {start:%Y-%m-%d %H:%M:%S} (DB_Upgrade start_time)"
    backup = gp_sql.last_full_backup_before(database, start)
    if backup is None:
        later = (
            (
                f"; its last full backup finished {last.describe()}, after the upgrade started, so it is no "
                "rollback point"
            )
            if last
            else ""
        )
        return f"{database}: no full backup finished before {when}{later}"
    start_utc = (start - backup.offset).replace(tzinfo=UTC)
    lower = since if since < start_utc else start_utc - timedelta(hours=farm.inventory.backups.within_hours)
    if backup.finished < lower:
        return (
            f"{database}: the last full backup before {when} finished {backup.describe()}, expected after {_utc(lower)}"
        )
    return None


@check(
    "GP-PRE-015",
    title="The system, company and configuration databases are ONLINE, MULTI_USER and READ_WRITE "
    "(sys.databases), so Dynamics GP Utilities and the web client can open and update them.",
    section=SECTION,
    impact="critical",
    remediation="Find out why the database was changed (a restore left it RESTORING, a repair left it SINGLE_USER), "
    "then ALTER DATABASE [name] SET ONLINE, SET MULTI_USER or SET READ_WRITE (SQL Server's ALTER DATABASE SET "
    "options, https://learn.microsoft.com/sql/t-sql/statements/alter-database-transact-sql-set-options).",
)
def test_databases_online_multi_user_writable(gp_sql: GpSqlView) -> None:
    states = gp_sql.databases()
    problems = []
    for database in gp_sql.gp_databases():
        state = states[database.upper()]
        found = {"state": state.state, "user_access": state.user_access}
        problems += [
            f"{database}: {what} {found[what]}, expected {want}"
            for what, want in EXPECTED_STATE.items()
            if found[what].upper() != want
        ]
        if state.read_only:
            problems.append(f"{database}: READ_ONLY, expected READ_WRITE")
    every_company(problems, missing_companies(gp_sql), "the database state")


def sql_version(text: str) -> tuple[int, ...] | None:
    """'13.0.5026.0' -> (13, 0, 5026, 0); None when it is not a SQL Server version."""
    parts = text.strip().split(".")
    return tuple(int(p) for p in parts) if parts and all(p.isdigit() for p in parts) else None


def _at_least(found: tuple[int, ...], minimum: tuple[int, ...]) -> bool:
    return found[: len(minimum)] >= minimum  # '12.0' admits every 12.0.x build


@check(
    "GP-PRE-016",
    title="SQL Server's version and each GP database's compatibility level are supported by the target release "
    "(if you have upgraded SQL Server before upgrading Dynamics GP, change the compatibility level of all your "
    "databases).",
    section=SECTION,
    impact="high",
    remediation="Run the GP databases on a SQL Server the target release supports (KB 878449 "
    "(https://learn.microsoft.com/troubleshoot/dynamics/gp/transfer-gp-installation-new-server) lists them per "
    "release), and set each "
    "database's compatibility level as the upgrade guide says for your SQL Server: Database Properties > Options > "
    "Compatibility level, or ALTER DATABASE [name] SET COMPATIBILITY_LEVEL = n "
    "(https://learn.microsoft.com/dynamics-gp/upgrade/system-preparation#known-issues). The values are profile data "
    "(sql_server.min_version, sql_server.min_compatibility_level, sql_server.compatibility_levels; "
    "`gpverify profile` shows their sources).",
)
def test_sql_server_version_and_compatibility(gp_sql: GpSqlView, farm: Farm) -> None:
    minimum = str(farm.profile["sql_server.min_version"])
    min_level = int(farm.profile["sql_server.min_compatibility_level"])
    version = gp_sql.server_version()
    found = sql_version(version)
    problems = []
    if found is None:
        problems.append(f"SQL Server: ProductVersion {version!r} is not a version, expected {minimum} or later")
    elif not _at_least(found, sql_version(minimum) or ()):
        problems.append(
            f"SQL Server: version {version}, expected {minimum} or later for {farm.profile['release']} (KB 878449)"
        )
    states = gp_sql.databases()
    levels = {db: states[db.upper()].compatibility_level for db in gp_sql.gp_databases()}
    problems += [
        f"{db}: compatibility level {level}, expected {min_level} or higher"
        for db, level in levels.items()
        if level < min_level
    ]
    every_company(problems, missing_companies(gp_sql), "the compatibility level")
    # The guide names a level per SQL Server it covers ("SQL Server 2016 (120)" as printed), not "the server's own":
    # advise only where it names one, and only below it.
    prescribed = (farm.profile["sql_server.compatibility_levels"] or {}).get(str(found[0])) if found else None
    if prescribed and (behind := [f"{db} ({level})" for db, level in levels.items() if level < int(prescribed)]):
        warn(
            f"SQL Server {version}: upgrade/system-preparation.md says to change the compatibility level of all your "
            f"databases to {prescribed} on this SQL Server; below it: " + ", ".join(behind)
        )


@check(
    "GP-PRE-017",
    title="The Web Client SQL Server login (Dynamics GP Utilities, Manage Web Client SQL Server Login) is a user "
    "in the system database and every company database.",
    section=SECTION,
    impact="critical",
    remediation=(
        "Open Dynamics GP Utilities, choose Manage Web Client SQL Server Login in Additional Tasks and save "
        "the login again: it gives the login access to the system and company databases "
        "(https://learn.microsoft.com/dynamics-gp/upgrade/company-data-conversion, "
        "https://learn.microsoft.com/dynamics-gp/installation/SBA). A company restored from another server "
        "keeps an orphaned user: map it to the login (ALTER USER [user] WITH LOGIN = [login]). If the user "
        "is there, the login gpverify connects with lacks VIEW ANY DEFINITION, without which SQL Server "
        "hides other principals."
    ),
)
def test_web_client_login_is_a_user_everywhere(gp_sql: GpSqlView, farm: Farm) -> None:
    login = farm.inventory.sql.web_client_login
    if not login:
        not_verified(
            "the Web Client SQL Server login's name is chosen at install; set sql.web_client_login in "
            f"the inventory ({farm.origin}) to the login given in Manage Web Client SQL Server Login"
        )
    assert gp_sql.login_exists(login), (
        f"SQL Server: no login {login!r} in sys.server_principals, expected the Web Client SQL Server login "
        "(or the gpverify login lacks VIEW ANY DEFINITION to see it)"
    )
    states = gp_sql.databases()
    databases = [gp_sql.system_database, *(c.database for c in gp_sql.companies())]
    missing, unreadable = [], missing_companies(gp_sql)
    for db in dict.fromkeys(databases):
        if db.upper() not in states:
            continue  # named in missing_companies
        try:
            if gp_sql.database_user(db, login) is None:
                missing.append(f"{db}: no user mapped to login {login!r}, expected one (by SID)")
        except SqlUnavailable as exc:
            unreadable.append(f"{db}: could not be read ({exc.cause})")
    every_company(missing, unreadable, f"the user of login {login!r}")
