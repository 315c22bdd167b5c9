"""Verifying the services: the web client and the Web Management Console answer over HTTPS with a good certificate.

Probed from the machine running the checks, as a user's browser would reach the site (inventory web_server.url,
certificate chain checked against web_server.ca_bundle or the system store). A refused connection or a
certificate that does not verify fails the check: the site is what is under test.
"""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.config.profiles import Profile
from gpverify.facts.web import WebSiteView

SECTION = "Verifying the services"


@check(
    "GP-POST-006",
    title="At this point, you can allow users to sign in to the Microsoft Dynamics GP web client installation: "
    "the web client site (https://<FQDN>/GP) answers over HTTPS.",
    section=SECTION,
    impact="critical",
    remediation="Check the web client application and its bindings in IIS on the web server (HTTPS binding with "
    "the site certificate), and that the site and its application pool are started.",
)
def test_web_client_answers_over_https(web_site: WebSiteView, profile: Profile) -> None:
    answer = web_site.get(profile["web.client_path"])
    assert answer.answers, f"{answer.url}: expected the web client to answer over HTTPS, found {answer.problem()}"


@check(
    "GP-POST-007",
    title="The Web Management Console (https://<FQDN>/WebManagementConsole), where the Session Management "
    "snap-in is, answers over HTTPS.",
    section=SECTION,
    impact="high",
    remediation="Check the WebManagementConsole application in IIS on the web server (application pool "
    "DynGPWebMgmt started, HTTPS binding); rerun the Web Components Configuration Wizard if it is missing.",
)
def test_web_management_console_answers_over_https(web_site: WebSiteView, profile: Profile) -> None:
    answer = web_site.get(profile["web.console_path"])
    assert answer.answers, (
        f"{answer.url}: expected the Web Management Console to answer over HTTPS, found {answer.problem()}"
    )


@check(
    "GP-POST-008",
    title="The web site's SSL certificate is valid, matches the host name users browse to, and does not expire soon.",
    section=SECTION,
    impact="high",
    remediation="Bind a certificate for the site's host name (Server Authentication, chain trusted by the "
    "clients) in IIS; for an expiring one, renew it and repair Microsoft Dynamics GP Web Components in Programs "
    "and Features so that the services use the new certificate.",
)
def test_site_certificate_is_valid(web_site: WebSiteView, certificate_expiry_days: int) -> None:
    cert = web_site.certificate()
    problem = cert.problem(certificate_expiry_days)
    assert problem is None, f"{web_site.base_url} ({cert.host}:{cert.port}): {problem}"
