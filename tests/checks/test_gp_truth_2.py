"""The second expert review's corrections (shared/research/gp-truth-2.md section 2, issue 21) on the lab: each
scenario is one where the old judgement was wrong, and the test asserts the new one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gpverify.expect import same_sql_server
from gpverify.facts import dynamicsset
from gpverify.lab.models import dsns
from gpverify.lab.scenario import apply_scenario, load_scenario
from helpers.checks import CheckRun

Run = Callable[..., CheckRun]
LEAN = ("-p", "no:hypothesispytest")
SIGNED_OUT = "test_all_users_signed_out"


# --- GP-PRE-008: live versus stale, by the GP session's SQL Server process -----------------------------------


def test_a_crashed_clients_records_are_stale_not_a_signed_in_user(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "pre-crashed-client", "-k", "signed_out", *LEAN)
    message = run.sentences.get(SIGNED_OUT, "")
    assert run.outcomes[SIGNED_OUT] == "failed", run.text
    assert "stale" in message and "LESSONUSER2" in message and "SQL process 64 gone" in message, message
    assert "still signed in" not in message


def test_a_live_users_sql_process_exists(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "user-signed-in", "-k", "signed_out", *LEAN)
    assert "users are still signed in: LESSONUSER1" in run.sentences.get(
        SIGNED_OUT, ""
    ) and "SQL process 61" in run.sentences.get(SIGNED_OUT, ""), run.text


def test_without_view_server_state_gpverify_says_it_cannot_tell(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "pre-signed-in-no-server-state", "-k", "signed_out", *LEAN)
    message = run.sentences.get(SIGNED_OUT, "")
    assert run.outcomes[SIGNED_OUT] == "failed", run.text
    assert "gpverify cannot tell" in message and "VIEW SERVER STATE" in message and "LESSONUSER1" in message


# --- GP-PRE-006: any 32-bit System DSN pointing at the GP SQL Server ----------------------------------------


def test_a_dsn_of_any_name_pointing_at_the_server_counts(run_checks: Run) -> None:
    farm = apply_scenario(load_scenario("pre-dsn-named-otherwise"))
    assert dsns(farm.host("gp-sh02")) == {"GP Production": "LAB-SQL"}  # not the installer's default name
    run = run_checks("pre", "--lab", "pre-dsn-named-otherwise", "-k", "odbc or desktop", *LEAN)
    assert set(run.outcomes.values()) == {"passed"}, run.text


@pytest.mark.parametrize(
    ("dsn", "server", "same"),
    [
        ("lab-sql", "LAB-SQL", True),
        ("gpsql01.contoso.local", "GPSQL01", True),  # full and short name of one machine
        ("tcp:gpsql01,1433", "gpsql01", True),
        ("gpsql01\\GP", "gpsql01\\gp", True),
        ("gpsql01\\MSSQLSERVER", "gpsql01", True),  # the default instance by its name
        ("gpsql01\\GP", "gpsql01", False),  # another instance
        ("(local)", "gp-sh01", True),  # a DSN on the SQL Server machine itself
        ("old-sql01", "lab-sql", False),
    ],
)
def test_a_dsns_server_is_compared_as_sql_server_names_are(dsn: str, server: str, same: bool) -> None:
    assert same_sql_server(dsn, server, "gp-sh01") is same


# --- GP-HOST-007: the launch file block Dex.ini names, in the ANSI code page ---------------------------------


def test_several_location_blocks_without_workstation2_say_so() -> None:
    text = (
        "1\n0\nDynamics\nWindows\n:C:GP/D.dic\n:C:GP/F.dic\n:C:GP/R.dic\nTerminal\n:C:T/D.dic\n:C:T/F.dic\n:C:T/R.dic\n"
    )
    assert [p.dictionary for p in dynamicsset.parse(text, "Terminal")] == ["C:\\T\\D.dic"]
    with pytest.raises(ValueError, match="several dictionary location IDs .*no Workstation2 line"):
        dynamicsset.parse(text)
    with pytest.raises(ValueError, match="case-sensitive"):
        dynamicsset.parse(text, "terminal")
    assert dynamicsset.decode("Réseau".encode("cp1252")) == ("Réseau", "windows-1252")
    assert dynamicsset.decode("\ufeffRéseau".encode("utf-16-le")) == ("Réseau", "utf-16")


# --- GP-PRE-019 and the runtime paths on a multitenant farm without TenantConfiguration.xml -----------------


def test_a_multitenant_farm_without_tenant_configuration_passes_and_says_what_it_cannot_read(run_checks: Run) -> None:
    run = run_checks("", "--lab", "multitenant-no-tenant-configuration", *LEAN)
    assert run.ret == 0, run.text
    assert not run.with_outcome("failed") and not run.with_outcome("error"), run.text
    assert "test_disconnected_sessions_time_out" in run.with_outcome("not verified"), run.text
    assert "Tenant Manager" in run.messages["test_disconnected_sessions_time_out"]


# --- GP-WEB-005 / GP-HOST-006: the help, found by its .msi, its version inferred -----------------------------


def test_the_help_is_found_by_its_installers_name_and_another_version_is_a_warning(run_checks: Run) -> None:
    farm = apply_scenario(load_scenario("healthy"))
    help_names = [n for n, msi in farm.host("gp-sh01").packages.items() if msi.endswith("GPWebClientHelp.msi")]
    assert help_names and "Web Client Help" not in help_names[0]  # its Programs and Features name is not public
    run = run_checks("hosts", "--lab", "host-web-client-help-other-version", "-k", "web_client_help", *LEAN)
    assert run.outcomes == {
        "test_host_web_client_help_installed[gp-sh01]": "passed",
        "test_host_web_client_help_installed[gp-sh02]": "warning",
    }, run.text
    assert "inferred" in run.messages["test_host_web_client_help_installed[gp-sh02]"]


# --- per-company claims: a company database that could not be read is no pass for it ---------------------------


def test_a_company_database_that_is_not_there_is_not_a_pass_for_it(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "pre-company-database-missing", "-k", "sql_server", *LEAN)
    per_company = [
        "test_full_backups_since_the_upgrade_started",
        "test_databases_online_multi_user_writable",
        "test_sql_server_version_and_compatibility",
        "test_web_client_login_is_a_user_everywhere",
    ]
    assert {t: run.outcomes[t] for t in per_company} == dict.fromkeys(per_company, "not verified"), run.text
    assert all(
        "OLDCO (Old Company Ltd.): no such database on the server (GP-PRE-013)" in run.messages[t] for t in per_company
    ), run.text


def test_a_company_database_that_cannot_be_opened_is_named(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "pre-company-database-offline", "-k", "login_is_a_user", *LEAN)
    message = run.messages["test_web_client_login_is_a_user_everywhere"]
    assert run.outcomes["test_web_client_login_is_a_user_everywhere"] == "not verified", run.text
    assert "CONTO: could not be read" in message and "offline" in message and "(the others pass)" in message
