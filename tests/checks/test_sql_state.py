"""SQL Server state before the upgrade (GP-PRE-014 to GP-PRE-017) on the lab, through pyodbc and unixODBC: backups
since a time (from the inventory, --backups-since or the runner's start), database state, SQL Server version and
compatibility level, the web client login; bad backup times in the inventory; the runner's backup step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from gpverify.config.inventory import load_inventory
from gpverify.config.profiles import load_profile
from gpverify.errors import ConfigError
from gpverify.lab.runtime import temporary_lab
from gpverify.lab.upgrade import attach, detach
from gpverify.runner.gates import gate_args
from gpverify.runner.plan import FarmShape, builtin_plan
from helpers.checks import CHECKS, CheckRun

Run = Callable[..., CheckRun]
TESTS = {
    "GP-PRE-014": "test_full_backups_since_the_upgrade_started",
    "GP-PRE-015": "test_databases_online_multi_user_writable",
    "GP-PRE-016": "test_sql_server_version_and_compatibility",
    "GP-PRE-017": "test_web_client_login_is_a_user_everywhere",
}
MINE = ("-k", " or ".join(TESTS.values()))


def overlay(tmp_path: Path, text: str, name: str = "overlay.yml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def outcomes(run: CheckRun) -> dict[str, str]:
    return {cid: run.outcomes.get(test, "not run") for cid, test in TESTS.items()}


def message(run: CheckRun, cid: str) -> str:
    return run.messages.get(TESTS[cid], "")


@pytest.mark.parametrize("scenario", ["before-upgrade", "healthy", "silverlight-before-upgrade", "silverlight"])
def test_healthy_labs_pass(run_checks: Run, scenario: str) -> None:
    run = run_checks("pre", "--lab", scenario, *MINE)
    assert set(outcomes(run).values()) == {"passed"}, run.text


# --- GP-PRE-014: backups --------------------------------------------------------------------------------


def test_backups_since_a_later_time_fail_naming_every_database_gp_utilities_has_not_upgraded(run_checks: Run) -> None:
    """The configuration and Tenant Services databases need a backup since the time given; the databases GP
    Utilities upgraded half an hour ago are judged by their backup before it started, which that time cannot move."""
    run = run_checks("pre", "--lab", "before-upgrade", "--backups-since", "2099-01-01T00:00:00Z", *MINE)
    assert outcomes(run)["GP-PRE-014"] == "failed", run.text
    text = message(run, "GP-PRE-014")
    assert all(
        f"{db}: last full backup finished" in text and "expected after 2099-01-01 00:00:00 UTC" in text
        for db in ("GPCONFIGURATION", "DYNGPDISCOVERY")
    )
    assert not any(f"{db}:" in text for db in ("DYNAMICS", "TWO", "CONTO"))


@pytest.mark.parametrize(
    ("backups", "outcome"),
    [
        ("{since: 2099-01-01T00:00:00Z}", "failed"),
        ("{since: '2020-01-01'}", "passed"),
        ("{within_hours: 1}", "failed"),  # the lab's nightly backups finished two hours ago
        ("{within_hours: 3}", "passed"),
    ],
)
def test_inventory_sets_the_backup_time(run_checks: Run, tmp_path: Path, backups: str, outcome: str) -> None:
    spec = overlay(
        tmp_path,
        f"description: backups set in the inventory.\nbase: before-upgrade\ninventory: {{backups: {backups}}}\n",
    )
    run = run_checks("pre", "--lab", spec, *MINE)
    assert outcomes(run)["GP-PRE-014"] == outcome, run.text


def test_database_with_only_log_backups_has_no_full_backup(run_checks: Run, tmp_path: Path) -> None:
    spec = overlay(
        tmp_path,
        """description: GPCONFIGURATION has log backups only; TWO also has an older full one.
base: before-upgrade
sql:
  msdb:
    backupset: {where: {database_name: GPCONFIGURATION, type: D}, delete: true,
                add: [{database_name: TWO, type: D, backup_finish_date: "2026-11-01 10:00:00", time_zone: 127}]}
