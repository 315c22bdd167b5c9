"""Ways an emulated host misbehaves, as classes in a registry (moto's exceptions are the model).

Each fault is a class with its scenario name and a one-line description; it says how the listener is set up
(its address, password, certificate, knobs) and, where it acts on the wire or on the collector, does that in
one hook. The state of the host (services, files) lives in ``lab.models``; the wire lives in ``server``;
a fault only bends one of them. What a fault does not emulate of the real failure is said in its docstring.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from gpverify.lab.wsman.faults import OperationTimedOut
from gpverify.lab.wsman.responses import CommandOutput

if TYPE_CHECKING:
    from gpverify.lab.wsman.server import WsmanServer, _WsmanRequestHandler

__all__ = ["HOST_FAULTS", "HostFault", "fault_for"]

HOST_FAULTS: dict[str, type[HostFault]] = {}

CLIXML_ERROR = (
    '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    '<S S="Error">Get-CimInstance : Access denied _x000D__x000A_</S></Objs>'
)
# What IIS answers on a port where no WinRM listener is bound but the Default Web Site is.
IIS_PAGE = (
    b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"><html><head><title>IIS Windows Server'
    b'</title></head><body><div id="container"><a href="http://go.microsoft.com/fwlink/?linkid=66138">'
    b'<img src="iisstart.png" alt="IIS"></a></div></body></html>'
)
HUGE_BODY_BYTES = 600 * 1024 * 1024  # declared; the lab sends only what the client reads before giving up
TRICKLE_LIMIT = 120.0  # seconds a trickling answer may last before the lab itself gives up


def closed_port() -> int:
    """A port nothing listens on: bind, read the number, close. Connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HostFault:
    """Base: a host that behaves. Subclasses override only the hooks their fault needs.

    ``read_timeout`` is the client's winrm.read_timeout in the lab inventory, so faults that depend on timing
    (slow, trickle) stay just past or well inside it and tests stay fast.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            HOST_FAULTS[cls.name] = cls

    def __init__(self, read_timeout: float = 4.0) -> None:
        self.read_timeout = read_timeout

    # ---- set-up: where the client connects, with what the listener accepts
    def unlistened_entry(self, host: str) -> dict[str, Any] | None:
        """An inventory entry for a host with no listener at all; None: a listener is started."""
        return None

    def password(self, password: str) -> str:
        return password

    def tls_context(self, ca: Any) -> ssl.SSLContext | None:
        return None

    def winrm_settings(self) -> dict[str, Any]:
        """Extra winrm settings the lab inventory gives this host."""
        return {}

    def configure(self, server: WsmanServer) -> None:
        """Set server knobs once, before it starts."""

    # ---- wire hooks (server.py): return True when the fault answered instead of the listener
    def answer_request(self, server: WsmanServer, h: _WsmanRequestHandler) -> bool:
        return False

    def challenge(self, headers: list[tuple[str, str]], authorization: str | None) -> list[tuple[str, str]]:
        return headers

    def send_body(self, server: WsmanServer, h: _WsmanRequestHandler, body: bytes, content_type: str) -> bool:
        """Called for every answer with a body (encrypted already when the session is)."""
        return False

    # ---- collector hook (host.py): the collector's answer, given the healthy one
    def collector(self, answer: Callable[[], bytes]) -> CommandOutput:
        return CommandOutput(stdout=answer())


class Unreachable(HostFault):
    """The WinRM port refuses connections (listener off, firewall reject). Not emulated: a silent drop."""

    name = "unreachable"
    description = "connection refused on the WinRM port"

    def unlistened_entry(self, host: str) -> dict[str, Any] | None:
        return {"name": host, "address": "127.0.0.1", "winrm": {"port": closed_port()}}


class NameUnresolvable(HostFault):
    """DNS has no record: the address ends in .invalid, which never resolves (RFC 6761)."""

    name = "name-unresolvable"
    description = "the host name does not resolve"

    def unlistened_entry(self, host: str) -> dict[str, Any] | None:
        return {"name": host, "address": f"{host}.invalid", "winrm": {"port": closed_port()}}


class BadPassword(HostFault):
    """The listener knows another password for the account: NTLM fails with 401."""

    name = "bad-password"
    description = "NTLM authentication fails"

    def password(self, password: str) -> str:
        return f"{password}-not-this"


class TlsWrongName(HostFault):
    """HTTPS listener whose certificate (from the lab CA) names another host."""

    name = "tls-wrong-name"
    description = "HTTPS certificate issued for another name"

    def tls_context(self, ca: Any) -> ssl.SSLContext | None:
        from gpverify.lab.wsman.tls import issue, server_context

        return server_context(*issue(ca, ["wrong-name.invalid"]))


class TlsSelfSigned(HostFault):
    """HTTPS listener with a self-signed certificate nobody trusts."""

    name = "tls-self-signed"
    description = "HTTPS certificate not trusted"

    def tls_context(self, ca: Any) -> ssl.SSLContext | None:
        from gpverify.lab.wsman.tls import make_self_signed, server_context

        return server_context(*make_self_signed(["127.0.0.1", "localhost"]))


class ResetDuringReceive(HostFault):
    """The connection is reset (RST) instead of a Receive answer."""

    name = "reset"
    description = "connection reset during Receive"

    def configure(self, server: WsmanServer) -> None:
        server.reset_during_receive = True


class UnencryptedRefused(HostFault):
    """AllowUnencrypted=false: the client is told to send in clear (explicit opt-out) so the host refuses it."""

    name = "unencrypted-refused"
    description = "plain HTTP request refused (HTTP 500, no body)"

    def winrm_settings(self) -> dict[str, Any]:
        # The client refuses `never` over HTTP by itself; the opt-out lets the request reach the host.
        return {"message_encryption": "never", "allow_unencrypted": True}


class Slow(HostFault):
    """The collector answers one second after the client's read timeout."""

    name = "slow"
    description = "answers later than winrm.read_timeout"

    def collector(self, answer: Callable[[], bytes]) -> CommandOutput:
        time.sleep(self.read_timeout + 1)
        return CommandOutput(stdout=answer())


