"""Bounds for one host's HTTP traffic: a total deadline, a connect timeout and a cap on each response body."""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.response import HTTPResponse

# A WS-Man answer is one SOAP envelope of at most MaxEnvelopeSizekb (500 KB by default on Windows, 150 KB asked
# by pywinrm); 8 MiB leaves room for any listener setting and still stops a 600 MB answer early.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024


class DeadlinePassed(requests.exceptions.RequestException):
    """The host's total time (connect, authenticate, collect) ran out."""


class ResponseTooLarge(requests.exceptions.RequestException):
    """A response body was larger than MAX_RESPONSE_BYTES: no WinRM listener sends that."""


class NotWinRM(requests.exceptions.RequestException):
    """The endpoint answered with a web page: a web site (IIS's default one, say) listens where WinRM should."""


class HostDeadline:
    """One host's time budget; when it runs out every socket of the host is shut down, ending blocked reads.

    Timeouts alone cannot bound a host that trickles its answer (each byte resets the read timeout), so a
    timer closes the sockets from outside; the reading thread then fails at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.expired = False
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def check(self) -> None:
        if self.expired or self.remaining() <= 0:
            raise DeadlinePassed(f"the host's deadline of {self.seconds:g} s passed")

    def track(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.add(sock)
            expired = self.expired
        if expired:
            _shutdown(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            _shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._sockets.clear()


def _shutdown(sock: socket.socket) -> None:
    # socket.socket.shutdown, not SSLSocket.shutdown: the TLS object stays intact for the thread reading it,
    # which then sees end-of-file instead of a half-torn-down object.
    with contextlib.suppress(OSError, ValueError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _pool_classes(deadline: HostDeadline) -> dict[str, type[HTTPConnectionPool]]:
    """Pool classes whose connections register their sockets with the deadline (urllib3's public ConnectionCls)."""

    def tracked(base: type[HTTPConnection]) -> type[HTTPConnection]:
        def connect(self: Any) -> None:
            base.connect(self)
            deadline.track(self.sock)  # the TLS socket, once wrapped; connect_timeout bounds the connecting

        return type(f"Deadline{base.__name__}", (base,), {"connect": connect})

    return {
        "http": type("DeadlineHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": tracked(HTTPConnection)}),
        "https": type(
            "DeadlineHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": tracked(HTTPSConnection)}
        ),
    }


class BoundedAdapter(HTTPAdapter):
    """requests adapter for one host: (connect, read) timeouts within the deadline, bodies read with a cap."""

    def __init__(self, deadline: HostDeadline, connect_timeout: float, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        self.deadline = deadline
        self.connect_timeout = connect_timeout
        self.max_bytes = max_bytes
        self.answered = False  # until the host first answers, connect_timeout bounds the wait for it
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.deadline)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        self.deadline.check()
        read = timeout[1] if isinstance(timeout, tuple) else timeout
        left = self.deadline.remaining()
        # A WinRM listener answers the first request (an authentication challenge) at once; a host that accepts
        # the connection and then says nothing is as unreachable as one that never accepts it.
        first = min(self.connect_timeout, read or left) if not self.answered else read or left
        bounded = (min(self.connect_timeout, left), min(first, left))
        try:
            response = super().send(request, stream=stream, timeout=bounded, verify=verify, cert=cert, proxies=proxies)
        except requests.exceptions.ReadTimeout:
            if self.deadline.expired:
                raise DeadlinePassed(f"the host's deadline of {self.deadline.seconds:g} s passed") from None
            if not self.answered:
                raise requests.exceptions.ConnectTimeout(
                    "the host accepted the connection but sent no answer"
                ) from None
            raise
        except requests.exceptions.RequestException:
            if self.deadline.expired:
                raise DeadlinePassed(f"the host's deadline of {self.deadline.seconds:g} s passed") from None
            raise
        self.answered = True
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise ResponseTooLarge(f"the answer declared {int(declared):,} bytes (the cap is {self.max_bytes:,})")
        if response.ok and response.headers.get("Content-Type", "").lower().startswith("text/html"):
            response.close()  # WinRM answers SOAP, an encrypted multipart, or nothing; never a page
            raise NotWinRM(f"HTTP {response.status_code} with a web page (text/html)")
        if not declared.isdigit():
            # No Content-Length (chunked, or until the connection closes): read it here, at most the cap, and hand
            # requests the same bytes. An answer with a length keeps urllib3's own response, whose socket
            # requests-ntlm reads the certificate from for channel binding.
            response.raw = _capped(response.raw, self.max_bytes)
        return response


def _capped(raw: HTTPResponse, cap: int) -> HTTPResponse:
    """The body of a response without a length, read whole up to `cap` (ResponseTooLarge past it), as a response
    of its own (urllib3's public constructor); still encoded, so requests decodes it as it would have."""
    body, total = [], 0
    try:
        for chunk in raw.stream(2**16, decode_content=False):
            total += len(chunk)
            if total > cap:
                raw.close()
                raise ResponseTooLarge(f"the answer was larger than {cap:,} bytes")
            body.append(chunk)
    except urllib3.exceptions.HTTPError as exc:  # cut off mid-body: what requests would have said
        raise requests.exceptions.ConnectionError(str(exc)) from None
    raw.release_conn()
    return HTTPResponse(
        body=io.BytesIO(b"".join(body)),
        headers=raw.headers,
        status=raw.status,
        reason=raw.reason,
        preload_content=False,
        decode_content=True,
    )
