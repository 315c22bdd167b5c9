"""Verifying the services: Session Central on the web server, the Session Service on every session host."""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.facts.view import HostView

SECTION = "Verifying the services"


@check(
    "GP-POST-001",
    title="On the machine that is hosting the web site for the web client installation, "
    "verify that the Session Central Service is running.",
    section=SECTION,
    impact="critical",
    remediation="Start the Session Central Service on the web server; if it stops again, read the Dynamics "
    "section of its event log (S9).",
)
def test_session_central_service_is_running(web_server: HostView) -> None:
    service = web_server.service("session_central")
    assert service, f"{web_server.name}: no Session Central Service is installed (profile services.session_central)"
    assert service.is_running, f"{web_server.name}: {service.display_name} is {service.status}, expected Running"


@check(
    "GP-POST-002",
    title="On each session host machine, verify that the Session Service is running.",
    section=SECTION,
    impact="critical",
    remediation="Start the Session Service on this session host; users routed to it cannot sign in until it runs.",
)
def test_session_service_is_running(session_host: HostView) -> None:
    service = session_host.service("session_service")
    assert service, f"{session_host.name}: no Session Service is installed (profile services.session_service)"
    assert service.is_running, f"{session_host.name}: {service.display_name} is {service.status}, expected Running"
