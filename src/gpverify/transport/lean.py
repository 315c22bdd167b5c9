"""gpverify's own WinRM client: NTLM (sealed over HTTP, channel-bound over HTTPS) or Basic, one connection per host.

The same requests as the pywinrm transport, in the same order (7 per host over HTTP, 6 over HTTPS; see
tests/lab/test_transport_requests.py), without requests, urllib3 or pywinrm between gpverify and the socket:
envelopes are filled templates (transport/wsman.py), answers are parsed once, NTLM is pyspnego's public API.
Every failure is the pywinrm transport's sentence for it (transport/sentences.py). The host's deadline is kept by
cutting every wait to the time left (transport/http11.py), so no timer thread runs per host.

The exchange is written once, as steps (transport/base.py): `run` drives them blocking, one host per thread, and
`run_async` on an asyncio event loop, where facts/collect.py collects every lean host of a run on one thread
(collect_hosts' worker count bounding the hosts in flight, so the farm sees no more connections than before).
Measured on the lab in another process, 2 cores: one thread spends less CPU per host than 128 contending for the
interpreter (make bench: gpverify's CPU per host).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import re
import ssl
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Self, cast

import spnego
from spnego.exceptions import SpnegoError

from gpverify.config.inventory import HostSpec
from gpverify.errors import HostUnavailable
from gpverify.transport import sentences
from gpverify.transport.base import (
    CommandResult,
    Pause,
    Received,
    ReceiveTimedOut,
    Steps,
    drive,
    drive_async,
    pause_blocking,
    receive_all,
    stdin_chunks,
)
from gpverify.transport.channel import tls_channel_bindings
from gpverify.transport.http11 import (
    AsyncConnection,
    Connection,
    ConnectTimedOut,
    Deadline,
    DeadlineReached,
    Endpoint,
    ReadTimedOut,
    Response,
    SilentHost,
    TlsFailed,
    TooLarge,
    WebPage,
    WireError,
)
from gpverify.transport.ntlm import ntlm_secret
from gpverify.transport.settings import LEAN_TRANSPORTS, refuse_unsafe
from gpverify.transport.wsman import (
    BadAnswer,
    Envelopes,
    parse_command_id,
    parse_fault,
    parse_output,
    parse_shell_id,
)

_COMMON = "Connection: Keep-Alive\r\nUser-Agent: gpverify\r\n"
_SOAP = f"{_COMMON}Content-Type: application/soap+xml;charset=UTF-8\r\n"
# MS-WSMV 2.2.9.1.1: an NTLM-sealed body is a one-part multipart/encrypted document.
_SPNEGO_ENCRYPTED = "application/HTTP-SPNEGO-session-encrypted"
_SEALED = f'{_COMMON}Content-Type: multipart/encrypted;protocol="{_SPNEGO_ENCRYPTED}";boundary="Encrypted Boundary"\r\n'
_BOUNDARY = b"--Encrypted Boundary"
_PART_HEAD = (
    b"--Encrypted Boundary\r\n\tContent-Type: "
    + _SPNEGO_ENCRYPTED.encode()
    + b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n"
    b"--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n"
)
_OCTET = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH = re.compile(rb"Length=(\d+)")


class _Failed(Exception):
    """A failure already put in words (a sentences.* text)."""


@dataclass(frozen=True, slots=True)
class _Post:
    """A step's wait: POST this and send back the Response."""

    headers: str = field(repr=False)  # Basic's Authorization header carries the password, base64'd: in no repr
    body: bytes


class _PeerCertificate:
    """A step's wait: the listener's certificate (DER) over HTTPS, None over HTTP (connecting if need be)."""


_PEER_CERTIFICATE = _PeerCertificate()


@functools.lru_cache(maxsize=16)
def tls_context(validate: bool, ca_bundle: str | None) -> ssl.SSLContext:
    """One TLS context per trust setting and run (loading a CA store costs milliseconds). Without winrm.ca_bundle
    the CAs are certifi's, as requests (so the pywinrm transport) trusts them."""
    if not validate:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_bundle is None:
        with contextlib.suppress(ImportError):
            import certifi

            ca_bundle = certifi.where()
    return ssl.create_default_context(cafile=ca_bundle)


