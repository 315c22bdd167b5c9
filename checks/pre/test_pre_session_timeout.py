"""Preparing for the upgrade: advice before the "all users signed out" gate.

Disconnected web client sessions end only when HeartbeatTimeout passes; its default 0.00:00:00 means they never
time out (managing-web-client-sessions.md), so a user who closed the browser keeps a session, and locks, that
block the upgrade.
"""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.facts import tenantconfig
from gpverify.facts.farm import Farm
from gpverify.facts.view import HostView
from gpverify.verdicts import not_verified, warn

TENANT_MANAGER = (
    "https://learn.microsoft.com/dynamics-gp/web-components/managing-web-client-sessions#session-timeout: "
    "'If you are using the Microsoft Dynamic GP web client in a multitenant configuration, you will use "
    "the Tenant Management snap-in for the Web Management Console to control the session timeout value'"
)


@check(
    "GP-PRE-019",
    title="Be sure that all of the users have signed out of the system before you start the web client upgrade "
    "process (disconnected web client sessions time out: HeartbeatTimeout is not 0).",
    section="Preparing for the upgrade",
    impact="low",
    remediation="Set HeartbeatTimeout in the web server's TenantConfiguration.xml (Days.Hours:Minutes:Seconds, "
    "e.g. 0.00:20:00) so that disconnected sessions end, or end them in Session Management before the upgrade; "
    "with Tenant Services, set each tenant's HeartbeatTimeout in Tenant Manager "
    "(https://learn.microsoft.com/dynamics-gp/web-components/managing-web-client-sessions#session-timeout).",
)
def test_disconnected_sessions_time_out(web_server: HostView, farm: Farm) -> None:
    text = web_server.text("tenant_configuration")
    try:  # the same reading of the file as the runtime paths' (facts/tenantconfig.py)
        config = tenantconfig.read(text, f"TenantConfiguration.xml on {web_server.name}")
    except tenantconfig.FileMissing as exc:
        if farm.inventory.tenant_services is None:
            raise AssertionError(str(exc)) from None
        # A multitenant farm keeps the timeout per tenant in Tenant Manager (DYNGPDISCOVERY, whose schema is not
        # public) and need not have the file ("In a single tenant environment where Tenant Services are not
        # installed, you will find a file named TenantConfiguration.xml", tenant-services-basics.md).
        not_verified(
            f"{exc}: with Tenant Services each tenant's HeartbeatTimeout is set in Tenant Manager, which "
            f"gpverify cannot read ({TENANT_MANAGER}); check it there"
        )
    except ValueError as exc:
        raise AssertionError(str(exc)) from None
    if config.heartbeat_timeout is None or config.sessions_never_time_out:
        warn(
            f"{web_server.name}: HeartbeatTimeout is {config.heartbeat_timeout or 'not set'} in "
            f"{text.path if text else 'TenantConfiguration.xml'}: disconnected web client sessions never end, so "
            "closed browsers keep sessions open"
        )
