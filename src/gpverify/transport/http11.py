"""The HTTP/1.1 a WinRM listener speaks, on one kept-alive socket per host, every wait bounded by the host's time."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

# A WS-Man answer is one SOAP envelope of at most MaxEnvelopeSizekb (500 KB by default on Windows); 8 MiB leaves
# room for any listener setting and still stops a 600 MB answer early (the same cap as transport/bounded.py).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024  # HTTP.sys refuses request headers over 16 KB by default; answers are smaller
RECV_BYTES = 256 * 1024


class WireError(Exception):
    """The host could not be talked to; the subclass says how, the text carries the detail (never a secret)."""


class ConnectTimedOut(WireError):
    """No TCP connection (or TLS handshake) within winrm.connect_timeout."""


class SilentHost(WireError):
    """A connection was accepted, and nothing came back to its first request within winrm.connect_timeout."""


class ReadTimedOut(WireError):
    """No answer within winrm.read_timeout."""


class DeadlineReached(WireError):
    """The host's whole time (winrm.deadline) ran out."""


class TlsFailed(WireError):
    """The TLS handshake failed; the text is OpenSSL's, which says whether the name, expiry or trust failed."""


class ConnectionFailed(WireError):
    """The operating system's error (no such name, refused, reset), or the connection closed without an answer."""


class TooLarge(WireError):
    """An answer larger than MAX_RESPONSE_BYTES: no WinRM listener sends that."""


class WebPage(WireError):
    """A 2xx answer with an HTML page: a web site listens where WinRM should."""


class Deadline:
    """One host's total time; every blocking wait of the host is cut to what is left of it (no timer thread:
    a trickling answer is ended by the next read's timeout)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def bound(self, timeout: float) -> float:
        """`timeout`, or less if the host's time ends sooner; DeadlineReached when none is left."""
        left = self.remaining()
        if left <= 0:
            raise DeadlineReached(f"the host's deadline of {self.seconds:g} s passed")
        return min(timeout, left)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header's values joined with ", "
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    path: str
    tls: ssl.SSLContext | None  # None: plain HTTP


