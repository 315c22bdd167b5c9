"""`WsmanServer`: a loopback WinRM listener (HTTP or HTTPS) that unmodified pywinrm talks to."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import struct
import sys
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Self

from spnego.channel_bindings import GssChannelBindings

from gpverify.lab.wsman import serialize
from gpverify.lab.wsman import tls as lab_tls
from gpverify.lab.wsman.acceptor import acceptor
from gpverify.lab.wsman.auth import (
    ENCRYPTED_CONTENT_TYPE,
    AuthConfig,
    AuthResult,
    ConnectionAuth,
    is_encrypted,
)
from gpverify.lab.wsman.faults import InvalidMessage, UnencryptedRefused, WsmanFault
from gpverify.lab.wsman.hostfaults import HostFault
from gpverify.lab.wsman.loop import (
    SERVER_HEADER,
    Exchange,
    HeadError,
    Headers,
    closes,
    http_date,
    loop,
    parse_head,
    wants_continue,
)
from gpverify.lab.wsman.responses import CommandHandler, CommandOutput, WsmanResponder
from gpverify.lab.wsman.serialize import WsmanRequest
from gpverify.transport.channel import tls_channel_bindings

__all__ = ["AuthConfig", "CommandHandler", "CommandOutput", "RecordedRequest", "WsmanServer"]

_log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
HANDSHAKE_TIMEOUT = 10.0  # seconds a TLS client gets to finish its handshake
CONNECTION_TIMEOUT = 300.0  # an idle keep-alive connection is closed after this
MAX_HEADERS, MAX_HEADER_LINE = 100, 65536  # http.client's own bounds on a header block


@dataclass
class RecordedRequest:
    """What the lab saw of one HTTP request and how it answered (guidance 10)."""

    # "Create", "Command", "Send", "Receive", "Signal", "Delete", or "" for auth legs / blank POST
    action: str
    shell_id: str | None
    command_line: str | None
    stdin: bytes | None  # decoded stdin for Send
    auth: str  # "basic" | "ntlm" | "none"
    encrypted: bool
    http_status: int  # 0 when the lab dropped the connection instead of answering
    message_id: str | None = None
    fault: str | None = None  # fault subcode answered, e.g. "w:TimedOut"


class _LabHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that does TLS handshakes in the worker thread and can refuse connections."""

    daemon_threads = True
    request_queue_size = 64
    timeout = 0.0  # handle_request() is called only when a connection waits: never block the acceptor

    def __init__(self, lab: WsmanServer, address: tuple[str, int]) -> None:
        self.lab = lab
        super().__init__(address, _WsmanRequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse-DNS lookup that can stall.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def verify_request(self, request: Any, client_address: Any) -> bool:
        # False makes socketserver close the socket without a byte: a host that died mid-run.
        return not self.lab.refuse_connections

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.lab.serve_in_loop and self.lab.tls is None:
            self.lab._track(request, add=True)
            loop().adopt(request, self.lab)  # served by readiness, no thread of its own (lab/wsman/loop.py)
            return
        super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        conn: socket.socket = request
        if self.lab.tls is not None:
            request.settimeout(HANDSHAKE_TIMEOUT)
            try:
                conn = self.lab.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:  # e.g. the client rejected our certificate
                _log.debug("TLS handshake failed: %s", exc)
                return
        self.lab._track(conn, add=True)
        try:
            _WsmanRequestHandler(conn, client_address, self)
        finally:
            self.lab._track(conn, add=False)
            if conn is not request:
                conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        _log.debug("connection from %s ended with an error", client_address, exc_info=True)


class _WsmanRequestHandler(BaseHTTPRequestHandler):
    """One TCP connection; keep-alive so NTLM's per-connection context survives (research G)."""

    protocol_version = "HTTP/1.1"
    timeout = None  # set per connection in setup(): _idle_limit
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle + delayed ACK = 40 ms each

    def pay(self, seconds: float) -> None:
        """A command's cost, before its answer is written: this connection's thread sleeps it."""
        time.sleep(seconds)

    server: _LabHTTPServer

    def setup(self) -> None:
        super().setup()
        _idle_limit(self.connection)
        self.auth_state = self.server.lab._connection_auth()

    def version_string(self) -> str:
        return SERVER_HEADER

    def handle_one_request(self) -> None:
        if self.server.lab.refuse_connections:
            self.close_connection = True
            return
        super().handle_one_request()

    def parse_request(self) -> bool:
        """The request line and headers, as http.server's parse_request but with a plain header reader: its
        email-package parser (which also reads a multipart/encrypted Content-Type as a MIME tree) was a third of
        the lab's CPU per request (make bench), and the lab reads only three headers."""
        self.command, self.request_version, self.close_connection = "", self.default_request_version, True
        raw: bytes = getattr(self, "raw_requestline", b"")  # set by handle_one_request before it calls this
        self.requestline = raw.decode("iso-8859-1").rstrip("\r\n")
        lines = [self.requestline]
        for _ in range(MAX_HEADERS + 1):
            line = self.rfile.readline(MAX_HEADER_LINE + 1)
            if len(line) > MAX_HEADER_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            lines.append(line.decode("iso-8859-1").rstrip("\r\n"))
        else:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        try:
            self.command, self.path, self.request_version, headers = parse_head(lines)
        except HeadError as exc:
            self.send_error(*exc.args)
            return False
        self.headers = Headers(headers)  # type: ignore[assignment]  # read only through .get(name)
        self.close_connection = closes(self.request_version, headers)
        if wants_continue(self.request_version, headers):
            return self.handle_expect_100()  # "100 Continue", as http.server answers it
        return True

    def date_time_string(self, timestamp: float | None = None) -> str:
        return http_date() if timestamp is None else super().date_time_string(timestamp)

    def do_POST(self) -> None:
        self.server.lab._handle(self)

    # Everything else reaches _handle too and gets a 404 there: only POST /wsman is served.
    do_GET = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)


