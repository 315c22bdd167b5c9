"""Verifying the services: Session Central on the web server, the Session Service on every session host."""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.expect import (
    SESSION_CENTRAL_REMEDIATION,
    SESSION_SERVICE_REMEDIATION,
    session_central_problem,
    session_service_problem,
)
from gpverify.facts.view import HostView

SECTION = "Verifying the services"


@check(
    "GP-POST-001",
    title="On the machine that is hosting the web site for the web client installation, "
    "verify that the Session Central Service is running.",
    section=SECTION,
    impact="critical",
    remediation=SESSION_CENTRAL_REMEDIATION,
)
def test_session_central_service_is_running(web_server: HostView) -> None:
    problem = session_central_problem(web_server)
    assert problem is None, problem


@check(
    "GP-POST-002",
    title="On each session host machine, verify that the Session Service is running.",
    section=SECTION,
    impact="critical",
    remediation=SESSION_SERVICE_REMEDIATION,
)
def test_session_service_is_running(session_host: HostView) -> None:
    problem = session_service_problem(session_host)
    assert problem is None, problem
