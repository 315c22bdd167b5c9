"""Updating the web site and Session Central Service: the web server's half of the upgrade is done.

Whether the data was migrated into the new configuration database is not checked here: the session hosts still
point at the old database until they are upgraded, and register through their Session Service
(scale-out-installation.md, "Verify"), so GP-POST-003 judges it after the hosts (GP-WEB-004 is retired).
"""

from __future__ import annotations

import pytest

from gpverify.catalogue import check
from gpverify.expect import (
    SESSION_CENTRAL_REMEDIATION,
    WIZARD_INFERRED,
    help_installed,
    product_problem,
    session_central_problem,
    wizard_program_problem,
)
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView
from gpverify.verdicts import warn

SECTION = "Updating the web site and Session Central Service"


@check(
    "GP-WEB-001",
    title="Click Web Components and then click Install. Select to upgrade your existing web client installation.",
    section=SECTION,
    impact="critical",
    remediation=(
        "On the web server, run Setup.exe from the installation media, choose Web Components > Install and "
        "upgrade the existing web client installation "
        "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade)."
    ),
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
    remediation=(
        "Run the Dynamics GP Web Components Configuration Wizard on the web server to create the "
        "configuration database, or set sql.config_database in the inventory to the name chosen "
        "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade)."
    ),
)
def test_configuration_database_exists(gp_sql: GpSqlView) -> None:
    assert gp_sql.database_exists(gp_sql.config_database), (
        f"the configuration database {gp_sql.config_database} does not exist (inventory sql.config_database)"
    )


@check(
    "GP-WEB-005",
    title="The Microsoft Dynamics GP Web Client Help installer will be started. Click Install to complete the "
    "help installation process.",
    section=SECTION,
    impact="medium",
    remediation="Run the Web Client Help installer on the web server (it starts after the configuration wizard; "
    "profile help_installer, e.g. Microsoft_DynamicsGP18_GPWebClientHelp.msi: "
    "https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade). gpverify finds the help by the .msi "
    "it was installed from (Windows Installer PackageName); its Programs and Features name is not published.",
)
def test_web_client_help_installed(web_server: HostView, farm: Farm) -> None:
    help_installed(web_server, farm.target, farm.profile.get("help_installer"))


@check(
    "GP-WEB-006",
    title="When the installation is complete, run the Dynamics GP Web Components Configuration Wizard (it creates "
    "the web components database's tables and migrates the data into them; the target release's wizard is "
    "installed).",
    section=SECTION,
    impact="critical",
    remediation="On the web server, start the Dynamics GP Web Components Configuration Wizard (Start > Administrative "
    "Tools, or Microsoft.Dynamics.GP.Web.ConfigurationWizard in ...\\Microsoft Dynamics\\GP Web Components) and let "
    "it run the actions on the Configuration Status and Actions page "
    "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade; "
    "https://learn.microsoft.com/dynamics-gp/web-components/tenant-services-installation).",
)
def test_configuration_wizard_ran(web_server: HostView, gp_sql: GpSqlView, farm: Farm) -> None:
    database = gp_sql.config_database
    if not gp_sql.database_exists(database):
        pytest.skip(f"the configuration database {database} does not exist: GP-WEB-003 reports it")
    tables = gp_sql.tables(database)
    assert tables, (
        f"{database}: the configuration database has no tables, expected the ones the Web Components "
        "Configuration Wizard creates (it did not run, or did not finish, on the web server)"
    )
    if problem := wizard_program_problem(web_server, farm.target):
        warn(f"{problem}, expected {farm.target.text} ({WIZARD_INFERRED})")