""",
    )
    run = run_checks("pre", "--lab", spec, "--backups-since", "2026-10-01", *MINE)
    assert outcomes(run)["GP-PRE-014"] == "failed", run.text
    text = message(run, "GP-PRE-014")
    assert "GPCONFIGURATION: no full backup in msdb.dbo.backupset" in text
    assert "TWO" not in text  # its last full backup is the nightly one, whatever older rows say


def test_unknown_time_zone_is_read_as_utc_and_said(run_checks: Run, tmp_path: Path) -> None:
    spec = overlay(
        tmp_path,
        """description: TWO's only full backup has no recorded time zone.
base: before-upgrade
sql:
  msdb:
    backupset: {where: {database_name: TWO, type: D}, set: {backup_finish_date: "2026-11-01 10:00:00", time_zone: 127}}
""",
    )
    run = run_checks("pre", "--lab", spec, *MINE)
    text = message(run, "GP-PRE-014")
    assert "TWO: the last full backup before Dynamics GP Utilities started upgrading it" in text, run.text
    assert "finished 2026-11-01 10:00:00 UTC (time zone not recorded, read as UTC)" in text, run.text


def test_bad_backups_since_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(str(CHECKS / "pre"), "--lab", "before-upgrade", "--backups-since", "tomorrow")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "argument --backups-since: expected a date-time such as 2026-11-28T22:00:00Z, got 'tomorrow'" in err
    assert "Traceback" not in err


INVENTORY = """farm: Contoso
profile: gp18.4
sql: {server: gpsql01}
web_server: {name: gpweb01}
session_hosts: [{name: gpsh01}]
"""


@pytest.mark.parametrize(
    ("backups", "field", "expected"),
    [
        # An unquoted impossible date is refused by the YAML loader itself, naming its line (yamlfile.py).
        ("{since: 2026-02-30T22:00:00Z}", "line 6", "a real date, got '2026-02-30T22:00:00Z'"),
        ("{since: '2026-02-30'}", "backups.since", "got '2026-02-30' (day is out of range for month)"),
        ("{since: tomorrow}", "backups.since", "a date or date-time such as 2026-11-28T22:00:00Z, got 'tomorrow'"),
        ("{since: 1700000000}", "backups.since", "got 1700000000"),
        ("{since: 2026-11-28, within_hours: 12}", "backups", "either 'since' or 'within_hours', not both"),
        ("{within_hours: 0}", "backups.within_hours", "greater than 0"),
        ("{since: 2026-11-28, when: now}", "backups.when", "a known field"),
    ],
)
def test_bad_backup_settings_are_one_message(tmp_path: Path, backups: str, field: str, expected: str) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text(INVENTORY + f"backups: {backups}\n")
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    assert (info.value.file, info.value.field) == (str(path), field)
    assert expected in info.value.expected, str(info.value)


def test_backup_times_without_zone_are_utc(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text(INVENTORY + "backups: {since: 2026-11-28 22:00:00}\n")
    assert load_inventory(path).backups.bound() == datetime(2026, 11, 28, 22, tzinfo=UTC)
    path.write_text(INVENTORY + "backups: {since: 2026-11-28T23:00:00+01:00}\n")
    assert load_inventory(path).backups.bound() == datetime(2026, 11, 28, 22, tzinfo=UTC)
    path.write_text(INVENTORY)
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    assert load_inventory(path).backups.bound(now) == now - timedelta(hours=24)


# --- GP-PRE-015 and GP-PRE-016: state, version, compatibility level ---------------------------------------


def test_offline_read_only_and_restricted_databases_are_named(run_checks: Run, tmp_path: Path) -> None:
    spec = overlay(
        tmp_path,
        """description: three databases in states GP cannot use.
base: before-upgrade
database_state:
  DYNAMICS: {is_read_only: 1}
  GPCONFIGURATION: {state_desc: RESTORING}
  CONTO: {user_access_desc: RESTRICTED_USER}
""",
    )
    run = run_checks("pre", "--lab", spec, *MINE)
    assert outcomes(run)["GP-PRE-015"] == "failed", run.text
    text = message(run, "GP-PRE-015")
    for part in (
        "DYNAMICS: READ_ONLY, expected READ_WRITE",
        "GPCONFIGURATION: state RESTORING, expected ONLINE",
        "CONTO: user_access RESTRICTED_USER, expected MULTI_USER",
    ):
        assert part in text, text


def test_old_session_database_is_a_gp_database_before_a_2013_era_upgrade(run_checks: Run, tmp_path: Path) -> None:
    spec = overlay(
        tmp_path,
        """description: the 2013-era session database left single-user.