class Connection:
    """One HTTP/1.1 connection to a WinRM listener, reopened if the listener closes it between requests."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline, connect_timeout: float, read_timeout: float) -> None:
        self.endpoint = endpoint
        self.deadline = deadline
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.answered = False  # until the host first answers, connect_timeout bounds the wait for it
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
        self._prefix = f"POST {endpoint.path} HTTP/1.1\r\nHost: {host}:{endpoint.port}\r\n".encode("ascii")

    # ---- connecting

    def open(self) -> socket.socket:
        """The connected socket, connecting (and shaking hands over TLS) if there is none."""
        if self._sock is None:
            self._sock = self._connect()
            self._buffer.clear()
        return self._sock

    def _connect(self) -> socket.socket:
        address = (self.endpoint.host, self.endpoint.port)
        try:
            sock = socket.create_connection(address, timeout=self.deadline.bound(self.connect_timeout))
        except TimeoutError:
            raise ConnectTimedOut("no connection") from None
        except OSError as exc:
            raise ConnectionFailed(str(exc)) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # head and body go out in one write anyway
        if self.endpoint.tls is None:
            return sock
        try:
            sock.settimeout(self.deadline.bound(self.connect_timeout))
            return self.endpoint.tls.wrap_socket(sock, server_hostname=self.endpoint.host)
        except TimeoutError:
            sock.close()
            raise ConnectTimedOut("no TLS handshake") from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            sock.close()
            raise TlsFailed(str(exc)) from None
        except OSError as exc:
            sock.close()
            raise ConnectionFailed(str(exc)) from None

    def peer_certificate(self) -> bytes | None:
        """The listener's certificate (DER) over HTTPS, for channel binding; None over HTTP."""
        sock = self.open()
        return sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None

    def close(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            try:
                sock.close()
            except OSError:
                pass

    # ---- one exchange

    def request(self, headers: str, body: bytes) -> Response:
        """POST `body` with extra header lines `headers` ("Name: value\\r\\n" each) and read the answer."""
        sock = self.open()
        head = self._prefix + f"{headers}Content-Length: {len(body)}\r\n\r\n".encode("latin-1")
        try:
            sock.settimeout(self.deadline.bound(self.read_timeout))
            sock.sendall(head + body)
        except TimeoutError:
            self.close()
            raise self._timed_out() from None
        except OSError as exc:
            self.close()
            raise ConnectionFailed(str(exc)) from None
        try:
            response = self._read_response()
        except WireError:
            self.close()
            raise
        self.answered = True
        if response.headers.get("connection", "").lower() == "close":
            self.close()
        return response

    def _timed_out(self) -> WireError:
        if self.deadline.remaining() <= 0:
            return DeadlineReached(f"the host's deadline of {self.deadline.seconds:g} s passed")
        return ReadTimedOut("no answer") if self.answered else SilentHost("no answer")

    def _recv(self) -> bytes:
        assert self._sock is not None
        wait = self.read_timeout if self.answered else min(self.connect_timeout, self.read_timeout)
        try:
            self._sock.settimeout(self.deadline.bound(wait))
            data = self._sock.recv(RECV_BYTES)
        except TimeoutError:
            raise self._timed_out() from None
        except OSError as exc:
            raise ConnectionFailed(str(exc)) from None
        if not data:
            raise ConnectionFailed("RemoteDisconnected: the listener closed the connection without an answer")
        return data

    def _read_response(self) -> Response:
        status, headers = self._read_head()
        if 200 <= status < 300 and headers.get("content-type", "").lower().startswith("text/html"):
            raise WebPage(f"HTTP {status} with a web page (text/html)")
        if status in (204, 304) or status < 200:
            return Response(status, headers, b"")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            body = self._read_exactly(_length(headers["content-length"]))
        else:
            body = self._read_to_close()
        return Response(status, headers, body)

    def _read_head(self) -> tuple[int, dict[str, str]]:
        end = self._buffer.find(b"\r\n\r\n")
        while end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise TooLarge(f"headers over {MAX_HEADER_BYTES:,} bytes")
            self._buffer += self._recv()
            end = self._buffer.find(b"\r\n\r\n")
        lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ConnectionFailed(f"not an HTTP answer ({lines[0][:40]!r})")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        return int(parts[1]), headers

    def _read_exactly(self, size: int) -> bytes:
        if size > MAX_RESPONSE_BYTES:
            raise TooLarge(f"the answer declared {size:,} bytes (the cap is {MAX_RESPONSE_BYTES:,})")
        while len(self._buffer) < size:
            self._buffer += self._recv()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _read_line(self) -> bytes:
        end = self._buffer.find(b"\r\n")
        while end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise TooLarge("a chunk header without an end")
            self._buffer += self._recv()
            end = self._buffer.find(b"\r\n")
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = _length(self._read_line().split(b";", 1)[0].decode("latin-1"), base=16)
            if len(body) + size > MAX_RESPONSE_BYTES:
                raise TooLarge(f"the answer was larger than {MAX_RESPONSE_BYTES:,} bytes")
            if size == 0:
                while self._read_line():  # trailer lines up to the empty one
                    pass
                return bytes(body)
            body += self._read_exactly(size)
            self._read_line()

    def _read_to_close(self) -> bytes:
        body = bytearray(self._buffer)
        self._buffer.clear()
        while True:
            try:
                body += self._recv()
            except ConnectionFailed:
                self.close()
                return bytes(body)
            if len(body) > MAX_RESPONSE_BYTES:
                raise TooLarge(f"the answer was larger than {MAX_RESPONSE_BYTES:,} bytes")


def _length(text: str, base: int = 10) -> int:
    try:
        value = int(text.strip(), base)
    except ValueError:
        raise ConnectionFailed(f"not an HTTP length ({text[:20]!r})") from None
    if value < 0:
        raise ConnectionFailed("a negative HTTP length")
    return value
