"""NTLM for WinRM with less work per host: the password's hashes computed once, Negotiate sent up front."""

from __future__ import annotations

import base64
import functools
from typing import Any
from urllib.parse import urlsplit

import requests
import spnego
from requests_ntlm import HttpNtlmAuth
from requests_ntlm.requests_ntlm import ShimSessionSecurity

SCHEME = "Negotiate"  # WinRM's listener advertises "WWW-Authenticate: Negotiate" and takes NTLM inside it


@functools.lru_cache(maxsize=32)
def ntlm_secret(password: str) -> str:
    """The password as pyspnego's "LM:NT" hash form, computed once per process (one run).

    pyspnego accepts "<LM hash hex>:<NT hash hex>" in place of a password (pass-the-hash, documented in its
    credential handling and in requests-ntlm's "Supports pass-the-hash") and otherwise derives both hashes,
    the LM one in pure-Python DES, for every host it authenticates to. The form is as secret as the password:
    the redactor masks it too (Redactor.for_farm).
    """
    # pyspnego's own derivations (MS-NLMP 3.3.1 LMOWFv1/NTOWFv1): the exact bytes it would compute per host.
    # A private module: should a pyspnego release move it, hosts get the password and pyspnego hashes it per
    # host again (slower, never wrong).
    try:
        from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1
    except ImportError:
        return password
    return f"{lmowfv1(password).hex()}:{ntowfv1(password).hex()}"


class UpFrontNegotiateAuth(HttpNtlmAuth):
    """requests-ntlm's handler, sending its NTLM NEGOTIATE_MESSAGE with the first request instead of after an
    anonymous 401: the handshake costs two HTTP requests, not three.

    A Windows listener answers 401 with a bare "WWW-Authenticate: Negotiate" only "if an acceptable Authorization
    header has not been sent" (MS-N2HT 2.2.1, learn.microsoft.com/openspecs/windows_protocols/ms-n2ht), so a
    token sent with the first request is taken at once; pywinrm does the same for Kerberos (requests-kerberos
    with force_preemptive=True in winrm/transport.py). A listener that answers the first token without a
    Negotiate challenge (a proxy, another scheme) gets requests-ntlm's own three-leg handshake instead.
    """

    def __init__(self, username: str | None, password: str | None, send_cbt: bool = True) -> None:
        super().__init__(username, password, send_cbt=send_cbt)
        self._client: Any = None  # the NTLM context whose NEGOTIATE_MESSAGE is in flight

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r = super().__call__(r)  # keep-alive and requests-ntlm's 401 hook
        if self.session_security is None and "Authorization" not in r.headers:
            self._client = spnego.client(self.username, self.password, protocol="ntlm", service="http",
                                         hostname=urlsplit(r.url or "").hostname or "unspecified",
                                         options=spnego.NegotiateOptions.use_ntlm)
            r.headers["Authorization"] = f"{SCHEME} {base64.b64encode(self._client.step() or b'').decode()}"
        return r

    def response_hook(self, r: requests.Response, **kwargs: Any) -> requests.Response:
        client, self._client = self._client, None
        token = _challenge(r) if client is not None and r.status_code == 401 else None
        if token is None:
            if client is not None and r.status_code == 401:
                # No Negotiate challenge to the token sent: start over the way requests-ntlm does.
                r.request.headers.pop("Authorization", None)
            return super().response_hook(r, **kwargs)
        return self._authenticate(r, client, token, kwargs)

    def _authenticate(self, r: requests.Response, client: Any, token: bytes,
                      kwargs: dict[str, Any]) -> requests.Response:
        """The AUTHENTICATE_MESSAGE on the same connection (NTLM authenticates the connection, not a request)."""
        certificate_hash = self._get_server_cert(r)  # channel binding over HTTPS, as requests-ntlm does
        bindings = (spnego.channel_bindings.GssChannelBindings(
            application_data=b"tls-server-end-point:" + certificate_hash) if certificate_hash else None)
        if r.request.body is not None and hasattr(r.request.body, "seek"):
            r.request.body.seek(0, 0)
        r.content  # noqa: B018 - read the 401's body and free the connection for the next request
        r.raw.release_conn()
        request = r.request.copy()
        if r.headers.get("set-cookie"):
            request.headers["Cookie"] = r.headers["set-cookie"]
        answer = client.step(token, channel_bindings=bindings)
        request.headers["Authorization"] = f"{SCHEME} {base64.b64encode(answer or b'').decode()}"
        final = r.connection.send(request, **kwargs)  # type: ignore[attr-defined]
        final.history.append(r)
        self.session_security = ShimSessionSecurity(client)
        return final


def _challenge(r: requests.Response) -> bytes | None:
    """The NTLM CHALLENGE_MESSAGE of a 401 answering our Negotiate token, if it carries one."""
    for value in r.headers.get("www-authenticate", "").split(","):
        word, _, token = value.strip().partition(" ")
        if word.lower() == SCHEME.lower() and token.strip():
            try:
                return base64.b64decode(token.strip(), validate=True)
            except ValueError:
                return None  # not base64: left to requests-ntlm, which reports it the usual way
    return None
