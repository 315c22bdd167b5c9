"""One thread that serves the plain-HTTP connections of every listener whose host never blocks, by readiness.

A thread per connection (socketserver's ThreadingMixIn) makes a lab of 1,000 hosts run ~130 threads that take
and drop the GIL around every recv, latency sleep and send; the futex waits and context switches of that
contention were a third of the lab's CPU (perf, make bench at 1,000 clients). Here one selector waits on every
connection, a request is answered when its latency has passed (a timer, not a sleeping thread), and the answer is
built by the same WsmanServer code as on the threaded path. Only listeners whose owner says they never block
(no TLS, no wire fault, no command that sleeps: runtime.py) are served here; the others keep their threads.
"""

from __future__ import annotations

import contextlib
import email.utils
import heapq
import itertools
import logging
import selectors
import socket
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gpverify.lab.wsman.auth import ConnectionAuth

if TYPE_CHECKING:
    from gpverify.lab.wsman.server import WsmanServer

_log = logging.getLogger(__name__)

MAX_HEAD = 100 * 65536  # http.client's bounds on a header block (100 lines of 64 KiB)
RECV_SIZE = 256 * 1024


class HeadError(ValueError):
    """A request line or header block the lab refuses; args: (HTTP status, reason)."""


def parse_head(lines: list[str]) -> tuple[str, str, str, dict[str, str]]:
    """(command, path, version, headers by lower-case name) of a request head, as http.server reads it."""
    words = lines[0].split()
    if len(words) != 3 or not words[2].startswith("HTTP/1."):
        raise HeadError(400, f"Bad request line {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise HeadError(400, "Bad header line")
        headers.setdefault(name.strip().lower(), value.strip())  # the first of a repeated header, as http.server
    return words[0], words[1], words[2], headers


def closes(version: str, headers: dict[str, str]) -> bool:
    """The connection ends after this request (Connection: close, or HTTP/1.0 without keep-alive)."""
    connection = headers.get("connection", "").lower()
    return connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")


def wants_continue(version: str, headers: dict[str, str]) -> bool:
    """The client waits for "100 Continue" before it sends the body (HTTP/1.1's Expect: 100-continue)."""
    return headers.get("expect", "").lower() == "100-continue" and version != "HTTP/1.0"


class Headers(dict[str, str]):
    """A request's headers by lower-case name, read with .get(name) whatever the name's case."""

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


SERVER_HEADER = "Microsoft-HTTPAPI/2.0"  # what WinRM's HTTP.sys answers with, on either kind of connection


class Exchange:
    """One request on a loop-served connection, with the attributes WsmanServer's answering code reads of a
    request handler (http.server's names); what it writes is collected and sent when it returns."""

    protocol_version = "HTTP/1.1"

    def __init__(self, conn: LoopConnection, head: tuple[str, str, str, dict[str, str]]) -> None:
        self.command, self.path, self.request_version, headers = head
        self.headers = Headers(headers)
        self.connection = conn.sock
        self.auth_state = conn.auth_state
        self.close_connection = closes(self.request_version, headers)
        self.wfile = self
        self._out: list[bytes] = []
        self.delay = 0.0  # seconds the answer waits before it goes out (a command's cost, WsmanServer._send)

    def pay(self, seconds: float) -> None:
        """A command's cost: the loop sends this answer that much later (a timer; the loop never sleeps)."""
        self.delay += seconds

    def write(self, data: bytes) -> int:
        self._out.append(data)
        return len(data)

    def flush(self) -> None:
        """Nothing: the loop sends what was written once the answer is complete."""

    def output(self) -> bytes:
        return b"".join(self._out)

    def version_string(self) -> str:
        return SERVER_HEADER

    def date_time_string(self) -> str:
        return http_date()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                '%s "%s %s %s" %s %s', self.connection, self.command, self.path, self.request_version, code, size
            )


_DATE: list[tuple[int, str]] = [(0, "")]


def http_date() -> str:
    """The Date header's value, formatted once a second."""
    now = int(time.time())
    second, text = _DATE[0]
    if second != now:
        text = email.utils.formatdate(now, usegmt=True)
        _DATE[0] = (now, text)
    return text


def _idle_check(ref: weakref.ref[LoopConnection]) -> Callable[[], None]:
    """The idle timer of a connection that does not keep a closed one (its buffers, its NTLM session) alive."""

    def check() -> None:
        conn = ref()
        if conn is not None:
            conn.check_idle()

    return check


