"""Updating the web site and Session Central Service: the web server's half of the upgrade is done.

Whether the data was migrated into the new configuration database is not checked here: the session hosts still
point at the old database until they are upgraded, and register through their Session Service
(scale-out-installation.md, "Verify"), so GP-POST-003 judges it after the hosts (GP-WEB-004 is retired).
"""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.expect import SESSION_CENTRAL_REMEDIATION, product_problem, session_central_problem
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView

SECTION = "Updating the web site and Session Central Service"


@check(
    "GP-WEB-001",
    title="Click Web Components and then click Install. Select to upgrade your existing web client installation.",
    section=SECTION,
    impact="critical",
    remediation="On the web server, run Setup.exe from the installation media, choose Web Components > Install "
    "and upgrade the existing web client installation (scale-out-upgrade.md).",
)
def test_web_components_are_upgraded(web_server: HostView, farm: Farm) -> None:
    problem = product_problem(web_server, "web_components", "Web Components", farm.target)
    assert problem is None, problem


@check(
    "GP-WEB-002",
    title="To install the upgrade for the web site and the Session Central Service, complete the following "
    "procedure (the Session Central Service is running).",
    section=SECTION,
    impact="critical",
    remediation=SESSION_CENTRAL_REMEDIATION,
)
def test_session_central_runs_after_upgrade(web_server: HostView) -> None:
    problem = session_central_problem(web_server)
    assert problem is None, problem


@check(
    "GP-WEB-003",
    title="Upgrading the database will ask you for a new database name, defaulting to GPCONFIGURATION.",
    section=SECTION,
    impact="critical",
    remediation="Run the Dynamics GP Web Components Configuration Wizard on the web server to create the "
    "configuration database, or set sql.config_database in the inventory to the name chosen "
    "(scale-out-upgrade.md).",
)
def test_configuration_database_exists(gp_sql: GpSqlView) -> None:
    assert gp_sql.database_exists(gp_sql.config_database), (
        f"the configuration database {gp_sql.config_database} does not exist (inventory sql.config_database)")


@check(
    "GP-WEB-005",
    title="The Microsoft Dynamics GP Web Client Help installer will be started. Click Install to complete the "
    "help installation process.",
    section=SECTION,
    impact="medium",
    remediation="Run the Web Client Help installer on the web server (it starts after the configuration wizard; "
    "scale-out-upgrade.md).",
)
def test_web_client_help_installed(web_server: HostView, farm: Farm) -> None:
    problem = product_problem(web_server, "web_client_help", "the web client help", farm.target)
    assert problem is None, problem
