"""The HTTP/1.1 a WinRM listener speaks, on one kept-alive socket per host, every wait bounded by the host's time.

Answers are read by one parser (ResponseParser) fed with whatever bytes arrive; two connections feed it: a blocking
one (Connection, one host per thread) and one for an asyncio event loop (AsyncConnection, many hosts on one
thread). Both raise the same WireError for the same failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# A WS-Man answer is one SOAP envelope of at most MaxEnvelopeSizekb (500 KB by default on Windows); 8 MiB leaves
# room for any listener setting and still stops a 600 MB answer early (the same cap as transport/bounded.py).
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024  # HTTP.sys refuses request headers over 16 KB by default; answers are smaller
RECV_BYTES = 256 * 1024
_CLOSED_EARLY = "RemoteDisconnected: the listener closed the connection without an answer"


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


class ResponseParser:
    """One answer after another from the bytes of one connection, in whatever pieces they arrive."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.eof = False  # the listener closed its side: the connection cannot carry another request
        self._head: tuple[int, dict[str, str]] | None = None
        self._body = bytearray()
        self._chunk = -1  # bytes left of the chunk being read; -1: its size line is next; -2: the trailer
        self._crlf = False  # the line after a chunk's data is next

    def feed(self, data: bytes) -> None:
        """Bytes as they came; b"" when the listener closed the connection."""
        if data:
            self._buffer += data
        else:
            self.eof = True

    def take(self) -> Response | None:
        """The next whole answer (its bytes consumed), or None until more bytes come; WireError when what came
        cannot be an answer (or the listener closed the connection before the answer was whole)."""
        while self._head is None:
            head = self._parse_head()
            if head is None:
                self._more()
                return None
            if not 100 <= head[0] < 200:  # RFC 9110 15.2: interim answers (100 Continue) precede the final one
                self._head = head
        status, headers = self._head
        body = self._parse_body(status, headers)
        if body is None:
            self._more()
            return None
        self._head, self._body, self._chunk, self._crlf = None, bytearray(), -1, False
        return Response(status, headers, body)

    def _more(self) -> None:
        """More bytes are needed: fail if no more can come."""
        if self.eof:
            raise ConnectionFailed(_CLOSED_EARLY)

    def _parse_head(self) -> tuple[int, dict[str, str]] | None:
        end = self._buffer.find(b"\r\n\r\n")
        if end > MAX_HEADER_BYTES or (end < 0 and len(self._buffer) > MAX_HEADER_BYTES):  # however the bytes came
            raise TooLarge(f"headers over {MAX_HEADER_BYTES:,} bytes")
        if end < 0:
            return None
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
        status = int(parts[1])
        if 200 <= status < 300 and headers.get("content-type", "").lower().startswith("text/html"):
            raise WebPage(f"HTTP {status} with a web page (text/html)")
        return status, headers

    def _parse_body(self, status: int, headers: dict[str, str]) -> bytes | None:
        if status in (204, 304) or status < 200:
            return b""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._chunked()
        if "content-length" in headers:
            return self._exactly(_length(headers["content-length"]))
        return self._to_close()

    def _exactly(self, size: int) -> bytes | None:
        if size > MAX_RESPONSE_BYTES:
            raise TooLarge(f"the answer declared {size:,} bytes (the cap is {MAX_RESPONSE_BYTES:,})")
        if len(self._buffer) < size:
            return None
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def _line(self, what: str) -> bytes | None:
        end = self._buffer.find(b"\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise TooLarge(what)
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _chunked(self) -> bytes | None:
        """Chunks as they come (RFC 9112 7.1): size line, data, the line after it; size 0, then trailer lines up
        to an empty one."""
        while True:
            if self._crlf or self._chunk < 0:
                line = self._line("a chunk header without an end")
                if line is None:
                    return None
                if self._crlf:
                    self._crlf = False
                elif self._chunk == -2:
                    if not line:
                        return bytes(self._body)
                else:
                    self._chunk = self._chunk_size(line)
                continue
            taken = self._buffer[: self._chunk]
            self._body += taken
            del self._buffer[: len(taken)]
            self._chunk -= len(taken)
            if self._chunk:
                return None
            self._chunk, self._crlf = -1, True

    def _chunk_size(self, line: bytes) -> int:
        size = _length(line.split(b";", 1)[0].decode("latin-1"), base=16)
        if len(self._body) + size > MAX_RESPONSE_BYTES:
            raise TooLarge(f"the answer was larger than {MAX_RESPONSE_BYTES:,} bytes")
        return size if size else -2

    def _to_close(self) -> bytes | None:
        if len(self._buffer) > MAX_RESPONSE_BYTES:
            raise TooLarge(f"the answer was larger than {MAX_RESPONSE_BYTES:,} bytes")
        if not self.eof:
            return None
        body = bytes(self._buffer)
        self._buffer.clear()
        return body

    @property
    def pending(self) -> bool:
        """Bytes came after the last whole answer."""
        return bool(self._buffer)

    @property
    def reads_to_close(self) -> bool:
        """The answer being read ends when the connection does (no length, not chunked)."""
        if self._head is None:
            return False
        headers = self._head[1]
        return "chunked" not in headers.get("transfer-encoding", "").lower() and "content-length" not in headers


class _Wire:
    """What both connections share: the request line, the waits, and what a timeout means."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline, connect_timeout: float, read_timeout: float) -> None:
        self.endpoint = endpoint
        self.deadline = deadline
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.answered = False  # until the host first answers, connect_timeout bounds the wait for it
        self._parser = ResponseParser()
        host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
        self._prefix = f"POST {endpoint.path} HTTP/1.1\r\nHost: {host}:{endpoint.port}\r\n".encode("ascii")

    def _message(self, headers: str, body: bytes) -> bytes:
        return self._prefix + f"{headers}Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body

    def _wait(self) -> float:
        """How long the next read may wait: connect_timeout until the host first answers, then read_timeout."""
        return self.deadline.bound(self.read_timeout if self.answered else min(self.connect_timeout, self.read_timeout))

    def _timed_out(self) -> WireError:
        if self.deadline.remaining() <= 0:
            return DeadlineReached(f"the host's deadline of {self.deadline.seconds:g} s passed")
        return ReadTimedOut("no answer") if self.answered else SilentHost("no answer")

    def _answered(self, response: Response) -> bool:
        """Note that the host answered; True when the connection must be closed after this answer."""
        if self._parser.pending:  # one request, one answer: more would be read as the next request's answer
            raise ConnectionFailed("the listener sent more than one answer to one request")
        self.answered = True
        return self._parser.eof or response.headers.get("connection", "").lower() == "close"

    def _fresh(self) -> None:
        self._parser = ResponseParser()

    def close(self) -> None:
        raise NotImplementedError

    # ---- what each failure is called, for both connections

    @contextlib.contextmanager
    def _connecting(self) -> Iterator[None]:
        try:
            yield
        except TimeoutError:
            raise ConnectTimedOut("no connection") from None
        except OSError as exc:
            raise ConnectionFailed(str(exc)) from None

    @contextlib.contextmanager
    def _handshaking(self, sock: socket.socket) -> Iterator[None]:
        """The TLS handshake on `sock` (closed if it fails)."""
        try:
            yield
        except TimeoutError:
            sock.close()
            raise ConnectTimedOut("no TLS handshake") from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            sock.close()
            raise TlsFailed(str(exc)) from None
        except OSError as exc:
            sock.close()
            raise ConnectionFailed(str(exc)) from None

    @contextlib.contextmanager
    def _sending(self) -> Iterator[None]:
        try:
            yield
        except TimeoutError:
            self.close()
            raise self._timed_out() from None
        except OSError as exc:
            self.close()
            raise ConnectionFailed(str(exc)) from None

    @contextlib.contextmanager
    def _answering(self) -> Iterator[None]:
        """Reading an answer: a connection whose answer failed is closed."""
        try:
            yield
        except WireError:
            self.close()
            raise


class Connection(_Wire):
    """One HTTP/1.1 connection to a WinRM listener, reopened if the listener closes it between requests."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(endpoint, deadline, connect_timeout, read_timeout)
        self._sock: socket.socket | None = None

    def open(self) -> socket.socket:
        """The connected socket, connecting (and shaking hands over TLS) if there is none."""
        if self._sock is None:
            self._sock = self._connect()
            self._fresh()
        return self._sock

    def _connect(self) -> socket.socket:
        with self._connecting():
            sock = _connected(self.endpoint.host, self.endpoint.port, self.deadline.bound(self.connect_timeout))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # head and body go out in one write anyway
        if self.endpoint.tls is None:
            return sock
        with self._handshaking(sock):
            sock.settimeout(self.deadline.bound(self.connect_timeout))
            return self.endpoint.tls.wrap_socket(sock, server_hostname=self.endpoint.host)

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

    def request(self, headers: str, body: bytes) -> Response:
        """POST `body` with extra header lines `headers` ("Name: value\\r\\n" each) and read the answer."""
        sock = self.open()
        with self._sending():
            sock.settimeout(self.deadline.bound(self.read_timeout))
            sock.sendall(self._message(headers, body))
        with self._answering():
            response = self._read_response()
            closes = self._answered(response)
        if closes:
            self.close()
        return response

    def _read_response(self) -> Response:
        parser = self._parser
        while (response := parser.take()) is None:
            parser.feed(self._recv(parser.reads_to_close))
        return response

    def _recv(self, to_close: bool) -> bytes:
        assert self._sock is not None
        try:
            self._sock.settimeout(self._wait())
            return self._sock.recv(RECV_BYTES)
        except TimeoutError:
            raise self._timed_out() from None
        except OSError as exc:
            if to_close:  # an answer that ends with its connection has ended, however it ended
                return b""
            raise ConnectionFailed(str(exc)) from None


class AsyncConnection(_Wire):
    """The same connection for an asyncio event loop: many hosts on one thread, each wait a timer, not a thread."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(endpoint, deadline, connect_timeout, read_timeout)
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._streams is None:
            self._streams = await self._connect()
            self._fresh()
        return self._streams

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        with self._connecting():
            async with asyncio.timeout(self.deadline.bound(self.connect_timeout)):
                sock = await _connected_socket(self.endpoint.host, self.endpoint.port)
        tls = self.endpoint.tls
        with self._handshaking(sock):
            async with asyncio.timeout(self.deadline.bound(self.connect_timeout)):
                if tls is None:
                    return await asyncio.open_connection(sock=sock, limit=RECV_BYTES)
                host = self.endpoint.host
                return await asyncio.open_connection(sock=sock, ssl=tls, server_hostname=host, limit=RECV_BYTES)

    async def peer_certificate(self) -> bytes | None:
        _, writer = await self.open()
        tls = writer.get_extra_info("ssl_object")
        return tls.getpeercert(binary_form=True) if isinstance(tls, ssl.SSLObject) else None

    def close(self) -> None:
        if self._streams is not None:
            (_, writer), self._streams = self._streams, None
            # abort, not close: over TLS, close() starts a shutdown that waits up to 30 s for the listener's
            # close_notify, and the loop ends first, leaving the socket open. Connection.close is as abrupt.
            writer.transport.abort()

    async def request(self, headers: str, body: bytes) -> Response:
        """POST `body` with extra header lines `headers` and read the answer (Connection.request's rules)."""
        reader, writer = await self.open()
        with self._sending():
            writer.write(self._message(headers, body))
            if writer.transport.get_write_buffer_size():  # only what the socket did not take at once is waited on
                async with asyncio.timeout(self.deadline.bound(self.read_timeout)):
                    await writer.drain()
        with self._answering():
            response = await self._read_response(reader)
            closes = self._answered(response)
        if closes:
            self.close()
        return response

    async def _read_response(self, reader: asyncio.StreamReader) -> Response:
        parser = self._parser
        while (response := parser.take()) is None:
            parser.feed(await self._recv(reader, parser.reads_to_close))
        return response

    async def _recv(self, reader: asyncio.StreamReader, to_close: bool) -> bytes:
        try:
            async with asyncio.timeout(self._wait()):
                return await reader.read(RECV_BYTES)
        except TimeoutError:
            raise self._timed_out() from None
        except OSError as exc:
            if to_close:
                return b""
            raise ConnectionFailed(str(exc)) from None


# ---- connecting: name lookups bounded by the connect timeout, errors in the system's words


def _numeric(host: str, port: int) -> list[Any] | None:
    """The address itself when `host` is one (no lookup), else None."""
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        return None


def _look_up(host: str, port: int, deliver: Callable[[list[Any] | None, Exception | None], None]) -> None:
    """getaddrinfo in a daemon thread of its own, its answer (or error) handed to `deliver`. A lookup has no
    timeout of its own: one that hangs past the host's connect timeout is given up and holds up neither the run
    nor the interpreter's exit (which joins every ThreadPoolExecutor's threads)."""

    def run() -> None:
        try:
            deliver(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), None)
        except Exception as exc:  # noqa: BLE001 - the connect says what it means
            deliver(None, exc)

    threading.Thread(target=run, name="gpverify-resolve", daemon=True).start()


def _addresses(host: str, port: int, timeout: float) -> list[Any]:
    if (infos := _numeric(host, port)) is not None:
        return infos
    answers: queue.SimpleQueue[tuple[list[Any] | None, Exception | None]] = queue.SimpleQueue()
    _look_up(host, port, lambda result, error: answers.put((result, error)))
    try:
        result, error = answers.get(timeout=timeout)
    except queue.Empty:
        raise TimeoutError from None
    if error is not None:
        raise error
    return result or []


async def _addresses_async(host: str, port: int) -> list[Any]:
    if (infos := _numeric(host, port)) is not None:
        return infos
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[list[Any]] = loop.create_future()

    def settle(result: list[Any] | None, error: Exception | None) -> None:
        if answer.done():
            return  # given up at the connect timeout
        if error is not None:
            answer.set_exception(error)
        else:
            answer.set_result(result or [])

    def deliver(result: list[Any] | None, error: Exception | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has ended: nobody waits for this lookup any more
            loop.call_soon_threadsafe(settle, result, error)

    _look_up(host, port, deliver)
    return await answer


def _connected(host: str, port: int, timeout: float) -> socket.socket:
    """A connected blocking socket, as socket.create_connection connects (the first address that accepts, else
    the last one's error), its name lookup bounded by `timeout` too."""
    error = OSError(f"getaddrinfo returns an empty list for {host!r}")
    for family, kind, proto, _, address in _addresses(host, port, timeout):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


async def _connected_socket(host: str, port: int) -> socket.socket:
    """A connected non-blocking socket to the first address of `host` that accepts, as socket.create_connection
    connects (the last address's error if none does, in the operating system's words)."""
    loop = asyncio.get_running_loop()
    infos = await _addresses_async(host, port)
    error: OSError = OSError(f"getaddrinfo returns an empty list for {host!r}")
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            await loop.sock_connect(sock, address)
            return sock
        except OSError as exc:
            sock.close()
            error = _in_the_systems_words(exc)
        except BaseException:
            sock.close()
            raise
    raise error


def _in_the_systems_words(exc: OSError) -> OSError:
    """asyncio's selector loop words a failed connect "Connect call failed (address)"; the blocking connection
    gets the system's words for the same error number ("Connection refused"), which transport/sentences.py reads.
    Other errors (and the Windows proactor's) already carry the system's words."""
    if exc.errno and (exc.strerror or "").startswith("Connect call failed"):
        return OSError(exc.errno, os.strerror(exc.errno))
    return exc


def _length(text: str, base: int = 10) -> int:
    try:
        value = int(text.strip(), base)
    except ValueError:
        raise ConnectionFailed(f"not an HTTP length ({text[:20]!r})") from None
    if value < 0:
        raise ConnectionFailed("a negative HTTP length")
    return value
