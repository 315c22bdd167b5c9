"""Client machine update steps (Silverlight era): the updated web client runs in trusted mode, not sandboxed.

The guide's first client step, clearing the Internet Explorer browser cache, is deliberately not a check: a
user's browser cache cannot be observed remotely (per-user, per-profile state), so it stays a manual step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatchcase

from gpverify.catalogue import check
from gpverify.facts.view import HostView
from gpverify.profiles import Profile

SECTION = "Client machine update steps"
TRUST_KEYS = ("silverlight_trust_64", "silverlight_trust_32")


@check(
    "GP-CLI-001",
    title="Look in the lower-right corner to verify the trust level for the web client. If you see the icon "
    "indicating that the web client is running in sandboxed mode, you have an additional step to perform "
    "(elevated trust: AllowElevatedTrustAppsInBrowser = 1).",
    section=SECTION,
    impact="medium",
    remediation="Run DynamicsGPTrustedApp.msi (shipped with the web client) on this client machine, or set the "
    "DWORD AllowElevatedTrustAppsInBrowser = 1 under HKLM\\Software\\Microsoft\\Silverlight in both the 64-bit "
    "and the 32-bit (Wow6432Node) registry views.",
)
def test_silverlight_elevated_trust_is_allowed(client: HostView, profile: Profile) -> None:
    wrong = []
    for key in TRUST_KEYS:
        reg = profile[f"registry.{key}"]
        fact = client.registry(key)
        found = "no such key" if not (fact and fact.key_exists) else "value missing" if not fact.exists else fact.value
        if not (fact and fact.exists and str(fact.value).strip() == "1"):
            wrong.append(f"HKLM\\{reg['path']}\\{reg['name']} ({reg['view']}-bit view) is {found}")
    assert not wrong, f"{client.name}: expected AllowElevatedTrustAppsInBrowser = 1, found: {'; '.join(wrong)}"


@check(
    "GP-CLI-002",
    title="The Silverlight application included with the updated web client may have been signed with a "
    "security certificate that is not available on the client machine. To get this certificate, you must run "
    "the DynamicsGPTrustedApp.msi that is included with the updated web client code.",
    section=SECTION,
    impact="medium",
    remediation="Run DynamicsGPTrustedApp.msi from the web client installation on this client machine; it adds the "
    "certificate the updated web client is signed with to Trusted Publishers (and its root to Trusted Root "
    "Certification Authorities when the chain is not trusted).",
)
def test_signing_certificate_is_trusted(client: HostView, profile: Profile) -> None:
    store = profile["certificates.trusted_publisher_store"]
    pattern = profile["certificates.web_client_signing_subject"]
    certs = client.certificates("trusted_publisher_store")
    matching = [c for c in certs if fnmatchcase(c.subject.lower(), pattern.lower())]
    assert matching, (f"{client.name}: no certificate with subject like {pattern!r} in {store}; found "
                      f"{', '.join(c.subject for c in certs) or 'an empty store'}")
    now = datetime.now(UTC)
    good = [c for c in matching if c.chain_ok and c.not_after > now]
    assert good, f"{client.name}: the web client signing certificate in {store} is not usable: " + "; ".join(
        f"{c.subject} (thumbprint {c.thumbprint}, expires {c.not_after:%Y-%m-%d}"
        f"{', EXPIRED' if c.not_after <= now else ''}{'' if c.chain_ok else ', chain NOT trusted'})"
        for c in matching)
