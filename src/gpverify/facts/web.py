"""Web facts: the web site's HTTPS endpoints probed from the machine running the checks.

The site is the thing under test, so a refused connection or a certificate that does not verify is a fact
(recorded in the answer), never an exception. Verification uses the inventory's CA bundle (web_server.ca_bundle)
or the system store; it is never turned off for the answer a check judges. The certificate is read a second time
without verification only to describe it (subject, names, expiry) when it does not verify, and the answer says
whether it verified.
"""

from __future__ import annotations

import functools
import http.client
import socket
import ssl
import threading
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

TIMEOUT = 10.0
BODY_LIMIT = 64 * 1024  # enough for any policy file or help page head; a bigger body is read only this far


@dataclass(frozen=True)
class CertificateInfo:
    """The certificate the site presents, and whether it verified against the CA bundle and the host name."""

    host: str
    port: int
    verified: bool
    tls_error: str | None  # why verification failed (chain, host name, expiry), or the connection error
    subject: str = ""
    names: tuple[str, ...] = ()  # subjectAltName DNS/IP entries (CN when there are none)
    not_after: datetime | None = None

    def days_left(self, now: datetime | None = None) -> int | None:
        """Whole days until it expires, rounded (a certificate issued "for 5 days" shows 5, not 4)."""
        if self.not_after is None:
            return None
        return round((self.not_after - (now or datetime.now(UTC))).total_seconds() / 86400)

    def valid_for(self, days: int, now: datetime | None = None) -> bool:
        """True when it is still valid `days` days from now."""
        left = self.not_after - (now or datetime.now(UTC)) if self.not_after else None
        return left is not None and left >= timedelta(days=days)

    def problem(self, days: int) -> str | None:
        """What is wrong with it (unread, not verifying, or valid for fewer than `days` days), or None."""
        if self.not_after is None:
            return f"could not read the certificate: {self.tls_error}"
        names = ", ".join(self.names) or "none"
        if not self.verified:
            return (
                f"the certificate does not verify: {self.tls_error}; expected a trusted certificate for "
                f"{self.host}, found subject {self.subject} with names {names}, valid until "
                f"{self.not_after:%Y-%m-%d}"
            )
        if not self.valid_for(days):
            return (
                f"the certificate ({self.subject}, names {names}) expires on {self.not_after:%Y-%m-%d} "
                f"({self.days_left()} days left); expected at least {days} days (inventory "
                "certificate_expiry_days)"
            )
        return None

    def as_evidence(self) -> dict[str, Any]:
        data = asdict(self)
        data["not_after"] = self.not_after.isoformat() if self.not_after else None
        data["days_left"] = self.days_left()
        return data


@dataclass(frozen=True)
class HttpAnswer:
    """One HTTPS GET: the status code (after redirects) or the TLS / connection error instead."""

    url: str
    status: int | None
    final_url: str | None = None
    tls_error: str | None = None
    error: str | None = None  # connection error other than TLS (refused, unresolvable, timeout)
    content_type: str | None = None
    xml_root: str | None = None  # the root element when the body (its first BODY_LIMIT bytes) is well-formed XML

    @property
    def answers(self) -> bool:
        """The page answered over HTTPS: 2xx/3xx, or 401 (IIS Windows authentication challenge)."""
        ok_status = self.status is not None and (self.status < 400 or self.status == 401)
        return ok_status and (self.final_url or self.url).lower().startswith("https://")

    def problem(self) -> str:
        if self.tls_error:
            return f"TLS failed: {self.tls_error}"
        if self.error:
            return f"no connection: {self.error}"
        return f"HTTP {self.status}" + (f" (redirected to {self.final_url})" if self.final_url != self.url else "")

    def as_evidence(self) -> dict[str, Any]:
        return asdict(self)


def _describe(der: bytes) -> tuple[str, tuple[str, ...], datetime]:
    # cryptography's x509 only here, where a certificate is read: importing it costs every command a few
    # hundredths of a second, and most never look at a certificate.
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(str(n) for n in san.get_values_for_type(x509.DNSName)) + tuple(
            str(ip) for ip in san.get_values_for_type(x509.IPAddress)
        )
    except x509.ExtensionNotFound:
        names = tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    return cert.subject.rfc4514_string(), names, cert.not_valid_after_utc


def _tls_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    return f"{type(exc).__name__}: {exc}"


