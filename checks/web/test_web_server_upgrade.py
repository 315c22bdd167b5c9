"""Updating the web site and Session Central Service: the web server's half of the upgrade is done."""

from __future__ import annotations

import pytest

from gpverify.catalogue import check
from gpverify.expect import product_problem, service_problem
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView
from gpverify.farm import Farm

SECTION = "Updating the web site and Session Central Service"


@check(
    "GP-WEB-001",
    title="Click Web Components and then click Install. Select to upgrade your existing web client installation.",
    section=SECTION,
    impact="critical",
    remediation="On the web server, run Setup.exe from the installation media, choose Web Components > Install "
    "and upgrade the existing web client installation (S1).",
)
def test_web_components_are_upgraded(web_server: HostView, farm: Farm) -> None:
    problem = product_problem(web_server, "web_components", "Web Components", farm.profile.version)
    assert problem is None, problem


@check(
    "GP-WEB-002",
    title="To install the upgrade for the web site and the Session Central Service, complete the following "
    "procedure (the Session Central Service is running).",
    section=SECTION,
    impact="critical",
    remediation="Start the Session Central Service on the web server; if it does not start, run the Dynamics GP "
    "Web Components Configuration Wizard again and read its event log (S1, S9).",
)
def test_session_central_runs_after_upgrade(web_server: HostView) -> None:
    problem = service_problem(web_server, "session_central", "Session Central Service")
    assert problem is None, problem


@check(
    "GP-WEB-003",
    title="Upgrading the database will ask you for a new database name, defaulting to GPCONFIGURATION.",
    section=SECTION,
    impact="critical",
    remediation="Run the Dynamics GP Web Components Configuration Wizard on the web server to create the "
    "configuration database, or set sql.config_database in the inventory to the name chosen (S1).",
)
def test_configuration_database_exists(gp_sql: GpSqlView) -> None:
    assert gp_sql.database_exists(gp_sql.config_database), (
        f"the configuration database {gp_sql.config_database} does not exist (inventory sql.config_database)")


@check(
    "GP-WEB-004",
    title="The data will be migrated to the new database when running the configuration wizard.",
    section=SECTION,
    impact="high",
    remediation="Run the Dynamics GP Web Components Configuration Wizard on the web server so that it migrates "
    "the session hosts into the new configuration database (S1, S4).",
)
def test_configuration_database_holds_session_hosts(gp_sql: GpSqlView) -> None:
    if not gp_sql.database_exists(gp_sql.config_database):
        pytest.skip(f"the configuration database {gp_sql.config_database} does not exist (GP-WEB-003 reports it)")
    hosts = gp_sql.config_session_hosts()
    assert hosts, (f"{gp_sql.config_database}: no session host is registered (profile "
                   "sql.config_session_hosts_table): the data was not migrated")


@check(
    "GP-WEB-005",
    title="The Microsoft Dynamics GP Web Client Help installer will be started. Click Install to complete the "
    "help installation process.",
    section=SECTION,
    impact="medium",
    remediation="Run the Web Client Help installer on the web server (it starts after the configuration wizard; "
    "S1).",
)
def test_web_client_help_installed(web_server: HostView, farm: Farm) -> None:
    problem = product_problem(web_server, "web_client_help", "the web client help", farm.profile.version)
    assert problem is None, problem