class LoopConnection:
    """A keep-alive connection read by the loop: one request at a time (clients do not pipeline WS-Man)."""

    def __init__(self, loop: Loop, sock: socket.socket, server: WsmanServer) -> None:
        self.loop, self.sock, self.server = loop, sock, server
        self.auth_state: ConnectionAuth = server._connection_auth()
        self.buffer = bytearray()
        self.pending = bytearray()  # answer bytes the socket did not take yet
        self.busy = False  # a request is waiting for its latency or its answer is being sent
        self.closed = False
        self.head: tuple[int, tuple[str, str, str, dict[str, str]], int] | None = None  # end, head, body length
        self.last_activity = time.monotonic()
        self.check_idle()

    def check_idle(self) -> None:
        """Close the connection once it has been idle for the listener's limit (CONNECTION_TIMEOUT), as the
        threaded path's socket timeout does; otherwise look again when the limit could next be reached."""
        if self.closed:
            return
        limit = self.server.connection_timeout()
        if not self.busy and time.monotonic() - self.last_activity >= limit:
            self.close()
            return
        when = self.last_activity + limit if not self.busy else time.monotonic() + limit
        self.loop.call_at(when, _idle_check(weakref.ref(self)))

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(RECV_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        self.last_activity = time.monotonic()
        self.buffer += data
        self.next_request()

    def next_request(self) -> None:
        """Take the next complete request out of the buffer and schedule its answer after the latency."""
        if self.busy or self.closed:
            return
        if self.head is None:
            self.head = self._read_head()
            if self.head is None:
                return
        end, head, length = self.head
        if len(self.buffer) < end + 4 + length:
            return  # the rest of the body is still on its way
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        self.head, self.busy = None, True
        exchange = Exchange(self, head)
        if not self.server.begin(exchange):
            self.after_answer(exchange)
            return
        self.loop.call_at(time.monotonic() + self.server.latency, lambda: self.answer(exchange, body))

    def _read_head(self) -> tuple[int, tuple[str, str, str, dict[str, str]], int] | None:
        """The request head at the start of the buffer once it is all there: (its end, its fields, the body's
        length); a malformed one is refused. "100 Continue" goes out once, when the head is read."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self.refuse(431, "Request header fields too large")
            return None
        try:
            head = parse_head(self.buffer[:end].decode("iso-8859-1").split("\r\n"))
            length = int(head[3].get("content-length") or 0)
        except HeadError as exc:
            self.refuse(*exc.args)
            return None
        except ValueError:
            length = -1
        if length < 0:
            self.refuse(400, "Bad Content-Length")
            return None
        if wants_continue(head[2], head[3]):
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        return end, head, length

    def answer(self, exchange: Exchange, body: bytes) -> None:
        try:
            self.server.answer(exchange, body)
        finally:
            self.server._busy(-1)
        if exchange.delay:
            self.loop.call_at(time.monotonic() + exchange.delay, lambda: self.after_answer(exchange))
        else:
            self.after_answer(exchange)

    def after_answer(self, exchange: Exchange) -> None:
        if self.sock.fileno() < 0:  # the answer dropped the connection (WsmanServer._drop)
            self.close()
            return
        self.send(exchange.output())
        if exchange.close_connection:
            self.close()
            return
        self.busy, self.last_activity = False, time.monotonic()
        self.next_request()

    def refuse(self, status: int, reason: str) -> None:
        """A malformed request head: its status, then the connection closes (as http.server's send_error)."""
        _log.debug("refused a request head: %s %s", status, reason)
        self.send(f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode("latin-1"))
        self.close()

    def send(self, data: bytes) -> None:
        if self.closed or not data:
            return
        if self.pending:
            self.pending += data
            return
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.close()
            return
        if sent < len(data):
            self.pending += data[sent:]
            self.loop.want_write(self, True)

    def on_writable(self) -> None:
        try:
            sent = self.sock.send(self.pending)
        except BlockingIOError:
            return
        except OSError:
            self.close()
            return
        del self.pending[:sent]
        if not self.pending:
            self.loop.want_write(self, False)

    def close(self) -> None:
        """Close once what is pending has gone (or could not go)."""
        if self.closed:
            return
        self.closed = True
        if self.pending:
            with contextlib.suppress(OSError):
                self.sock.setblocking(True)
                self.sock.settimeout(5.0)
                self.sock.sendall(self.pending)  # rare: an answer larger than the socket's send buffer
        self.loop.forget(self)
        self.server._track(self.sock, add=False)
        with contextlib.suppress(OSError):
            self.sock.close()


class Loop:
    """The process's loop thread: a selector over loop-served connections, timers for latency, and a queue of
    calls from other threads (the acceptor hands connections over through it)."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._calls: deque[Callable[[], None]] = deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._run, name="wsman-loop", daemon=True)
        self._thread.start()

    def adopt(self, sock: socket.socket, server: WsmanServer) -> None:
        """Serve an accepted connection from now on (called from the acceptor thread)."""
        self._calls.append(lambda: self._register(sock, server))
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _register(self, sock: socket.socket, server: WsmanServer) -> None:
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = LoopConnection(self, sock, server)
            self._selector.register(sock, selectors.EVENT_READ, conn)
        except (OSError, ValueError, KeyError):  # closed by stop() before the loop took it
            server._track(sock, add=False)
            with contextlib.suppress(OSError):
                sock.close()

    def call_at(self, when: float, call: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (when, next(self._order), call))

    def want_write(self, conn: LoopConnection, on: bool) -> None:
        with contextlib.suppress(KeyError, ValueError):
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if on else 0)
            self._selector.modify(conn.sock, events, conn)

    def forget(self, conn: LoopConnection) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn.sock)

    def _run(self) -> None:
        while True:
            timeout = max(0.0, self._timers[0][0] - time.monotonic()) if self._timers else None
            for key, events in self._selector.select(timeout):
                self._dispatch(key, events)
            while self._calls:
                self._guard(self._calls.popleft())
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                self._guard(heapq.heappop(self._timers)[2])

    def _dispatch(self, key: selectors.SelectorKey, events: int) -> None:
        conn: LoopConnection | None = key.data
        if conn is None:
            with contextlib.suppress(OSError):
                self._wake_r.recv(4096)
            return
        if events & selectors.EVENT_WRITE:
            self._guard(conn.on_writable)
        if events & selectors.EVENT_READ and not conn.closed:
            self._guard(conn.on_readable)

    @staticmethod
    def _guard(call: Callable[[], None]) -> None:
        try:
            call()
        except Exception:  # noqa: BLE001 - one connection's failure must not stop the loop serving the others
            _log.exception("the WS-Man loop failed on a connection")


_LOOP: Loop | None = None
_LOOP_LOCK = threading.Lock()


def loop() -> Loop:
    """The process's loop, started on first use."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            _LOOP = Loop()
        return _LOOP