class LeanTransport:
    """An open WinRM shell on one host; every failure becomes HostUnavailable naming the host."""

    def __init__(self, spec: HostSpec, password: str | None) -> None:
        self.spec = spec
        self._password = _checked_settings(spec, password)
        w = spec.winrm
        self._auth = w.transport or "ntlm"
        https = (w.scheme or "https") == "https"
        encryption = w.message_encryption or "auto"
        # pywinrm's rule (winrm/transport.py): "auto" seals over HTTP only, "always" over HTTPS too.
        self._seals = self._auth == "ntlm" and (encryption == "always" or (encryption == "auto" and not https))
        self.deadline = Deadline(w.deadline or 300)
        self._wire = (_endpoint(spec, https), self.deadline, w.connect_timeout or 10, w.read_timeout or 60)
        self._conn: Connection | None = None  # the blocking connection, once `run` is used
        self._aconn: AsyncConnection | None = None  # the event loop's, once `run_async` is used
        self._envelopes = Envelopes(spec.endpoint, w.operation_timeout or 20)
        self._context: spnego.ContextProxy | None = None  # the NTLM context once authenticated
        self._basic = _basic_header(w.user or "", password or "") if self._auth == "basic" else ""
        self._authenticated = self._auth == "basic"  # Basic goes with every request: no handshake
        self._shell: str | None = None
        self._action = "opening a shell"  # what the host was doing, for the sentence if it fails

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- HostTransport

    def run(self, command: str, args: list[str], stdin: bytes | None = None) -> CommandResult:
        """Run one command in this host's shell (opened on first use), feeding stdin if given."""
        return drive(self._run(command, args, stdin), self._perform)

    def close(self) -> None:
        """Delete the shell; the shell's commands end with it, so no Signal is needed."""
        try:
            with contextlib.suppress(Exception):  # the facts are read; an undeleted shell times out on the host
                drive(self._delete(), self._perform)
        finally:
            if self._conn is not None:
                self._conn.close()

    # ---- the same on an asyncio event loop

    async def run_async(self, command: str, args: list[str], stdin: bytes | None = None) -> CommandResult:
        """`run`, waiting on the running event loop instead of blocking a thread."""
        return await drive_async(self._run(command, args, stdin), self._perform_async)

    async def close_async(self) -> None:
        """`close` on the running event loop."""
        try:
            with contextlib.suppress(Exception):
                await drive_async(self._delete(), self._perform_async)
        finally:
            if self._aconn is not None:
                self._aconn.close()

    def abort(self) -> None:
        """Drop the connection without deleting the shell (it times out on the host): the run is ending."""
        for conn in (self._conn, self._aconn):
            if conn is not None:
                conn.close()

    # ---- the exchange, as steps

    def _run(self, command: str, args: list[str], stdin: bytes | None) -> Steps[CommandResult]:
        if self._shell is None:
            with self._failing("opening a shell"):
                self._shell = parse_shell_id((yield from self._soap(self._envelopes.create())))
        shell = self._shell
        with self._failing("starting the command"):
            command_id = parse_command_id((yield from self._soap(self._envelopes.command(shell, command, args))))
        for chunk, last in stdin_chunks(stdin):
            with self._failing("sending input"):
                yield from self._soap(self._envelopes.send(shell, command_id, chunk, last))
        return (yield from receive_all(self.spec, lambda: self._receive(shell, command_id), self.deadline.remaining))

    def _delete(self) -> Steps[None]:
        if self._shell is not None:
            shell, self._shell = self._shell, None
            yield from self._soap(self._envelopes.delete(shell))

    def _receive(self, shell: str, command_id: str) -> Steps[Received]:
        """One Receive (transport/base.py: receive_all asks until the command is done)."""
        with self._failing("reading output"):
            return parse_output((yield from self._soap(self._envelopes.receive(shell, command_id))))

    # ---- the two drivers of the steps

    def _perform(self, wait: Any) -> Any:
        """One wait of the steps, blocking."""
        if self._conn is None:
            self._conn = Connection(*self._wire)
        if isinstance(wait, _Post):
            return self._conn.request(wait.headers, wait.body)
        if isinstance(wait, Pause):
            return pause_blocking(wait)
        return self._conn.peer_certificate()

    async def _perform_async(self, wait: Any) -> Any:
        """One wait of the steps, on the running event loop."""
        if self._aconn is None:
            self._aconn = AsyncConnection(*self._wire)
        if isinstance(wait, _Post):
            return await self._aconn.request(wait.headers, wait.body)
        if isinstance(wait, Pause):
            return await asyncio.sleep(wait.seconds)
        return await self._aconn.peer_certificate()

    # ---- failures

    @contextlib.contextmanager
    def _failing(self, action: str) -> Iterator[None]:
        """Whatever fails inside becomes HostUnavailable with the sentence for it (a Receive's w:TimedOut passes
        through to receive_all; to any other request it is pywinrm's WinRMOperationTimeoutError sentence)."""
        self._action = action
        try:
            yield
        except ReceiveTimedOut:
            if action == "reading output":
                raise
            raise HostUnavailable(self.spec.name, sentences.operation_timeout(action)) from None
        except HostUnavailable:
            raise
        except _Failed as exc:
            raise HostUnavailable(self.spec.name, str(exc)) from None
        except WireError as exc:
            raise HostUnavailable(self.spec.name, self._wire_sentence(exc, action)) from None
        except BadAnswer:
            raise HostUnavailable(
                self.spec.name, sentences.not_winrm_behaviour(self.spec, action, "BadAnswer")
            ) from None
        except Exception as exc:  # noqa: BLE001 - an odd endpoint makes NTLM fail in odd ways: one sentence
            raise HostUnavailable(
                self.spec.name, sentences.not_winrm_behaviour(self.spec, action, type(exc).__name__)
            ) from None

    def _wire_sentence(self, exc: WireError, action: str) -> str:
        spec = self.spec
        if isinstance(exc, DeadlineReached) or self.deadline.remaining() <= 0:
            return sentences.deadline(spec, action)
        if isinstance(exc, ConnectTimedOut):
            return sentences.no_connection(spec, action)
        if isinstance(exc, SilentHost):
            return sentences.silent_host(spec, action)
        if isinstance(exc, ReadTimedOut):
            return sentences.no_answer(spec, action)
        if isinstance(exc, TlsFailed):
            return sentences.tls(str(exc), spec)
        if isinstance(exc, TooLarge):
            return sentences.too_large(spec, str(exc), action)
        if isinstance(exc, WebPage):
            return sentences.not_winrm(spec, str(exc), action)
        return sentences.connection(str(exc), spec)

    # ---- one SOAP exchange

    def _soap(self, envelope: bytes) -> Steps[bytes]:
        """Send one envelope (sealed when the session seals) and return the plain answer of a 2xx."""
        response = None if self._authenticated else (yield from self._authenticate(envelope))
        if response is None:
            post = _Post(_SEALED, self._seal(envelope)) if self._seals else _Post(_SOAP + self._basic, envelope)
            response = yield post
        return self._checked(cast(Response, response))

    def _checked(self, response: Response) -> bytes:
        body = self._plain(response)
        if 200 <= response.status < 300:
            return body
        if response.status == 401:
            raise _Failed(sentences.credentials(self.spec))
        fault = parse_fault(body) if body else None
        if fault is not None and fault.timed_out:
            raise ReceiveTimedOut()
        if fault is not None:  # pywinrm's WSManFaultError: the reason, else the HTTP status
            reason = (fault.reason or "(no error message in fault)").strip() or str(response.status)
            raise _Failed(sentences.wsman_fault(reason, self._action))
        w = self.spec.winrm
        if response.status == 500 and w.scheme == "http" and w.message_encryption == "never":
            raise _Failed(sentences.unencrypted_refused())
        raise _Failed(sentences.http_status(response.status, self._action))

    # ---- NTLM (MS-NLMP over MS-N2HT's Negotiate header)

    def _authenticate(self, envelope: bytes) -> Steps[Response | None]:
        """The NTLM handshake on this connection: the Negotiate token goes with the first request and the
        Authenticate token with the second (MS-N2HT 2.2.1: a listener answers with a bare challenge only when no
        acceptable token was sent). When the session seals, both carry an empty body and the envelope follows
        sealed (pywinrm's setup_encryption); otherwise the envelope rides with them and the second answer is
        its answer."""
        body = b"" if self._seals else envelope
        context = self._new_context((yield _PEER_CERTIFICATE))
        response: Response = yield self._negotiate(context, body)
        token = _challenge(response)
        if response.status == 401 and token is None:
            # A bare challenge to the token sent unasked: the usual three legs, as requests-ntlm does.
            context = self._new_context((yield _PEER_CERTIFICATE))
            response = yield self._negotiate(context, body)
            token = _challenge(response)
        if response.status != 401:
            if 200 <= response.status < 300:
                raise _Failed(sentences.unauthenticated(self.spec, self._action))
            return response  # an HTTP error before any challenge: _checked says which
        if token is None:
            raise _Failed(sentences.credentials(self.spec))
        try:
            answer = context.step(token)
        except (SpnegoError, ValueError, struct.error, IndexError, KeyError) as exc:
            raise _Failed(sentences.not_ntlm(self.spec, self._action, type(exc).__name__)) from None
        response = yield _Post(_SOAP + _authorization(answer), body)
        if response.status == 401:
            raise _Failed(sentences.credentials(self.spec))
        self._context, self._authenticated = context, True
        if self._seals and 200 <= response.status < 300:
            return None
        return response

    def _negotiate(self, context: spnego.ContextProxy, body: bytes) -> _Post:
        return _Post(_SOAP + _authorization(context.step()), body)

    def _new_context(self, certificate: bytes | None) -> spnego.ContextProxy:
        """pyspnego's NTLM initiator with the password's hashes computed once per run (transport/ntlm.py) and,
        over HTTPS, the listener certificate's (`certificate`) channel binding (Extended Protection)."""
        lm, nt = ntlm_secret(self._password).split(":")
        credential = spnego.NTLMHash(username=self.spec.winrm.user or "", lm_hash=lm, nt_hash=nt)
        return spnego.client(
            credential,
            hostname=self.spec.address,
            service="http",
            protocol="ntlm",
            channel_bindings=tls_channel_bindings(certificate) if certificate else None,
            options=spnego.NegotiateOptions.use_ntlm,
        )

    # ---- message sealing (MS-WSMV 2.2.9.1.1)

    def _seal(self, plain: bytes) -> bytes:
        assert self._context is not None
        sealed = self._context.wrap_winrm(plain)
        return b"".join(
            (
                _PART_HEAD % len(plain),
                struct.pack("<I", len(sealed.header)),
                sealed.header,
                sealed.data,
                _BOUNDARY,
                b"--\r\n",
            )
        )

    def _plain(self, response: Response) -> bytes:
        """The answer's body, unsealed when sealed. A 2xx answer to a sealed request must be sealed too (pywinrm
        would read a plain one as it is, so whoever sits on the wire could answer in its place)."""
        sealed = _SPNEGO_ENCRYPTED.lower() in response.content_type.lower()
        if not sealed:
            if self._seals and self._context is not None and 200 <= response.status < 300 and response.body:
                raise BadAnswer("a plain answer to a sealed request")
            return response.body
        if self._context is None:
            raise BadAnswer("a sealed answer without an NTLM session")
        return b"".join(self._unseal(head, payload) for head, payload in _parts(response.body))

    def _unseal(self, head: bytes, payload: bytes) -> bytes:
        assert self._context is not None
        match = _LENGTH.search(head)
        payload = payload.removeprefix(_OCTET)
        if match is None or len(payload) < 4:
            raise BadAnswer("a sealed part without its length")
        (size,) = struct.unpack("<I", payload[:4])
        plain = self._context.unwrap_winrm(payload[4 : 4 + size], payload[4 + size :])
        if len(plain) != int(match.group(1)):
            raise BadAnswer("a sealed part whose length is not the one declared")
        return plain


