"""Preparing for the upgrade: SQL Server's side: backups, database state, version and the web client's login."""

from __future__ import annotations

from datetime import datetime

from gpverify.catalogue import check
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView
from gpverify.verdicts import not_verified, warn

SECTION = "Preparing for the upgrade"
EXPECTED_STATE = {"state": "ONLINE", "user_access": "MULTI_USER"}


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@check(
    "GP-PRE-014",
    title="You should make at least one complete backup of all your databases before upgrading (a full backup of "
    "the system database, every company database and the configuration database, finished after the upgrade "
    "started).",
    section=SECTION,
    impact="critical",
    remediation="Make a full backup of each database named (BACKUP DATABASE, or a maintenance plan; copy-only full "
    "backups count) and run the checks again (upgrade/system-preparation.md, Backups). `gpverify upgrade` asks for "
    "backups finished after the run started; otherwise the inventory's `backups: {since: ...}` or "
    "`{within_hours: N}` (default 24) sets the time, or pytest's --backups-since.",
)
def test_full_backups_since_the_upgrade_started(gp_sql: GpSqlView, backups_since: datetime) -> None:
    last = gp_sql.last_full_backups()
    problems = []
    for database in gp_sql.gp_databases():
        backup = last.get(database.upper())
        if backup is None:
            problems.append(f"{database}: no full backup in msdb.dbo.backupset")
        elif backup.finished < backups_since:
            problems.append(f"{database}: last full backup finished {backup.describe()}")
    assert not problems, (f"expected a full backup finished after {_utc(backups_since)} of every GP database: "
                          + "; ".join(problems))


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
        problems += [f"{database}: {what} {found[what]}, expected {want}"
                     for what, want in EXPECTED_STATE.items() if found[what].upper() != want]
        if state.read_only:
            problems.append(f"{database}: READ_ONLY, expected READ_WRITE")
    assert not problems, "; ".join(problems)


def _major(version: str) -> int | None:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


@check(
    "GP-PRE-016",
    title="SQL Server's version and each GP database's compatibility level are supported by the target release "
    "(if you have upgraded SQL Server before upgrading Dynamics GP, change the compatibility level of all your "
    "databases).",
    section=SECTION,
    impact="high",
    remediation="Run the GP databases on a SQL Server the target release supports (the release's system "
    "requirements), and set each database's compatibility level to that SQL Server's: Database Properties > "
    "Options > Compatibility level, or ALTER DATABASE [name] SET COMPATIBILITY_LEVEL = n "
    "(upgrade/system-preparation.md, Known issues). The minimums are profile data (sql_server.min_major, "
    "sql_server.min_compatibility_level; `gpverify profile` shows their source).",
)
def test_sql_server_version_and_compatibility(gp_sql: GpSqlView, farm: Farm) -> None:
    min_major, min_level = (int(farm.profile[f"sql_server.{k}"]) for k in ("min_major", "min_compatibility_level"))
    version = gp_sql.server_version()
    major = _major(version)
    problems = []
    if major is None:
        problems.append(f"SQL Server: ProductVersion {version!r} is not a version, expected major {min_major} or later")
    elif major < min_major:
        problems.append(f"SQL Server: version {version} (major {major}), expected major {min_major} or later "
                        f"for {farm.profile['release']}")
    states = gp_sql.databases()
    levels = {db: states[db.upper()].compatibility_level for db in gp_sql.gp_databases()}
    problems += [f"{db}: compatibility level {level}, expected {min_level} or higher"
                 for db, level in levels.items() if level < min_level]
    assert not problems, "; ".join(problems)
    # The guide: after moving to a newer SQL Server, set every database to that SQL Server's level (major x 10).
    native = major * 10 if major else 0
    if behind := [f"{db} ({level})" for db, level in levels.items() if level < native]:
        warn(f"SQL Server {version} runs at compatibility level {native}; databases below it: " + ", ".join(behind)
             + " (upgrade/system-preparation.md says to change the level of all your databases to the server's)")


@check(
    "GP-PRE-017",
    title="The Web Client SQL Server login (Dynamics GP Utilities, Manage Web Client SQL Server Login) is a user "
    "in the system database and every company database.",
    section=SECTION,
    impact="critical",
    remediation="Open Dynamics GP Utilities, choose Manage Web Client SQL Server Login in Additional Tasks and "
    "save the login again: it gives the login access to the system and company databases "
    "(upgrade/company-data-conversion.md; installation/SBA.md). A company restored from another server keeps an "
    "orphaned user: map it to the login (ALTER USER [user] WITH LOGIN = [login]). If the user is there, the "
    "login gpverify connects with lacks VIEW ANY DEFINITION, without which SQL Server hides other principals.",
)
def test_web_client_login_is_a_user_everywhere(gp_sql: GpSqlView, farm: Farm) -> None:
    login = farm.inventory.sql.web_client_login
    if not login:
        not_verified("the Web Client SQL Server login's name is chosen at install; set sql.web_client_login in "
                     f"the inventory ({farm.origin}) to the login given in Manage Web Client SQL Server Login")
    assert gp_sql.login_exists(login), (
        f"SQL Server: no login {login!r} in sys.server_principals, expected the Web Client SQL Server login "
        "(or the gpverify login lacks VIEW ANY DEFINITION to see it)")
    states = gp_sql.databases()
    databases = [gp_sql.system_database, *(c.database for c in gp_sql.companies())]
    missing = [db for db in dict.fromkeys(databases) if db.upper() in states and gp_sql.database_user(db, login) is None]
    assert not missing, "; ".join(f"{db}: no user mapped to login {login!r}, expected one (by SID)" for db in missing)
