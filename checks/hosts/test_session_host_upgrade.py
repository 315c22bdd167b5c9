"""Updating session host machines: each session host's half of the upgrade (use --host NAME to roll one)."""

from __future__ import annotations

import pytest

from gpverify.catalogue import check
from gpverify.expect import (
    SESSION_SERVICE_REMEDIATION,
    WIZARD_INFERRED,
    client_version_problem,
    database_gp_version,
    desktop_client_problems,
    help_installed,
    product_problem,
    runtime_later,
    service_problem,
    session_service_problem,
    wizard_program_problem,
)
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView
from gpverify.facts.web import WebProbe, WebSiteView
from gpverify.facts.windows import RuntimePaths
from gpverify.session import evidence
from gpverify.verdicts import not_verified, warn

SECTION = "Updating session host machines"


@check(
    "GP-HOST-001",
    title="If you haven't already done so, perform the update for the Microsoft Dynamics GP desktop client "
    "components.",
    section=SECTION,
    impact="critical",
    remediation=("Update the desktop client on this session host to the target release and point the web client's "
                 "runtime at it (DynamicsexeLocation in the web server's TenantConfiguration.xml, "
                 "https://learn.microsoft.com/dynamics-gp/web-components/tenant-services-applications); the previous "
                 "release stays installed beside it after a major upgrade."),
)
def test_desktop_client_at_target(session_host: HostView, runtime: RuntimePaths, farm: Farm) -> None:
    problem = client_version_problem(session_host, runtime.origin, target=farm.target)
    runtime_later(farm.inventory.web_components_only, [problem] if problem else [])
    assert problem is None, problem


@check(
    "GP-HOST-012",
    title="Be sure that the desktop client on the session host machine is working properly before you continue this "
    "upgrade procedure (a desktop client at the databases' version, its 32-bit ODBC data source pointing at the GP "
    "SQL Server, Dex.ini beside it).",
    section=SECTION,
    impact="critical",
    remediation="On this session host, update the desktop client to the databases' release, create a 32-bit System "
    "DSN for the GP SQL Server (any name) and repair the installation if Dex.ini is missing; then log in to GP there "
    "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade, updating session host machines "
    "step 2).",
)
def test_host_desktop_client_works(session_host: HostView, gp_sql: GpSqlView, farm: Farm) -> None:
    problems = desktop_client_problems(session_host, database_gp_version(gp_sql), gp_sql.system_database,
                                       farm.profile, farm.inventory.sql.server)
    runtime_later(farm.inventory.web_components_only, problems)
    assert not problems, "; ".join(problems)


@check(
    "GP-HOST-002",
    title="Click Web Components and then click Install. Select to upgrade your existing web client installation.",
    section=SECTION,
    impact="critical",
    remediation=("On this session host, run Setup.exe from the installation media, choose Web Components > Install "
                 "and upgrade the existing web client installation "
                 "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade)."),
)
def test_host_web_components_at_target(session_host: HostView, farm: Farm) -> None:
    problem = product_problem(session_host, "web_components", "Web Components", farm.target)
    assert problem is None, problem


@check(
    "GP-HOST-003",
    title="When asked for the web components database, provide the new database name selected when upgrading "
    "the web server.",
    section=SECTION,
    impact="critical",
    remediation=("Run the Dynamics GP Web Components Configuration Wizard on this session host again and give it the "
                 "configuration database created on the web server "
                 "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade)."),
)
def test_host_points_at_new_configuration_database(session_host: HostView, farm: Farm) -> None:
    if farm.profile.unconfirmed("registry.web_components_config_db"):
        not_verified("no public source says where a session host keeps its configuration database's name: find "
                     "it on one host, then set under `overrides:` in the inventory registry.web_components_config_db: "
                     "{path: ..., name: ..., view: '64'}")
    expected = farm.inventory.sql.config_database
    setting = session_host.registry("web_components_config_db")
    assert setting is not None and setting.exists, (
        f"{session_host.name}: no configuration database is set (profile registry.web_components_config_db), "
        f"expected {expected}")
    found = str(setting.value or "").strip()
    assert found.lower() == expected.lower(), (
        f"{session_host.name}: Web Components use configuration database {found!r}, expected {expected!r}")


@check(
    "GP-HOST-004",
    title="On each session host machine, verify that the Session Service is running.",
    section=SECTION,
    impact="critical",
    remediation=SESSION_SERVICE_REMEDIATION,
)
def test_host_session_service_running(session_host: HostView) -> None:
    problem = session_service_problem(session_host)
    assert problem is None, problem


@check(
    "GP-HOST-005",
    title="You can also select to add the service based architecture components to the installation "
    "(Dex Service Control is running).",
    section=SECTION,
    impact="high",
    remediation=("Start Dex Service Control (GPDexterityServiceControl) on this session host; the Service Based "
                 "Architecture needs it "
                 "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-installation, "
                 "https://learn.microsoft.com/dynamics-gp/installation/SBA)."),
)
def test_host_dex_service_control_running(session_host: HostView, farm: Farm) -> None:
    if not farm.inventory.service_based_architecture:
        pytest.skip("the Service Based Architecture is not installed (inventory service_based_architecture: "
                    "false), so Dex Service Control is not needed")
    problem = service_problem(session_host, "dex_service_control", "Dex Service Control")
    assert problem is None, problem


@check(
    "GP-HOST-006",
    title="Start the installer for the updated help content.",
    section=SECTION,
    impact="medium",
    remediation="Run the web client help installer (profile help_installer, e.g. "
    "Microsoft_DynamicsGP18_GPWebClientHelp.msi) on this session host "
    "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade). gpverify finds the help by the .msi "
    "it was installed from (Windows Installer PackageName); its Programs and Features name is not published.",
)
def test_host_web_client_help_installed(session_host: HostView, farm: Farm) -> None:
    help_installed(session_host, farm.target, farm.profile.get("help_installer"))


@check(
    "GP-HOST-013",
    title="When the installation is complete, run the Dynamics GP Web Components Configuration Wizard (on the "
    "session host: its runtime service presents a certificate on its HTTPS port, which the installation binds; "
    "the target release's wizard is installed).",
    section=SECTION,
    impact="high",
    remediation="On this session host, run the Web Components Configuration Wizard again, or repair Microsoft "
    "Dynamics GP Web Components: 'If you do not see that there is a security certificate bound to port 443, then "
    "the web client will need to be repaired or re-installed' (`netsh http show sslcert` on the host; "
    "https://learn.microsoft.com/dynamics-gp/web-components/troubleshooting).",
)
def test_host_configuration_wizard_ran(request: pytest.FixtureRequest, session_host: HostView, farm: Farm,
                                       web_probe: WebProbe) -> None:
    entry = next(h for h in farm.inventory.session_hosts if h.name == session_host.name)
    site = WebSiteView(entry.runtime_url, web_probe, evidence(request.node))
    cert = site.certificate()
    assert cert.not_after is not None, (f"{session_host.name}: the runtime service at {site.base_url} presents no "
                                        f"certificate ({cert.tls_error}), expected the one the installation binds")
    if problem := wizard_program_problem(session_host, farm.target):
        warn(f"{problem}, expected {farm.target.text} ({WIZARD_INFERRED})")