era: silverlight
base: before-upgrade
database_state: {GPWEBCLIENTSESSIONCENTRAL: {user_access_desc: SINGLE_USER}}
""",
    )
    run = run_checks("pre", "--lab", spec, *MINE)
    assert "GPWEBCLIENTSESSIONCENTRAL: user_access SINGLE_USER" in message(run, "GP-PRE-015"), run.text


@pytest.mark.parametrize(
    ("era", "version", "minimum", "release"),
    [
        (
            "html",
            "11.0.7001.0",
            "12.0",
            "Microsoft Dynamics GP 18.4",
        ),  # SQL Server 2012: not listed for GP 18 (KB 878449)
        ("silverlight", "10.0.6000.29", "11.0", "Microsoft Dynamics GP 2015 R2"),  # SQL Server 2008
    ],
)
def test_sql_server_too_old_for_the_release(
    run_checks: Run, tmp_path: Path, era: str, version: str, minimum: str, release: str
) -> None:
    spec = overlay(
        tmp_path, f"description: an old SQL Server.\nbase: before-upgrade\nera: {era}\nsql_server_version: {version}\n"
    )
    run = run_checks("pre", "--lab", spec, *MINE)
    assert outcomes(run)["GP-PRE-016"] == "failed", run.text
    assert f"SQL Server: version {version}, expected {minimum} or later for {release} (KB 878449)" in message(
        run, "GP-PRE-016"
    )


def test_gp_2013_r2_needs_sql_server_2008_r2_sp1_not_2008() -> None:
    """KB 878449: 'SQL Server 2008 R2 SP1 or later (applies to GP 2013)': a major of 10 also admitted SQL 2008."""
    from gpverify.checks.pre.test_pre_sql_server import _at_least, sql_version

    minimum = sql_version(str(load_profile("gp2013r2")["sql_server.min_version"]))
    assert minimum == (10, 50, 2500)
    assert not _at_least(sql_version("10.0.6000.29") or (), minimum)  # SQL Server 2008 SP4
    assert not _at_least(sql_version("10.50.1600.1") or (), minimum)  # SQL Server 2008 R2 RTM
    assert _at_least(sql_version("10.50.6000.34") or (), minimum)  # SQL Server 2008 R2 SP3


def test_minimum_compatibility_level_is_an_override(run_checks: Run, tmp_path: Path) -> None:
    spec = overlay(
        tmp_path,
        """description: an operator whose release requires level 160.
base: before-upgrade
inventory: {overrides: {sql_server.min_compatibility_level: 160}}
""",
    )
    run = run_checks("pre", "--lab", spec, *MINE)
    text = message(run, "GP-PRE-016")
    assert all(f"{db}: compatibility level 150, expected 160 or higher" in text for db in ("DYNAMICS", "TWO", "CONTO"))


def test_databases_below_the_level_the_guide_names_are_a_warning(run_checks: Run, tmp_path: Path) -> None:
    """upgrade/system-preparation.md: after moving to SQL Server 2014, set every database to SQL Server 2014 (120)."""
    spec = overlay(
        tmp_path,
        "description: GP 2015 R2 on SQL Server 2014, DYNAMICS left at 110.\nera: silverlight\n"
        "base: before-upgrade\nsql_server_version: 12.0.6024.0\n"
        "database_state: {DYNAMICS: {compatibility_level: 110}}\n",
    )
    run = run_checks("pre", "--lab", spec, *MINE)
    assert outcomes(run)["GP-PRE-016"] == "warning", run.text
    assert (
        "change the compatibility level of all your databases to 120 on this SQL Server; below it: DYNAMICS (110)"
        in run.text
    )


def test_no_advice_where_the_guide_names_no_level(run_checks: Run, tmp_path: Path) -> None:
    """SQL Server 2022 with databases at 150: the guide names no level for it, so nothing to advise (the old
    judgement, 'level below major x 10', warned here)."""
    spec = overlay(
        tmp_path,
        "description: SQL Server 2022, databases at 150.\nbase: before-upgrade\nsql_server_version: 16.0.4135.4\n",
    )
    run = run_checks("pre", "--lab", spec, *MINE)
    assert outcomes(run)["GP-PRE-016"] == "passed", run.text


# --- GP-PRE-017: the web client login ---------------------------------------------------------------------


def test_orphaned_user_of_a_restored_company_is_not_mapped(run_checks: Run, tmp_path: Path) -> None:
    spec = overlay(
        tmp_path,
        """description: TWO restored from another server keeps the user, not the login's SID.
