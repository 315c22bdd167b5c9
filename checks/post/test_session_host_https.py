"""Verifying the services: each session host's runtime service and the GP Service answer browsers over HTTPS.

Browsers talk to each session host directly once signed in (web-components/web-client-operation.md), on port 443
by default; a certificate problem there leaves the web client at "Initializing" while the web site itself looks
fine (web-components/troubleshooting.md). Probed from the machine running the checks, as a browser would, with
the chain checked against web_server.ca_bundle (or the system store).
"""

from __future__ import annotations

import pytest

from gpverify.catalogue import check
from gpverify.config.profiles import Profile
from gpverify.facts.web import HttpAnswer, WebSiteView
from gpverify.session import get_farm
from gpverify.verdicts import not_verified, warn

SECTION = "Verifying the services"
POLICY_FLAG = "web.session_host_client_access_policy"
# Silverlight honours a policy file only with this root element, at the root of the host and port (Microsoft's
# example in https://learn.microsoft.com/rest/api/media/operations/crosssiteaccesspolicies;
# https://learn.microsoft.com/archive/blogs/drnick/cross-domain-policy).
POLICY_ROOT = "access-policy"


@check(
    "GP-POST-011",
    title="Verify that you can access the Runtime service. This is the service that the web client application "
    "communicates with on the session host machine. By default, this service is accessed through port 443. The "
    "port is secured with a security certificate (valid, trusted, for the host's name, not expiring soon).",
    section=SECTION,
    impact="critical",
    remediation=(
        "Bind a certificate for the session host's name (Server Authentication, chain trusted by the "
        "clients) to the runtime service's port: `netsh http show sslcert` on the host shows what is bound; "
        "if none is, repair Microsoft Dynamics GP Web Components on the host. Using the web site's "
        "certificate avoids the case browsers do not report "
        "(https://learn.microsoft.com/dynamics-gp/web-components/troubleshooting)."
    ),
)
def test_session_host_runtime_certificate_is_valid(
    session_host_name: str, session_host_site: WebSiteView, certificate_expiry_days: int
) -> None:
    cert = session_host_site.certificate()
    problem = cert.problem(certificate_expiry_days)
    assert problem is None, f"{session_host_name}: {session_host_site.base_url} ({cert.host}:{cert.port}): {problem}"


@check(
    "GP-POST-012",
    title="Use a web browser to access the following file on the session host machine: "
    "https://session_host_machine:443/clientaccesspolicy.xml. The XML content for the file should be displayed.",
    section=SECTION,
    impact="high",
    remediation=(
        "The runtime service on the session host is not configured properly, usually its certificate: check "
        "`netsh http show sslcert` on the host, and repair or reinstall Microsoft Dynamics GP Web "
        "Components there so that a certificate is bound to the port "
        "(https://learn.microsoft.com/dynamics-gp/web-components/troubleshooting)."
    ),
)
def test_session_host_serves_client_access_policy(
    session_host_name: str, session_host_site: WebSiteView, profile: Profile
) -> None:
    served = profile[POLICY_FLAG]
    if served is None:
        not_verified(
            f"whether the {profile.name} runtime service serves clientaccesspolicy.xml is not set: set under "
            f"`overrides:` in the inventory {POLICY_FLAG}: true to check it on every session host (open "
            f"{session_host_site.url(profile['web.client_access_policy_path'])} in a browser to see), "
            "or false if your release does not serve it"
        )
    if not served:
        pytest.skip(
            f"the profile says the {profile.name} runtime service does not serve clientaccesspolicy.xml "
            f"({POLICY_FLAG}: false)"
        )
    answer = session_host_site.get(profile["web.client_access_policy_path"])
    if answer.status == 200 and answer.xml_root == POLICY_ROOT:
        return
    found = (
        f"{session_host_name}: expected {answer.url} to answer HTTP 200 with the policy's XML "
        f"(<{POLICY_ROOT}>), found {_policy_found(answer)}"
    )
    if profile.identifiers[POLICY_FLAG].confidence == "inferred":
        # The HTML releases: troubleshooting.md still prescribes the file for the HTML application, but no source
        # says their runtime service serves it, so a missing file is advice, not a failed upgrade.
        warn(
            f"{found}; troubleshooting.md prescribes this file for the HTML web client too (inferred that the "
            f"{profile.name} runtime serves it: set {POLICY_FLAG} under overrides to true to make this a failure, "
            "false to skip it)"
        )
    raise AssertionError(found)


def _policy_found(answer: HttpAnswer) -> str:
    if answer.status != 200:
        return answer.problem()
    if answer.xml_root is None:
        return f"HTTP 200 with a body that is not XML ({answer.content_type or 'no Content-Type'})"
    return f"HTTP 200 with XML whose root element is <{answer.xml_root}>"


@check(
    "GP-POST-014",
    title="Verify that you can access service based architecture: "
    "https://ServerName:PortNumber/GPService/Tenants(DefaultTenant)/help (when the service based architecture "
    "components are installed).",
    section=SECTION,
    impact="high",
    remediation=(
        "Check the GP Service on the web server (running, its HTTPS port and certificate chosen at install, "
        "default 443); repair Microsoft Dynamics GP Web Components on the web server if the GPService "
        "application is missing "
        "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-installation, 'Verify the "
        "service based architecture installation')."
    ),
)
def test_gp_service_help_page_answers(request: pytest.FixtureRequest, web_site: WebSiteView, profile: Profile) -> None:
    if not get_farm(request.config).inventory.service_based_architecture:
        pytest.skip(
            "the inventory says the Service Based Architecture is not used (service_based_architecture: "
            "false), so there is no GP Service help page to check"
        )
    answer = web_site.get(profile["web.gp_service_help_path"])
    assert answer.answers, (
        f"{answer.url}: expected the GP Service help page to answer over HTTPS, found {answer.problem()}"
    )
