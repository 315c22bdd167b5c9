"""Client machine update steps (Silverlight era): the updated web client runs in trusted mode, not sandboxed.

The guide's first client step, clearing the Internet Explorer browser cache, is deliberately not a check: a
user's browser cache cannot be observed remotely (per-user, per-profile state), so it stays a manual step.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gpverify.catalogue import check
from gpverify.config.profiles import Profile
from gpverify.facts.view import HostView
from gpverify.verdicts import not_verified, warn

SECTION = "Client machine update steps"
HTML_ERA_REASON = (
    "{release} has the HTML web client (GP 2016 and later): it runs in any browser without "
    "Silverlight, so client machines need no Silverlight elevated trust or signing certificate"
)


@pytest.fixture(autouse=True, scope="module")  # decided once for the module's checks on every client
def silverlight_era_only(profile: Profile) -> None:
    """Skip before any client is contacted when the target release's web client is HTML (profile era)."""
    if profile.era == "html":
        pytest.skip(HTML_ERA_REASON.format(release=profile.get("release", profile.name)))


def _trust_value(client: HostView, profile: Profile, key: str) -> tuple[str, str | None]:
    """(where, why not 1) for one registry view of AllowElevatedTrustAppsInBrowser."""
    reg = profile[f"registry.{key}"]
    fact = client.registry(key)
    where = f"HKLM\\{reg['path']}\\{reg['name']} ({reg['view']}-bit view)"
    if not (fact and fact.key_exists):
        return where, "no such key"
    if not fact.exists:
        return where, "value missing"
    return where, None if str(fact.value).strip() == "1" else f"{fact.value}"


@check(
    "GP-CLI-001",
    title="Look in the lower-right corner to verify the trust level for the web client. If you see the icon "
    "indicating that the web client is running in sandboxed mode, you have an additional step to perform "
    "(elevated trust: AllowElevatedTrustAppsInBrowser = 1).",
    section=SECTION,
    impact="medium",
    remediation="Run DynamicsGPTrustedApp.msi (shipped with the web client) on this client machine, or set the "
    "DWORD AllowElevatedTrustAppsInBrowser = 1 under HKLM\\Software\\Microsoft\\Silverlight in the 32-bit "
    "(Wow6432Node) view, which 32-bit Internet Explorer reads, and in the 64-bit view for 64-bit browsers.",
)
def test_silverlight_elevated_trust_is_allowed(client: HostView, profile: Profile) -> None:
    # The browser's bitness decides which view Silverlight reads; Internet Explorer ran 32-bit by default, so the
    # 32-bit view decides and a missing 64-bit value only matters to 64-bit browsers (gg192793).
    where32, wrong32 = _trust_value(client, profile, "silverlight_trust_32")
    assert wrong32 is None, f"{client.name}: expected AllowElevatedTrustAppsInBrowser = 1 at {where32}, found {wrong32}"
    where64, wrong64 = _trust_value(client, profile, "silverlight_trust_64")
    if wrong64 is not None:
        warn(
            f"{client.name}: {where64} is {wrong64} (the 32-bit view is 1): a 64-bit browser would run the web "
            "client sandboxed"
        )


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
    thumbprint = profile["certificates.web_client_signing_thumbprint"]
    if thumbprint is None:
        not_verified(
            "the thumbprint of the certificate DynamicsGPTrustedApp.msi installs for this release is not "
            "public: read it from the .msi or a client that has it and set under `overrides:` in the "
            "inventory certificates.web_client_signing_thumbprint: <thumbprint>"
        )
    store = profile["certificates.trusted_publisher_store"]
    want = str(thumbprint).replace(" ", "").upper()
    matching = [c for c in client.certificates("trusted_publisher_store") if c.thumbprint.upper() == want]
    if not matching:
        not_verified(
            f"{client.name}: the certificate {want} is not in {store}; it may be in each user's own Trusted "
            "Publishers store, which a remote read of the machine cannot see"
        )
    now = datetime.now(UTC)
    good = [c for c in matching if c.chain_ok and c.not_after > now]
    assert good, f"{client.name}: the web client signing certificate in {store} is not usable: " + "; ".join(
        f"{c.subject} (thumbprint {c.thumbprint}, expires {c.not_after:%Y-%m-%d}"
        f"{', EXPIRED' if c.not_after <= now else ''}{'' if c.chain_ok else ', chain NOT trusted'})"
        for c in matching
    )
