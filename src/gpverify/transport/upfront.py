"""pywinrm's NTLM with the Negotiate token sent up front, through requests-ntlm's and pyspnego's public APIs."""

from __future__ import annotations

import base64
import ssl
from typing import Any
from urllib.parse import urlsplit

import requests
import spnego
from requests_ntlm import HttpNtlmAuth

from gpverify.transport.channel import tls_channel_bindings

SCHEME = "Negotiate"  # WinRM's listener advertises "WWW-Authenticate: Negotiate" and takes NTLM inside it


class SessionSecurity:
    """What pywinrm's message encryption calls on `auth.session_security` (winrm/encryption.py: wrap returns
    (sealed, signature), unwrap takes them back), over a pyspnego context's public wrap and unwrap."""

    def __init__(self, context: spnego.ContextProxy) -> None:
        self._context = context

    def wrap(self, message: bytes) -> tuple[bytes, bytes]:
        data = self._context.wrap(message, encrypt=True).data
        return data[16:], data[:16]  # an NTLM signature is 16 bytes (MS-NLMP 2.2.2.9)

    def unwrap(self, message: bytes, signature: bytes) -> bytes:
        return self._context.unwrap(signature + message).data


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
            self._client = spnego.client(
                self.username,
                self.password,
                protocol="ntlm",
                service="http",
                hostname=urlsplit(r.url or "").hostname or "unspecified",
                options=spnego.NegotiateOptions.use_ntlm,
            )
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

    def _authenticate(
        self, r: requests.Response, client: Any, token: bytes, kwargs: dict[str, Any]
    ) -> requests.Response:
        """The AUTHENTICATE_MESSAGE on the same connection (NTLM authenticates the connection, not a request)."""
        certificate = _peer_certificate(r) if self.send_cbt else None
        bindings = tls_channel_bindings(certificate) if certificate else None
        if r.request.body is not None and hasattr(r.request.body, "seek"):
            r.request.body.seek(0, 0)
        r.content  # noqa: B018 - read the 401's body and free the connection for the next request
        r.raw.release_conn()
        request = r.request.copy()
        if r.headers.get("set-cookie"):
            request.headers["Cookie"] = r.headers["set-cookie"]
        answer = client.step(token, channel_bindings=bindings)
        request.headers["Authorization"] = f"{SCHEME} {base64.b64encode(answer or b'').decode()}"
        final = r.connection.send(request, **kwargs)
        final.history.append(r)
        self.session_security = SessionSecurity(client)  # type: ignore[assignment]
        return final


def _peer_certificate(r: requests.Response) -> bytes | None:
    """The TLS certificate (DER) of the connection that answered, through urllib3's public
    HTTPResponse.connection; None over plain HTTP."""
    sock = getattr(getattr(r.raw, "connection", None), "sock", None)
    return sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None


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
