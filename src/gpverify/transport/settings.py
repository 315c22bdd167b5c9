"""What a host's winrm settings allow, whichever client talks to it: refusals, the proxy and the client."""

from __future__ import annotations

import functools
import urllib.request
from typing import Literal

from gpverify.config.inventory import HostSpec
from gpverify.errors import HostUnavailable

# Message encryption needs an authentication that can seal: NTLM, Kerberos or CredSSP (never Basic or certificate).
SEALING = ("ntlm", "kerberos", "credssp")
# What the lean client speaks (transport/lean.py); the rest is pywinrm's.
LEAN_TRANSPORTS = ("ntlm", "basic")

Client = Literal["lean", "pywinrm"]


def refuse_unsafe(spec: HostSpec) -> None:
    """Raise HostUnavailable for every unsafe or impossible combination of settings, before any network."""
    w = spec.winrm
    transport = w.transport or "ntlm"
    scheme = w.scheme or "https"
    if transport == "basic" and scheme == "http" and not w.allow_basic_over_http:
        raise HostUnavailable(
            spec.name,
            "Basic authentication over plain HTTP is refused (the password would "
            "travel in clear): use HTTPS, or set winrm.allow_basic_over_http: true",
        )
    if (
        transport in SEALING
        and scheme == "http"
        and (w.message_encryption or "auto") == "never"
        and not w.allow_unencrypted
    ):
        raise HostUnavailable(
            spec.name,
            f"message_encryption: never over plain HTTP is refused ({transport} would "
            "send every command and answer in clear): use message_encryption: auto, or HTTPS",
        )
    if transport == "certificate":
        if scheme != "https":
            raise HostUnavailable(
                spec.name, "certificate authentication works only over HTTPS: set winrm.scheme: https"
            )
        if not (w.cert_pem and w.cert_key_pem):
            raise HostUnavailable(
                spec.name,
                "certificate authentication needs winrm.cert_pem and "
                "winrm.cert_key_pem (the client certificate and its key, PEM files)",
            )


def client_for(spec: HostSpec) -> Client:
    """The lean client unless the inventory asks for pywinrm (winrm.client) or the host needs what only pywinrm
    does: Kerberos, CredSSP, certificate authentication, or an HTTP proxy on the way."""
    if spec.winrm.client == "pywinrm" or (spec.winrm.transport or "ntlm") not in LEAN_TRANSPORTS:
        return "pywinrm"
    return "pywinrm" if resolve_proxy(spec) else "lean"


@functools.cache
def environment_proxies() -> dict[str, str]:
    """The proxy variables of the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY), read once per run."""
    return urllib.request.getproxies()


def resolve_proxy(spec: HostSpec) -> str | None:
    """The proxy URL for this host's endpoint, or None to connect directly: winrm.proxy, else the environment's
    proxy for it (NO_PROXY honoured as requests honours it); once per host, never per request."""
    setting = spec.winrm.proxy or "environment"
    if setting == "none":
        return None
    if setting != "environment":
        return setting
    if not set(environment_proxies()) - {"no"}:  # no proxy variable set: nothing to look up for any host
        return None
    import requests.utils  # only when a proxy variable is set: requests' own reading of NO_PROXY

    return requests.utils.select_proxy(spec.endpoint, requests.utils.get_environ_proxies(spec.endpoint)) or None