base: before-upgrade
sql:
  TWO:
    database_principals: {where: {name: GPWebClient}, set: {sid: "0x0BADC0DE"}}
""",
    )
    run = run_checks("pre", "--lab", spec, *MINE)
    assert outcomes(run)["GP-PRE-017"] == "failed", run.text
    assert "TWO: no user mapped to login 'GPWebClient', expected one (by SID)" in message(run, "GP-PRE-017")


@pytest.mark.parametrize(
    ("login", "outcome", "said"),
    [
        (None, "not verified", "set sql.web_client_login in the inventory"),
        ("GPWebUsers", "failed", "SQL Server: no login 'GPWebUsers' in sys.server_principals"),
    ],
)
def test_web_client_login_from_the_inventory(run_checks: Run, login: str | None, outcome: str, said: str) -> None:
    with temporary_lab("before-upgrade") as lab:
        inventory = yaml.safe_load(lab.inventory_path.read_text())
        inventory["sql"].pop("web_client_login")
        if login:
            inventory["sql"]["web_client_login"] = login
        lab.inventory_path.write_text(yaml.safe_dump(inventory))
        run = run_checks("pre", "--inventory", str(lab.inventory_path), *MINE)
    assert outcomes(run)["GP-PRE-017"] == outcome, run.text
    assert said in (message(run, "GP-PRE-017") + run.text)


# --- the runner: a backup step before the pre gate, which requires backups after the run started ------------


def test_builtin_plan_backs_up_before_the_pre_gate() -> None:
    shape = FarmShape({"gp-web01": "web_server", "gp-sh01": "session_host"}, "html")
    for lab in (False, True):
        items = builtin_plan(shape, lab=lab).items()
        # The backups, then GP Utilities (the guide's first step), then the pre gate's database checks.
        assert [i.id for i in items[:3]] == ["backup-databases", "gp-utilities", "gate-pre"]
        utilities = items[1].step
        assert utilities is not None and (utilities.kind, utilities.action) == ("manual", "gp-utilities")
        step = items[0].step
        assert step is not None and (step.kind, step.action, step.host) == ("manual", "backup", None)
        assert "system database" in step.title and "configuration database" in step.title


def test_pre_gate_carries_the_run_start(tmp_path: Path) -> None:
    args = gate_args(
        tmp_path, "pre", None, tmp_path / "i.yml", tmp_path / "r.html", backups_since="2026-11-29T16:00:15.123+00:00"
    )
    assert args[args.index("--backups-since") + 1] == "2026-11-29T16:00:15.123+00:00"
    assert "--backups-since" not in gate_args(tmp_path, "web", None, tmp_path, tmp_path)


def test_lab_records_backups_when_the_step_is_confirmed(run_checks: Run, tmp_path: Path) -> None:
    with temporary_lab("before-upgrade") as lab:
        started = datetime.now(UTC).isoformat(timespec="milliseconds")  # the run starts after the nightly backups
        inventory = str(lab.inventory_path)
        before = run_checks("pre", "--inventory", inventory, "--backups-since", started, *MINE)
        emulator = attach(lab.farm, lab.workdir / "sql", tmp_path / "journal.json")
        try:
            outcome = emulator.apply(None, "backup")
        finally:
            detach(lab.farm)
        after = run_checks("pre", "--inventory", inventory, "--backups-since", started, *MINE)
    assert outcomes(before)["GP-PRE-014"] == "failed", before.text
    assert outcome.exit_code == 0 and any("BACKUP DATABASE [CONTO]" in line for line in outcome.log)
    assert outcomes(after)["GP-PRE-014"] == "passed", after.text
    journaled = yaml.safe_load((tmp_path / "journal.json").read_text())
    assert [(e["host"], e["action"]) for e in journaled] == [(None, "backup")]
    with temporary_lab("before-upgrade") as again:  # a restarted lab of the same run replays the journal
        replayed = attach(again.farm, again.workdir / "sql", tmp_path / "journal.json")
        detach(again.farm)
        rows = replayed.farm.databases["msdb"]["backupset"]
        assert {r["backup_finish_date"].isoformat() for r in rows} >= {journaled[0]["finished"]}