@dataclass
class WebProbe:
    """Probes each URL once per run (cached, thread-safe); ca_bundle None means the system trust store."""

    ca_bundle: str | None = None
    timeout: float = TIMEOUT
    _http: dict[str, HttpAnswer] = field(default_factory=dict)
    _certs: dict[tuple[str, int], CertificateInfo] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @functools.cached_property
    def _verifying(self) -> ssl.SSLContext:
        """The inventory's CA bundle or the system's store, chain and host name checked: loaded once per probe,
        for every GET and certificate read (the store is read from disk each time a context is made)."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    def get(self, url: str) -> HttpAnswer:
        with self._lock:
            if url not in self._http:
                self._http[url] = self._get(url)
            return self._http[url]

    def certificate(self, url: str) -> CertificateInfo:
        parts = urlsplit(url)
        try:
            key = (parts.hostname or "", parts.port or 443)
        except ValueError:  # a port that is not a number: the URL came from a host name, not a validated url
            return CertificateInfo(parts.hostname or url, 443, False, f"not a URL with a valid port: {url}")
        with self._lock:
            if key not in self._certs:
                self._certs[key] = self._certificate(*key)
            return self._certs[key]

    def _get(self, url: str) -> HttpAnswer:
        # The standard library's client (redirects, proxies from the environment), verifying against the same
        # store as `certificate`: the inventory's CA bundle or the system's (requests would use certifi's).
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self._verifying))
        try:
            with opener.open(url, timeout=self.timeout) as resp:
                return _answer(url, resp)
        except urllib.error.HTTPError as exc:  # a status of 400 or more is the site's answer, not an error
            with exc:
                return _answer(url, exc)
        except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError is an OSError
            if _tls_failed(exc):
                return HttpAnswer(url, None, tls_error=_root_reason(exc))
            return HttpAnswer(url, None, error=_root_reason(exc))

    def _certificate(self, host: str, port: int) -> CertificateInfo:
        try:
            der = self._handshake(self._verifying, host, port)
            verified, reason = True, None
        except ssl.SSLError as exc:
            verified, reason = False, _tls_reason(exc)
            # Read the certificate again, unverified, only to say what it is; `verified` stays False.
            describe = ssl.create_default_context()
            describe.check_hostname = False
            describe.verify_mode = ssl.CERT_NONE
            try:
                der = self._handshake(describe, host, port)
            except (OSError, ssl.SSLError):
                return CertificateInfo(host, port, False, reason)
        except OSError as exc:
            return CertificateInfo(host, port, False, f"no connection: {exc.strerror or exc}")
        except (ValueError, UnicodeError) as exc:  # a host name no resolver accepts (NUL, too long a label)
            return CertificateInfo(host, port, False, f"no connection: {exc}")
        subject, names, not_after = _describe(der)
        return CertificateInfo(host, port, verified, reason, subject, names, not_after)

    def _handshake(self, context: ssl.SSLContext, host: str, port: int) -> bytes:
        with (
            socket.create_connection((host, port), timeout=self.timeout) as sock,
            context.wrap_socket(sock, server_hostname=host) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
        if not der:
            raise ssl.SSLError("the server presented no certificate")
        return der


def _answer(url: str, resp: http.client.HTTPResponse | urllib.error.HTTPError) -> HttpAnswer:
    """The status after redirects, where they led, and the head of the body (its first BODY_LIMIT bytes)."""
    body = resp.read(BODY_LIMIT) if resp.fp is not None else b""
    final = resp.filename if isinstance(resp, urllib.error.HTTPError) else resp.url  # an HTTPError may lack .url
    return HttpAnswer(
        url,
        resp.status,
        final,
        content_type=resp.headers.get("Content-Type"),
        xml_root=xml_root_name(body),
    )


def _tls_failed(exc: BaseException) -> bool:
    """The TLS handshake or the TLS stream failed (somewhere in the chain urllib wraps it in)."""
    return any(isinstance(e, ssl.SSLError) for e in _causes(exc))


def xml_root_name(body: bytes) -> str | None:
    """The root element's name when the body is well-formed XML (defusedxml: no entities, no DTD tricks)."""
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        return None
    return str(root.tag).rsplit("}", 1)[-1]


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps, outermost first: causes, contexts, an exception among its args, and
    urllib's `reason`."""
    seen: list[BaseException] = [exc]
    while True:
        nxt = (
            seen[-1].__cause__
            or seen[-1].__context__
            or next((a for a in getattr(seen[-1], "args", ()) if isinstance(a, BaseException)), None)
        )
        reason = getattr(seen[-1], "reason", None)
        if nxt is None and isinstance(reason, BaseException):
            nxt = reason
        if nxt is None or nxt in seen:
            return seen
        seen.append(nxt)


def _root_reason(exc: BaseException) -> str:
    """The innermost cause, which says what actually went wrong (refused, certificate verify failed, ...)."""
    seen = _causes(exc)
    for e in reversed(seen):
        if isinstance(e, ssl.SSLCertVerificationError):
            return e.verify_message or str(e)
    last = seen[-1]
    return " ".join(str(last).split())[:300] or type(last).__name__


def site_url(base: str, path: str) -> str:
    """Base URL of the site plus a profile path: https://gp.contoso.com + /GP."""
    return urljoin(base.rstrip("/") + "/", path.lstrip("/"))


@dataclass
class WebSiteView:
    """What a check sees of the web site; every answer it reads is kept as evidence."""

    base_url: str
    probe: WebProbe
    evidence: dict[str, Any]

    def url(self, path: str) -> str:
        return site_url(self.base_url, path)

    def get(self, path: str) -> HttpAnswer:
        answer = self.probe.get(self.url(path))
        self.evidence[f"GET {answer.url}"] = answer.as_evidence()
        return answer

    def certificate(self) -> CertificateInfo:
        cert = self.probe.certificate(self.base_url)
        self.evidence[f"certificate of {cert.host}:{cert.port}"] = cert.as_evidence()
        return cert