def _idle_limit(conn: socket.socket) -> None:
    """Close a connection idle for CONNECTION_TIMEOUT. On a plain POSIX socket the kernel keeps the limit
    (SO_RCVTIMEO/SO_SNDTIMEO) and the socket stays blocking: a Python-level timeout polls before every recv and
    send, and each poll is one more release and re-take of the GIL, which the lab's connection threads contend
    for (futex waits were the largest single cost of the lab's CPU at 1,000 hosts, perf). A timed-out read ends
    the request loop as a closed connection does (socket.SocketIO returns None on EAGAIN)."""
    if isinstance(conn, ssl.SSLSocket) or sys.platform == "win32":  # TLS needs its timeout; Windows: timeouts in ms
        conn.settimeout(CONNECTION_TIMEOUT)
        return
    conn.settimeout(None)
    limit = struct.pack("ll", int(CONNECTION_TIMEOUT), 0)  # struct timeval
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)


Handler = _WsmanRequestHandler | Exchange  # a request on a threaded connection or a loop-served one


class WsmanServer:
    """A loopback WinRM listener backed by a `CommandHandler` (one instance = one emulated host).

    Lifecycle follows pytest-httpserver (guidance 9): ``start()`` waits until
    serving and stops + re-raises on failure; ``stop()`` is idempotent; the
    server also stops by itself after ``idle_timeout`` seconds without requests.

    :param handler: the host model answering command lines.
    :param auth: accepted scheme and credentials.
    :param tls: server context for HTTPS (see `tls.server_context`); None means HTTP.
    :param enforce_cbt: over HTTPS, reject NTLM without a matching channel binding (EPA "Strict").
    :param idle_timeout: seconds without any request before the server stops itself; 0 = never.
    :param latency: seconds slept before answering every HTTP request.
    :param name: host name used in thread names and in ``f:WSManFault/@Machine``.
    :param serve_in_loop: serve plain-HTTP connections from the process's loop thread (lab/wsman/loop.py) rather
        than a thread each; only for a handler that never blocks and a ``fault`` that does not act on the wire.

    Fault knobs, settable at any time: ``refuse_connections`` (close sockets
    without answering), ``reset_during_receive`` (RST instead of a Receive answer),
    ``fault`` (a `hostfaults.HostFault` bending the wire: HTML pages, bad tokens, huge or trickled bodies),
    ``latency``, ``responder.cmd_exe_limit`` / ``responder.create_process_limit``, ``responder.faults`` (an
    action answered with a fault).
    """

    def __init__(
        self,
        handler: CommandHandler,
        auth: AuthConfig,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        enforce_cbt: bool = True,
        idle_timeout: float = 600.0,
        latency: float = 0.0,
        name: str = "",
        serve_in_loop: bool = False,
    ) -> None:
        self.auth = auth
        self.host = host
        self.tls = tls
        self.enforce_cbt = enforce_cbt
        self.idle_timeout = idle_timeout
        self.latency = latency
        self.name = name
        self.serve_in_loop = serve_in_loop
        self.requests: list[RecordedRequest] = []
        self.refuse_connections = False
        self.reset_during_receive = False
        self.fault = HostFault()  # a host-level misbehaviour (hostfaults.py); the base class behaves
        self.stopped_by_idle = False
        self.responder = WsmanResponder(handler, machine=name or host, owner=auth.username)
        self._port = port
        self._httpd: _LabHTTPServer | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._in_flight = 0
        self._last_activity = time.monotonic()
        self._cbt: GssChannelBindings | None = None

    # ------------------------------------------------------------ public API

    @property
    def handler(self) -> CommandHandler:
        """The host model; assigning a new one takes effect at the next command."""
        return self.responder.handler

    @handler.setter
    def handler(self, value: CommandHandler) -> None:
        self.responder.handler = value

    @property
    def port(self) -> int:
        """The bound port once started (kept after stop, so a restart comes back on the same port)."""
        return self._port

    @property
    def url(self) -> str:
        """``http(s)://127.0.0.1:<port>/wsman``."""
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/wsman"

    @property
    def http_request_count(self) -> int:
        """Number of HTTP requests read so far (auth legs included)."""
        return len(self.requests)

    @property
    def is_running(self) -> bool:
        return self._httpd is not None

    @property
    def handler_errors(self) -> list[BaseException]:
        """Non-fault exceptions the CommandHandler (or the lab itself) raised."""
        return self.responder.handler_errors

    @property
    def open_shells(self) -> list[str]:
        """ShellIds created and not yet deleted."""
        return list(self.responder.shells)

    def actions(self) -> list[str]:
        """Recorded SOAP actions in order, auth legs and blank POSTs left out."""
        return [r.action for r in self.requests if r.action]

    def clear(self) -> None:
        """Forget recorded requests and handler errors (shells stay open)."""
        self.requests.clear()
        self.responder.handler_errors.clear()

    def check(self) -> None:
        """Re-raise the first handler error, like pytest-httpserver's ``check_assertions``."""
        if self.handler_errors:
            raise self.handler_errors[0]

    def start(self) -> None:
        """Bind and listen (the process's acceptor serves it: lab/wsman/acceptor.py); on failure stop and re-raise."""
        if self._httpd is not None:
            raise RuntimeError(f"WsmanServer {self.name!r} is already running at {self.url}")
        self.stopped_by_idle = False
        try:
            self._httpd = _LabHTTPServer(self, (self.host, self._port))
            self._port = int(self._httpd.server_address[1])
            self.responder.address = self.url
            self._last_activity = time.monotonic()
            acceptor().add(self._httpd.socket, self)
            self._cbt = self._channel_bindings()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop listening and drop open connections. Safe to call twice, and from any thread."""
        with self._lock:
            httpd, self._httpd = self._httpd, None
        if httpd is not None:
            acceptor().remove(httpd.socket)
            httpd.server_close()
        for conn in self._take_connections():
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<WsmanServer {self.name or ''} {self.url} {self.auth.scheme} {state}>"

    # ------------------------------------------------------------ lifecycle internals

    def accept_one(self) -> None:
        """A connection is waiting (the acceptor saw it): accept it and serve it, in a thread of its own or, for
        a listener that ``serve_in_loop``, from the loop thread."""
        httpd = self._httpd
        if httpd is None:
            return
        # What socketserver's handle_request does once its own selector says the socket is ready (the acceptor's
        # selector already has): no second poll per connection.
        try:
            request, client_address = httpd.get_request()
        except OSError:
            return
        if not httpd.verify_request(request, client_address):
            httpd.shutdown_request(request)
            return
        try:
            httpd.process_request(request, client_address)
        except Exception:  # noqa: BLE001 -- socketserver's own handling: log it, close the connection
            httpd.handle_error(request, client_address)
            httpd.shutdown_request(request)

    def idle_check_interval(self) -> float | None:
        """How often the acceptor should ask whether this listener is idle; None: never."""
        if self._httpd is None or self.idle_timeout <= 0:
            return None
        return min(max(self.idle_timeout / 4, 0.02), 1.0)

    def stop_if_idle(self) -> None:
        """Stop after ``idle_timeout`` seconds with no request in flight or arriving."""
        with self._lock:
            idle = (
                self._httpd is not None
                and self.idle_timeout > 0
                and self._in_flight == 0
                and time.monotonic() - self._last_activity >= self.idle_timeout
            )
        if idle:
            _log.info("WsmanServer %s idle for %.1fs, stopping", self.url, self.idle_timeout)
            self.stopped_by_idle = True
            self.stop()

    def _channel_bindings(self) -> GssChannelBindings | None:
        """CBT the NTLM acceptor demands over HTTPS (research A.8 item 3); None disables the check."""
        if self.tls is None or not self.enforce_cbt:
            return None
        der = lab_tls.cert_der_of(self.tls)
        if der is None:  # a context not built by tls.server_context: ask ourselves for the cert
            host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
            der = ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate((host, self.port), timeout=HANDSHAKE_TIMEOUT))
        # The product's own bindings: pywinrm and pypsrp compute theirs independently against this lab.
        return tls_channel_bindings(der)

    def _connection_auth(self) -> ConnectionAuth:
        return ConnectionAuth(self.auth, self._cbt, self.name or self.host)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _take_connections(self) -> list[socket.socket]:
        with self._lock:
            conns, self._connections = list(self._connections), set()
        return conns

    def _busy(self, delta: int) -> None:
        with self._lock:
            self._in_flight += delta
            self._last_activity = time.monotonic()

    # ------------------------------------------------------------ request handling

    def _handle(self, h: _WsmanRequestHandler) -> None:
        self._busy(+1)
        try:
            body = self._read(h)
            if body is not None:
                if self.latency:
                    time.sleep(self.latency)
                self.answer(h, body)
        finally:
            self._busy(-1)

    def _read(self, h: _WsmanRequestHandler) -> bytes | None:
        """The request's body, or None when the listener (refusing) or its fault has dealt with the request."""
        try:
            if self.refuse_connections:
                self._drop(h, reset=False)
                return None
            if self.fault.answer_request(self, h):
                self._record(RecordedRequest("", None, None, None, "none", False, 200))
                return None
            return h.rfile.read(int(h.headers.get("Content-Length") or 0))
        except Exception as exc:  # noqa: BLE001 -- see _failed
            self._failed(h, exc)
            return None

    def connection_timeout(self) -> float:
        """Seconds an idle keep-alive connection stays open."""
        return CONNECTION_TIMEOUT

    def begin(self, h: Exchange) -> bool:
        """A request has arrived on a loop-served connection: False when the listener refuses it (dropped)."""
        if self.refuse_connections:
            self._drop(h, reset=False)
            return False
        self._busy(+1)
        return True

    def answer(self, h: Handler, body: bytes) -> None:
        """Answer a request whose body has been read, once its latency has passed."""
        try:
            if h.command != "POST" or h.path.split("?", 1)[0] != "/wsman":
                self._record(RecordedRequest("", None, None, None, "none", False, 404))
                return self._send(h, 404, b"", encrypted=False)
            self._process(h, body)
        except Exception as exc:  # noqa: BLE001 -- see _failed
            self._failed(h, exc)
        finally:
            self._owed()  # a cost no answer paid (the client went away) is not charged to the next one
        return None

    def _owed(self) -> float:
        """The command cost the handler owes on this thread (LabHost in lab/host.py; other handlers owe none)."""
        take = getattr(self.handler, "take_owed", None)
        return float(take()) if take is not None else 0.0

    def _failed(self, h: Handler, exc: Exception) -> None:
        """Called in an except block: a lost connection ends it, anything else is a lab bug answered 500."""
        if isinstance(exc, OSError):  # the client went away (e.g. its read timeout fired while a slow host slept)
            h.close_connection = True
            _log.debug("WsmanServer %s: connection lost: %s", self.url, exc)
            return
        # A lab bug: keep it visible to check(), answer 500.
        self.responder.handler_errors.append(exc)
        _log.exception("WsmanServer %s failed on a request", self.url)
        with contextlib.suppress(OSError):
            self._send(h, 500, b"", encrypted=False)

    def _process(self, h: Handler, body: bytes) -> None:
        auth = h.auth_state.authenticate(h.headers.get("Authorization"))
        if not auth.ok:
            self._record(RecordedRequest("", None, None, None, "none", False, 401))
            headers = self.fault.challenge(auth.headers, h.headers.get("Authorization"))
            return self._send(h, 401, b"", encrypted=False, headers=headers)
        encrypted = is_encrypted(h.headers.get("Content-Type", ""))
        try:
            plain = h.auth_state.unwrap(body) if encrypted else body
            if plain and not encrypted and self._must_encrypt(auth):
                raise UnencryptedRefused()
        except WsmanFault as fault:
            req = None if encrypted else _parse(body)[0]
            reply = self.responder.fault_reply(fault, req.message_id if req else None)
            self._record(_describe(req, auth, encrypted, reply.status, fault))
            return self._send(h, reply.status, reply.body, encrypted=encrypted)
        if not plain:
            # pywinrm's blank POST that sets up encryption (Transport.setup_encryption) wants a 2xx.
            self._record(RecordedRequest("", None, None, None, auth.scheme, encrypted, 200))
            return self._send(h, 200, b"", encrypted=False, headers=auth.headers)
        self._answer(h, plain, auth, encrypted)

    def _answer(self, h: Handler, plain: bytes, auth: AuthResult, encrypted: bool) -> None:
        req, bad = _parse(plain)
        if req is None:
            reply = self.responder.fault_reply(bad or InvalidMessage(), None)
        elif req.action == "Receive" and self.reset_during_receive:
            self._record(_describe(req, auth, encrypted, 0, None))
            return self._drop(h, reset=True)
        else:
            reply = self.responder.dispatch(req)
        # Recorded before sending: a client that already gave up (read timeout) still shows in the log.
        self._record(_describe(req, auth, encrypted, reply.status, reply.fault))
        self._send(h, reply.status, reply.body, encrypted=encrypted, headers=auth.headers)

    def _must_encrypt(self, auth: AuthResult) -> bool:
        """Windows AllowUnencrypted=false refuses plaintext NTLM bodies over HTTP (research A.7)."""
        return auth.scheme == "ntlm" and self.tls is None and self.auth.require_encryption

    def _send(
        self,
        h: Handler,
        status: int,
        body: bytes,
        *,
        encrypted: bool,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        if owed := self._owed():
            h.pay(owed)
        content_type = SOAP_CONTENT_TYPE
        # A fault about a broken security context cannot itself be sealed; it goes out in clear.
        if encrypted and body and h.auth_state.ntlm_ready:
            body, content_type = h.auth_state.wrap(body), ENCRYPTED_CONTENT_TYPE
        # A wire fault acts on threaded connections only: the loop serves hosts without one (WsmanServer).
        if body and isinstance(h, _WsmanRequestHandler) and self.fault.send_body(self, h, body, content_type):
            h.wfile.flush()
            return
        # One write of the status line, headers and body (as http.server would send them, without its per-header
        # buffering); pywinrm reads Content-Type on every response once encryption is on (encryption.py).
        lines = [
            f"{h.protocol_version} {status} {HTTPStatus(status).phrase}",
            f"Server: {h.version_string()}",
            f"Date: {h.date_time_string()}",
            *(f"{key}: {value}" for key, value in headers or []),
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
        ]
        h.wfile.write("\r\n".join([*lines, "", ""]).encode("latin-1") + body)
        h.wfile.flush()
        h.log_request(status, len(body))  # the request line at debug level, as http.server's send_response logs it

    def _drop(self, h: Handler, *, reset: bool) -> None:
        """Close the TCP connection without an answer; ``reset`` makes it an RST (SO_LINGER 0)."""
        h.close_connection = True
        conn = h.connection
        try:
            if reset:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        except OSError:
            pass

    def _record(self, rec: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(rec)


def _parse(body: bytes) -> tuple[WsmanRequest | None, WsmanFault | None]:
    """The decoded request, or the fault that says why it could not be decoded."""
    try:
        return serialize.parse_request(body), None
    except WsmanFault as fault:
        return None, fault


def _describe(
    req: WsmanRequest | None, auth: AuthResult, encrypted: bool, status: int, fault: WsmanFault | None
) -> RecordedRequest:
    """The RecordedRequest for a parsed (or unparsable) SOAP request."""
    subcode = fault.subcode if fault is not None else None
    if req is None:
        return RecordedRequest("", None, None, None, auth.scheme, encrypted, status, fault=subcode)
    command_line = stdin = None
    try:
        if req.action == "Command":
            command_line = serialize.parse_command_line(req)
        elif req.action == "Send":
            stdin = b"".join(c.data for c in serialize.parse_send(req))
    except WsmanFault:
        pass
    return RecordedRequest(
        req.action, req.shell_id, command_line, stdin, auth.scheme, encrypted, status, req.message_id, subcode
    )
