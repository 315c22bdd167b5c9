"""Verifying the services: the GP Service of the Service Based Architecture on the web server."""

from __future__ import annotations

import pytest

from gpverify.catalogue import check
from gpverify.expect import service_problem
from gpverify.facts.view import HostView
from gpverify.session import get_farm


@pytest.fixture
def sba_installed(request: pytest.FixtureRequest) -> None:
    if not get_farm(request.config).inventory.service_based_architecture:
        pytest.skip(
            "the inventory says the Service Based Architecture is not installed "
            "(service_based_architecture: false), so there is no GP Service to check"
        )


@check(
    "GP-POST-009",
    title="On the machine that is hosting the web site, the GP Service is running "
    "(when the service based architecture components are installed).",
    section="Verifying the services",
    impact="high",
    remediation="Start the GP Service on the web server; Service Based Architecture requests fail until it runs.",
)
def test_gp_service_is_running(sba_installed: None, web_server: HostView) -> None:
    problem = service_problem(web_server, "gp_service", "GP Service")
    assert problem is None, problem
