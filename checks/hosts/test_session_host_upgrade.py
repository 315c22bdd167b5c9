"""Updating session host machines: each session host's half of the upgrade (use --host NAME to roll one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
from gpverify.facts import sessioncentral as sc
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.names import short_name
from gpverify.facts.sessioncentral import SessionManagement
from gpverify.facts.view import HostView
from gpverify.facts.web import WebSiteView
from gpverify.facts.windows import RuntimePaths
from gpverify.session import evidence
from gpverify.verdicts import BASIS, not_verified, warn

SECTION = "Updating session host machines"


@check(
    "GP-HOST-001",
    title="If you haven't already done so, perform the update for the Microsoft Dynamics GP desktop client components.",
    section=SECTION,
    impact="critical",
    remediation=(
        "Update the desktop client on this session host to the target release and point the web client's "
        "runtime at it (DynamicsexeLocation in the web server's TenantConfiguration.xml, "
        "https://learn.microsoft.com/dynamics-gp/web-components/tenant-services-applications); the previous "
        "release stays installed beside it after a major upgrade."
    ),
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
    problems = desktop_client_problems(
        session_host, database_gp_version(gp_sql), gp_sql.system_database, farm.profile, farm.inventory.sql.server
    )
    runtime_later(farm.inventory.web_components_only, problems)
    assert not problems, "; ".join(problems)


@check(
    "GP-HOST-002",
    title="Click Web Components and then click Install. Select to upgrade your existing web client installation.",
    section=SECTION,
    impact="critical",
    remediation=(
        "On this session host, run Setup.exe from the installation media, choose Web Components > Install "
        "and upgrade the existing web client installation "
        "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade)."
    ),
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
    remediation="Run the Dynamics GP Web Components Configuration Wizard on this session host again and give it "
    "the configuration database created on the web server, so that its Session Service registers there "
    "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade, updating session host machines "
    "step 6); then restart the Session Central Service on the web server "
    "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-installation, step 18).",
)
def test_host_points_at_new_configuration_database(
    request: pytest.FixtureRequest,
    session_host: HostView,
    farm: Farm,
    new_configuration: tuple[list[SessionManagement], list[str]],
    old_configuration: dict[str, tuple[str, str]],
) -> None:
    expected = farm.inventory.sql.config_database
    if not farm.profile.unconfirmed("registry.web_components_config_db"):
        problem = _setting_problem(session_host, expected)  # the operator named where the host keeps it: read it
        assert problem is None, problem
        return
    views, unreadable = new_configuration
    if not views:
        not_verified(
            f"{session_host.name}: where a session host keeps its configuration database's name is not "
            "public, and the new configuration's list of hosts could not be read ("
            + "; ".join(unreadable)
            + "); or set registry.web_components_config_db: {path: ..., name: ..., view: '64'} under "
            "`overrides:` once you know where the host keeps it"
        )
    since = _session_service_start(session_host)
    found = [sc.registration(v, session_host.name, since) for v in views]
    reporting = next((r for r in found if r.state == "reporting"), None)
    if reporting is not None:
        _basis(
            request,
            f"{reporting.describe(since)}: it registered with the upgraded Session Central, so it talks "
            f"to the new configuration {expected} ({sc.REGISTERS})",
        )
        return
    if datetime.now(UTC) - since < timedelta(minutes=SYNC_MINUTES):
        not_verified(
            f"{session_host.name}: its Session Service started {_ago(since)} ago and "
            f"{found[0].describe(since)}: give the system a few minutes to get synchronized, then run "
            "again (https://learn.microsoft.com/dynamics-gp/web-components/scale-out-installation, "
            "Verify the web client installation)"
        )
    old = old_configuration.get(short_name(session_host.name))
    problem = _registration_problem(request, session_host.name, old, views, found, since, expected)
    assert problem is None, problem


SYNC_MINUTES = 5  # "give the system a few minutes to get synchronized" (scale-out-installation.md, Verify)


def _setting_problem(session_host: HostView, expected: str) -> str | None:
    setting = session_host.registry("web_components_config_db")
    if setting is None or not setting.exists:
        return (
            f"{session_host.name}: no configuration database is set (profile registry.web_components_config_db), "
            f"expected {expected}"
        )
    found = str(setting.value or "").strip()
    if found.lower() != expected.lower():
        return f"{session_host.name}: Web Components use configuration database {found!r}, expected {expected!r}"
    return None


def _session_service_start(session_host: HostView) -> datetime:
    service = session_host.service("session_service")
    if service is None or not service.is_running or service.started is None:
        state = (
            "is not installed"
            if service is None
            else (
                f"is {service.status}"
                if not service.is_running
                else "has no process start time the collector could read"
            )
        )
        not_verified(
            f"{session_host.name}: its Session Service {state}, so whether it registers with the new "
            "configuration cannot be seen (GP-HOST-004 judges the service): start it, then run again"
        )
    return service.started


def _registration_problem(
    request: pytest.FixtureRequest,
    host: str,
    old: tuple[str, str] | None,
    views: list[SessionManagement],
    found: list[sc.Registration],
    since: datetime,
    expected: str,
) -> str | None:
    """Why the host is not shown talking to the new configuration (None: listed there, status unknown, and in no
    previous database: `old`, the database from before the upgrade that holds it and where); ends as not verified
    where the data cannot tell."""
    listed = next((r for r in found if r.state == "listed"), None)
    if listed is not None and old is None:
        _basis(
            request,
            f"{listed.describe(since)}, and no database from before the upgrade holds it: it talks to the "
            f"new configuration {expected} ({sc.REGISTERS})",
        )
        return None
    if listed is not None or all(r.state == "absent" and sc.not_loaded(v, since) for r, v in zip(found, views)):
        why = (
            f"{listed.describe(since)} and {old[0]} from before the upgrade holds it too ({old[1]}), so where it "
            "reports cannot be told: name the Last Status Update property under `overrides:` "
            "(session_central.status_time_property)"
            if listed is not None and old is not None
            else f"{found[0].describe(since)}; Session Central started at "
            f"{sc.when_text(views[0].central_started)}, before this host's Session Service, and lists a host "
            "registered since only once restarted: restart the Session Central Service on the web server "
            "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-installation, step 18), then run again"
        )
        not_verified(f"{host}: {why}")
    if old is not None:
        return (
            f"{host}: {old[0]}, the configuration from before the upgrade, holds it ({old[1]}), and "
            f"{found[0].describe(since)}: its configuration wizard was given the old database, expected the new "
            f"one {expected} ({sc.REGISTERS})"
        )
    return (
        f"{host}: {found[0].describe(since)}: it has not registered with the new configuration {expected} since "
        "its Session Service started (its wizard was given another database, or the Session Service cannot "
        f"reach the web server) ({sc.REGISTERS})"
    )


def _basis(request: pytest.FixtureRequest, text: str) -> None:
    evidence(request.node)[BASIS] = text


def _ago(since: datetime) -> str:
    return f"{max(0.0, (datetime.now(UTC) - since).total_seconds()) / 60:.0f} minute(s)"


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
    remediation=(
        "Start Dex Service Control (GPDexterityServiceControl) on this session host; the Service Based "
        "Architecture needs it "
        "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-installation, "
        "https://learn.microsoft.com/dynamics-gp/installation/SBA)."
    ),
)
def test_host_dex_service_control_running(session_host: HostView, farm: Farm) -> None:
    if not farm.inventory.service_based_architecture:
        pytest.skip(
            "the Service Based Architecture is not installed (inventory service_based_architecture: "
            "false), so Dex Service Control is not needed"
        )
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
def test_host_configuration_wizard_ran(session_host: HostView, farm: Farm, session_host_runtime: WebSiteView) -> None:
    site = session_host_runtime
    cert = site.certificate()
    assert cert.not_after is not None, (
        f"{session_host.name}: the runtime service at {site.base_url} presents no "
        f"certificate ({cert.tls_error}), expected the one the installation binds"
    )
    if problem := wizard_program_problem(session_host, farm.target):
        warn(f"{problem}, expected {farm.target.text} ({WIZARD_INFERRED})")
