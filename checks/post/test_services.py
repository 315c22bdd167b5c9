"""Verifying the services: Session Central on the web server, the Session Service on every session host."""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.expect import service_problem
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
    problem = service_problem(web_server, "session_central", "Session Central Service")
    assert problem is None, problem


@check(
    "GP-POST-002",
    title="On each session host machine, verify that the Session Service is running.",
    section=SECTION,
    impact="critical",
    remediation="Start the Session Service on this session host; users routed to it cannot sign in until it runs.",
)
def test_session_service_is_running(session_host: HostView) -> None:
    problem = service_problem(session_host, "session_service", "Session Service")
    assert problem is None, problem