class Timeout(HostFault):
    """Every Receive ends in w:TimedOut at once. Not emulated: Windows waits OperationTimeout before each one."""

    name = "timeout"
    description = "the collector never finishes"

    def collector(self, answer: Callable[[], bytes]) -> CommandOutput:
        raise OperationTimedOut()


class ClixmlError(HostFault):
    """PowerShell fails and returns its error as CLIXML on stderr."""

    name = "clixml-error"
    description = "PowerShell error record on stderr"

    def collector(self, answer: Callable[[], bytes]) -> CommandOutput:
        return CommandOutput(stderr=CLIXML_ERROR.encode(), exit_code=1)


class MalformedJson(HostFault):
    """A profile script prints a line before the collector's JSON."""

    name = "malformed-json"
    description = "text before the collector's JSON"

    def collector(self, answer: Callable[[], bytes]) -> CommandOutput:
        return CommandOutput(stdout=b"WARNING: profile script ran\r\n" + answer())


class Truncated(HostFault):
    """The collector's output arrives cut in half."""

    name = "truncated"
    description = "collector output cut in half"

    def collector(self, answer: Callable[[], bytes]) -> CommandOutput:
        document = answer()
        return CommandOutput(stdout=document[: len(document) // 2])


class Http200Html(HostFault):
    """Every request gets ``200 OK`` with IIS's default page and no authentication: a web site on the WinRM port."""

    name = "http-200-html"
    description = "answers 200 OK with an HTML page (IIS default site)"

    def answer_request(self, server: WsmanServer, h: _WsmanRequestHandler) -> bool:
        h.rfile.read(int(h.headers.get("Content-Length") or 0))
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(IIS_PAGE)))
        h.end_headers()
        h.wfile.write(IIS_PAGE)
        return True


class BadNegotiate(HostFault):
    """The 401 after the client's NTLM Negotiate carries a token that is no NTLM Challenge (garbage bytes).

    Stands for a broken proxy or a listener offering Kerberos-only Negotiate; not emulated: a real SPNEGO
    Kerberos token.
    """

    name = "bad-negotiate"
    description = "garbage WWW-Authenticate: Negotiate token"
    TOKEN = "Tm90QW5OVExNQ2hhbGxlbmdlLWdhcmJhZ2U="  # base64 of b"NotAnNTLMChallenge-garbage"

    def challenge(self, headers: list[tuple[str, str]], authorization: str | None) -> list[tuple[str, str]]:
        if authorization and authorization.split(" ", 1)[0].lower() in ("negotiate", "ntlm"):
            return [("WWW-Authenticate", f"Negotiate {self.TOKEN}")]
        return headers


class AnonymousFirst(HostFault):
    """Answers a token sent with a connection's first request by a bare ``WWW-Authenticate: Negotiate`` (no
    challenge), as a listener or a proxy that wants to be asked before it negotiates would; from the
    connection's second request on, NTLM proceeds normally.

    Exercises the fallback of a client that sends its Negotiate token up front (gpverify since issue 15); not
    emulated: why a real endpoint would insist, which no public source describes for WinRM itself.
    """

    name = "anonymous-first"
    description = "wants an anonymous request before the NTLM Negotiate token"

    def answer_request(self, server: WsmanServer, h: _WsmanRequestHandler) -> bool:
        state = h.auth_state
        first = not getattr(state, "answered_one", False)
        state.answered_one = True  # type: ignore[attr-defined]
        if not first or not h.headers.get("Authorization"):
            return False
        h.rfile.read(int(h.headers.get("Content-Length") or 0))
        h.send_response(401)
        h.send_header("WWW-Authenticate", "Negotiate")
        h.send_header("Content-Length", "0")
        h.end_headers()
        return True


class HugeBody(HostFault):
    """After authentication, answers declaring 600 MB and streaming filler until the client hangs up."""

    name = "huge-body"
    description = "answers with a 600 MB body"

    def send_body(self, server: WsmanServer, h: _WsmanRequestHandler, body: bytes, content_type: str) -> bool:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(HUGE_BODY_BYTES))
        h.end_headers()
        chunk, sent = b" " * (1024 * 1024), 0
        while sent < HUGE_BODY_BYTES and server.is_running:
            h.wfile.write(chunk)  # OSError once the client has closed: the request ends there
            sent += len(chunk)
        h.close_connection = True
        return True


class Trickle(HostFault):
    """After authentication, every answer's body is sent one byte at a time, each well inside the read timeout.

    A client that bounds only each read waits forever; the lab gives up after TRICKLE_LIMIT seconds or when
    stopped.
    """

    name = "trickle"
    description = "sends its answer one byte at a time"

    def send_body(self, server: WsmanServer, h: _WsmanRequestHandler, body: bytes, content_type: str) -> bool:
        interval = min(0.5, self.read_timeout / 4)
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.flush()
        end = time.monotonic() + TRICKLE_LIMIT
        for i in range(len(body)):
            if not server.is_running or time.monotonic() > end:
                break
            h.wfile.write(body[i : i + 1])
            h.wfile.flush()
            time.sleep(interval)
        h.close_connection = True
        return True


def fault_for(name: str | None, read_timeout: float = 4.0) -> HostFault:
    """The fault named in a scenario (None: a healthy host); KeyError for a name no class registers."""
    return (HOST_FAULTS[name] if name else HostFault)(read_timeout)