def _checked_settings(spec: HostSpec, password: str | None) -> str:
    """The password, once the settings are ones this client speaks and gpverify allows (else HostUnavailable)."""
    refuse_unsafe(spec)
    if (spec.winrm.transport or "ntlm") not in LEAN_TRANSPORTS:
        raise ValueError(f"the lean client does not speak {spec.winrm.transport}: use the pywinrm transport")
    if not spec.winrm.user:
        raise HostUnavailable(spec.name, sentences.no_user())
    if password is None:
        raise HostUnavailable(spec.name, sentences.no_password(spec))
    return password


def _endpoint(spec: HostSpec, https: bool) -> Endpoint:
    w = spec.winrm
    tls = tls_context(w.cert_validation is not False, w.ca_bundle) if https else None
    return Endpoint(spec.address, w.port or (5986 if https else 5985), "/wsman", tls)


def _basic_header(user: str, password: str) -> str:
    return f"Authorization: Basic {base64.b64encode(f'{user}:{password}'.encode()).decode('ascii')}\r\n"


def _parts(body: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(header, payload) of each encrypted part of a multipart/encrypted body, as pywinrm splits it."""
    pieces = [p for p in body.split(_BOUNDARY + b"\r\n") if p]
    if not pieces or len(pieces) % 2:
        raise BadAnswer("a multipart/encrypted body of the wrong shape")
    for i in range(0, len(pieces), 2):
        yield pieces[i], pieces[i + 1].removesuffix(_BOUNDARY + b"--\r\n")


def _authorization(token: bytes | None) -> str:
    return f"Authorization: Negotiate {base64.b64encode(token or b'').decode('ascii')}\r\n"


def _challenge(response: Response) -> bytes | None:
    """The NTLM CHALLENGE_MESSAGE in a 401's "WWW-Authenticate: Negotiate <token>", if there is one."""
    if response.status != 401:
        return None
    for value in response.headers.get("www-authenticate", "").split(","):
        word, _, token = value.strip().partition(" ")
        if word.lower() == "negotiate" and token.strip():
            try:
                return base64.b64decode(token.strip(), validate=True)
            except (binascii.Error, ValueError):
                return b""  # not base64: pyspnego refuses it, which says "not NTLM/Negotiate"
    return None
