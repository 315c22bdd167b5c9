"""Client machine update steps, the last one: sign in to the web client. gpverify does not sign in (that needs a
user of the web client's security group and their password); it checks what comes before, that the site leads a
browser to the sign-in page: "After entering the URL, you will be directed to the logon page ... A deployment where
users will use an Organizational Account for access will be redirected to the Azure sign in page"
(web-components/scale-out-installation.md, "Creating a session")."""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.config.profiles import Profile
from gpverify.facts.web import HttpAnswer, WebSiteView
from gpverify.verdicts import warn

SECTION = "Client machine update steps"


def _signs_in(answer: HttpAnswer) -> bool:
    """The answer is a sign-in page: an HTML page over HTTPS, the site's own or, after redirects, Azure's."""
    html = (answer.content_type or "").lower().startswith("text/html")
    return answer.status == 200 and html and (answer.final_url or answer.url).lower().startswith("https://")


@check(
    "GP-CLI-003",
    title="Sign in to the web client (the web client site https://<FQDN>/GP leads the browser to the sign-in page; "
    "gpverify does not sign in).",
    section=SECTION,
    impact="critical",
    remediation="Browse to the web client site from a client machine: if the sign-in page does not come, check the "
    "GP application and its HTTPS binding in IIS on the web server and the Dynamics section of its event log "
    "(https://learn.microsoft.com/dynamics-gp/web-components/troubleshooting); then sign in with a user of the web "
    "client's security group (https://learn.microsoft.com/dynamics-gp/web-components/scale-out-installation).",
)
def test_sign_in_page_answers(web_site: WebSiteView, profile: Profile) -> None:
    answer = web_site.get(profile["web.client_path"])
    if _signs_in(answer):
        return
    if answer.status == 401:
        warn(
            f"{answer.url}: answers HTTP 401 (a Windows authentication challenge) instead of the web client's "
            "sign-in page: browsers sign in without it, or are refused; sign in from a client machine to see which"
        )
    raise AssertionError(
        f"{answer.url}: expected the web client's sign-in page (HTTP 200, HTML, over HTTPS), found {_found(answer)}"
    )


def _found(answer: HttpAnswer) -> str:
    if answer.status == 200:
        return f"HTTP 200 with {answer.content_type or 'no Content-Type'}"
    return answer.problem()
