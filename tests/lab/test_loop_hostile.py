"""Hostile listeners against the lean client's two drivers: blocking (collect_host, one host per thread) and the
event loop (collect_hosts, every host on one thread). Each listener is a small raw-socket server on loopback,
stopped by its test. Both drivers must end every host within its times, in the same sentence, leaving no socket,
warning or secret behind. Those under "found and fixed" failed once: the TLS socket the loop left open, a 1xx taken
as the answer, an unasked answer read as the next, the header cap by read size, a blocking progress display, and
name lookups that outlived the connect timeout."""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import pytest

from gpverify.config.inventory import HostSpec
from gpverify.errors import FactsUnavailable
from gpverify.facts.collect import CollectJob, HostOutcome, collect_hosts
from gpverify.lab.models import build_farm
from gpverify.lab.wsman import issue, make_ca
from gpverify.lab.wsman.tls import make_self_signed, server_context
from gpverify.transport import sentences
from gpverify.transport.ntlm import ntlm_secret
from helpers.wsman import COLLECTORS, listener, spec
from helpers.wsman import PASSWORD as LAB_PASSWORD
from helpers.wsman import job as lab_job

PASSWORD = "Hostile-Secret-Pw-7741"
GRACE = 4.0  # generous: a bound, never a tight timing
Serve = Callable[[socket.socket, threading.Event], None]


# ---- the hostile listener


class Hostile:
    """A loopback listener running `serve(connection, stop)` in a thread per connection; every socket closed and
    every thread ended on exit. `peak` is the most connections open at once."""

    def __init__(self, serve: Serve, tls: ssl.SSLContext | None = None) -> None:
        self.serve = serve
        self.tls = tls
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = int(self.sock.getsockname()[1])
        self.threads: list[threading.Thread] = []
        self.conns: list[socket.socket] = []
        self.open = 0
        self.peak = 0
        self.accepted = 0
        self.accepts: list[float] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Self:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._acceptor.join(5)
        for thread in self.threads:
            thread.join(5)
        for conn in self.conns:
            conn.close()
        self.sock.close()

    def most_within(self, seconds: float) -> int:
        """The most connections accepted within any `seconds` (hosts in flight, when each holds longer)."""
        return max((sum(1 for u in self.accepts if t <= u < t + seconds) for t in self.accepts), default=0)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.conns.append(conn)
            thread = threading.Thread(target=self._one, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _one(self, conn: socket.socket) -> None:
        with self._lock:
            self.accepted += 1
            self.accepts.append(time.monotonic())
            self.open += 1
            self.peak = max(self.peak, self.open)
        try:
            if self.tls is not None:
                conn.settimeout(5)
                conn = self.tls.wrap_socket(conn, server_side=True)
                self.conns.append(conn)
            conn.settimeout(0.05)
            self.serve(conn, self.stop)
        except OSError:
            pass
        finally:
            with self._lock:
                self.open -= 1


def read_head(conn: socket.socket, stop: threading.Event) -> bytes:
    """The request's head (up to its blank line); b"" if the client went away or the test ended."""
    data = b""
    while b"\r\n\r\n" not in data and not stop.is_set():
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            return b""
        data += chunk
    return data


def read_request(conn: socket.socket, stop: threading.Event) -> bytes:
    """The whole request (head and Content-Length body)."""
    data = read_head(conn, stop)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length and not stop.is_set():
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            continue
        if not chunk:
            break
        body += chunk
    return data


def idle(conn: socket.socket, stop: threading.Event) -> None:
    """Say nothing more; return when the client closes (so `Hostile.open` counts only live connections)."""
    while not stop.is_set():
        try:
            if not conn.recv(65536):
                return
        except TimeoutError:
            continue


def drip(conn: socket.socket, stop: threading.Event, pieces: Iterator[bytes], every: float = 0.2) -> None:
    for piece in pieces:
        if stop.wait(every):
            return
        conn.sendall(piece)


def forever(piece: bytes) -> Iterator[bytes]:
    while True:
        yield piece


# ---- hostile behaviours


def trickle_head(conn: socket.socket, stop: threading.Event) -> None:
    read_head(conn, stop)
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nX-Slow: ")
    drip(conn, stop, forever(b"a"))


def endless_chunked(conn: socket.socket, stop: threading.Event) -> None:
    read_head(conn, stop)
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n")
    drip(conn, stop, forever(b"1\r\na\r\n"))


def silent(conn: socket.socket, stop: threading.Event) -> None:
    read_head(conn, stop)
    idle(conn, stop)


def half_close(conn: socket.socket, stop: threading.Event) -> None:
    read_head(conn, stop)
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 100\r\n\r\nonly part")
    conn.shutdown(socket.SHUT_WR)
    idle(conn, stop)


def reset_mid_body(conn: socket.socket, stop: threading.Event) -> None:
    read_head(conn, stop)
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    time.sleep(0.2)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    conn.close()


def close_at_once(conn: socket.socket, stop: threading.Event) -> None:
    conn.close()


def huge_headers_at_once(conn: socket.socket, stop: threading.Event) -> None:
    read_head(conn, stop)
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nX-Pad: " + b"a" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n")
    idle(conn, stop)


def huge_headers_in_two(conn: socket.socket, stop: threading.Event) -> None:
    read_head(conn, stop)
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nX-Pad: " + b"a" * 70_000)
    time.sleep(0.3)
    conn.sendall(b"a" * 30_000 + b"\r\nContent-Length: 0\r\n\r\n")
    idle(conn, stop)


def interim_then_answer(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn, stop)
    conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
    idle(conn, stop)


def two_answers(conn: socket.socket, stop: threading.Event) -> None:
    """A bare challenge (so the client asks again on this connection) and, unasked, a 200 with it."""
    read_request(conn, stop)
    conn.sendall(
        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 0\r\n\r\n"
    )
    while not stop.is_set() and read_request(conn, stop):
        pass


def answer_before_request(conn: socket.socket, stop: threading.Event) -> None:
    """Answers (and closes) having read only the request line, as a front end refusing the request would."""
    while not stop.is_set():
        try:
            if conn.recv(1):
                break
        except TimeoutError:
            continue
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    conn.close()


# ---- running a host against a listener


def host(port: int, **winrm: object) -> HostSpec:
    settings: dict[str, object] = {
        "connect_timeout": 1,
        "read_timeout": 2,
        "operation_timeout": 1,
        "deadline": 3,
        **winrm,
    }
    return spec(port, **settings)


def job(port: int, name: str = "gp-sh01", **winrm: object) -> CollectJob:
    return CollectJob(host(port, name=name, **winrm), {}, PASSWORD)  # type: ignore[arg-type]


def outcome(driver: str, the_job: CollectJob) -> tuple[str, float]:
    """The host's error sentence (or "facts") and the seconds it took."""
    start = time.monotonic()
    try:
        COLLECTORS[driver](the_job)
        text = "facts"
    except FactsUnavailable as exc:
        text = exc.cause
    return text, time.monotonic() - start


@contextmanager
def nothing_escapes(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """No warning (ResourceWarning: unclosed transport), log line (asyncio's "Task exception was never
    retrieved") or stderr text comes out of the block, and no file descriptor is left open by it."""
    with warnings.catch_warnings():  # what an earlier test left to the collector is that test's, not this block's
        warnings.simplefilter("ignore")
        gc.collect()
    fds = set(os.listdir("/proc/self/fd"))
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        yield
        gc.collect()
    time.sleep(0.2)  # a closing transport's socket is closed on the loop's next turn at the latest
    gc.collect()
    leaked = [os.readlink(f"/proc/self/fd/{fd}") for fd in set(os.listdir("/proc/self/fd")) - fds if _alive(fd)]
    err = capfd.readouterr().err
    escaped = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [str(w.message) for w in seen], "warnings escaped"
    assert not escaped, escaped
    assert not err, err
    assert not [f for f in leaked if f.startswith("socket:")], leaked


def _cause(found: object) -> str:
    return found.cause if isinstance(found, FactsUnavailable) else "facts"


def _alive(fd: str) -> bool:
    try:
        os.readlink(f"/proc/self/fd/{fd}")
        return True
    except OSError:
        return False


DRIVERS = sorted(COLLECTORS)


def both(serve: Serve, tls: ssl.SSLContext | None = None, **winrm: object) -> dict[str, tuple[str, float]]:
    """Each driver's sentence and time against its own listener."""
    seen = {}
    for driver in DRIVERS:
        with Hostile(serve, tls) as server:
            seen[driver] = outcome(driver, job(server.port, **winrm))
    return seen


def _spec(port: int = 1, **winrm: object) -> HostSpec:
    return host(port, **winrm)


# ---- behaviour that is right (regression tests)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_head_trickled_forever_ends_at_the_deadline(driver: str) -> None:
    with Hostile(trickle_head) as server:
        text, took = outcome(driver, job(server.port))
    assert text == sentences.deadline(_spec(), "opening a shell")
    assert took < 3 + GRACE


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_chunked_body_that_never_ends_ends_at_the_deadline(driver: str) -> None:
    with Hostile(endless_chunked) as server:
        text, took = outcome(driver, job(server.port))
    assert text == sentences.deadline(_spec(), "opening a shell")
    assert took < 3 + GRACE


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_silent_listener_ends_at_connect_timeout(driver: str) -> None:
    with Hostile(silent) as server:
        text, took = outcome(driver, job(server.port))
    assert text == sentences.silent_host(_spec(server.port), "opening a shell")
    assert took < 1 + GRACE


def test_half_close_reset_and_close_after_accept_are_reset_sentences_both_ways() -> None:
    reset = sentences.connection("reset", _spec())
    for serve in (half_close, reset_mid_body, close_at_once):
        seen = both(serve)
        assert {text for text, _ in seen.values()} == {reset}, (serve.__name__, seen)


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_stalled_tls_handshake_ends_at_connect_timeout(driver: str) -> None:
    with Hostile(silent) as server:  # never speaks TLS: the client's hello is never answered
        text, took = outcome(driver, job(server.port, scheme="https", cert_validation=False))
    assert text == sentences.no_connection(_spec(), "opening a shell")
    assert took < 1 + GRACE


def test_headers_over_the_cap_in_two_pieces_are_too_large_both_ways() -> None:
    seen = both(huge_headers_in_two)
    assert all(text.startswith("the endpoint") and "too large" in text for text, _ in seen.values()), seen


def test_an_answer_before_the_request_is_whole_is_the_same_sentence_both_ways() -> None:
    seen = both(answer_before_request)
    assert seen["blocking"][0] == seen["event loop"][0], seen


def test_hosts_beyond_the_worker_count_wait_their_turn_and_none_is_overdue() -> None:
    with Hostile(silent) as server:
        jobs = [job(server.port, name=f"gp-sh{i:02}", deadline=2) for i in range(8)]
        start = time.monotonic()
        found = collect_hosts(jobs, max_workers=2)
        took = time.monotonic() - start
        peak = server.most_within(0.5)  # each host holds its connection for its 1 s connect timeout
    assert {_cause(o) for o in found.values()} == {
        sentences.silent_host(_spec(server.port, deadline=2), "opening a shell")
    }
    assert peak <= 2
    assert took < 4 * 1 + GRACE  # four rounds of a one-second connect timeout


def test_a_slow_name_lookup_on_the_loop_ends_at_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop's lookup waits in gpverify's own threads, bounded by connect_timeout."""
    _slow_lookups(monkeypatch, 4.0)
    start = time.monotonic()
    found = collect_hosts([CollectJob(host(5985, address="slow-name.invalid"), {}, PASSWORD)])
    took = time.monotonic() - start
    assert _cause(found["gp-sh01"]) == sentences.no_connection(_spec(), "opening a shell")
    assert took < 1 + GRACE - 1


def _slow_lookups(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """A resolver that takes `seconds` for any name (an address resolves at once), as a DNS server that does
    not answer makes getaddrinfo wait."""
    real = socket.getaddrinfo

    def slow(host: Any, *args: Any, **kwargs: Any) -> Any:
        numeric = kwargs.get("flags", 0) & socket.AI_NUMERICHOST
        if isinstance(host, str) and host.endswith(".invalid") and not numeric:
            time.sleep(seconds)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow)


@pytest.mark.parametrize(
    "serve",
    [trickle_head, endless_chunked, silent, half_close, reset_mid_body, close_at_once, answer_before_request],
)
def test_nothing_escapes_the_loop_and_no_socket_is_left_open(
    serve: Serve, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    with nothing_escapes(caplog, capfd), Hostile(serve) as server:
        found = collect_hosts([job(server.port, name=f"gp-sh{i:02}") for i in range(3)], max_workers=2)
    assert all(isinstance(o, FactsUnavailable) for o in found.values())


def test_no_secret_in_any_sentence_log_or_warning(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    secrets = [PASSWORD, *ntlm_secret(PASSWORD).split(":")]
    texts: list[str] = []
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for serve in (trickle_head, half_close, reset_mid_body, two_answers, interim_then_answer):
            for driver, (text, _) in both(serve, deadline=2).items():
                texts.append(f"{driver}: {text}")
    texts += [r.getMessage() for r in caplog.records] + [str(w.message) for w in seen]
    out = capfd.readouterr()
    texts += [out.out, out.err]
    assert not [t for t in texts for s in secrets if s.lower() in t.lower()]


def test_ctrl_c_ends_a_collection_on_the_loop_promptly_and_quietly(tmp_path: Path) -> None:
    """SIGINT while hosts wait on the loop: KeyboardInterrupt at once, no asyncio noise, no hang on threads."""
    with Hostile(silent) as server:
        script = textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
            from helpers.wsman import spec
            from gpverify.facts.collect import CollectJob, HostOutcome, collect_hosts
            jobs = [CollectJob(spec({server.port}, name=f"gp-sh{{i:02}}", connect_timeout=60, read_timeout=60,
                    operation_timeout=5, deadline=120), {{}}, "pw") for i in range(4)]
            print("ready", flush=True)
            try:
                collect_hosts(jobs, max_workers=2)
            except KeyboardInterrupt:
                print("interrupted", flush=True)
            """
        )
        child = subprocess.Popen(
            [sys.executable, "-W", "always", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        child.send_signal(signal.SIGINT)
        start = time.monotonic()
        try:
            out, err = child.communicate(timeout=20)
        finally:
            child.kill()
        took = time.monotonic() - start
    assert "interrupted" in out, (out, err)
    assert took < GRACE
    assert not err.strip(), err


# ---- found and fixed


def test_headers_over_the_cap_at_once_are_too_large_both_ways() -> None:
    seen = both(huge_headers_at_once)
    assert all(text.startswith("the endpoint") and "too large" in text for text, _ in seen.values()), seen


def test_an_interim_1xx_is_skipped_both_ways() -> None:
    seen = both(interim_then_answer)
    assert {text for text, _ in seen.values()} == {sentences.http_status(500, "opening a shell")}, seen


def test_an_unasked_second_answer_is_not_read_as_the_next_ones() -> None:
    seen = both(two_answers)
    assert all("without asking for authentication" not in text for text, _ in seen.values()), seen


def test_a_slow_name_lookup_blocking_ends_at_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    _slow_lookups(monkeypatch, 4.0)
    text, took = outcome("blocking", CollectJob(host(5985, address="slow-name.invalid"), {}, PASSWORD))
    assert took < 1 + GRACE - 1, (text, took)


def tls_silent_after_handshake(conn: socket.socket, stop: threading.Event) -> None:
    read_head(conn, stop)
    idle(conn, stop)


def _tls() -> ssl.SSLContext:
    return server_context(*make_self_signed(["127.0.0.1"]))


HTTPS_DRIVERS = ["blocking", "event loop"]


def _through(driver: str, the_job: CollectJob) -> HostOutcome:
    try:
        return COLLECTORS[driver](the_job)
    except FactsUnavailable as exc:
        return exc


@pytest.mark.parametrize("driver", HTTPS_DRIVERS)
def test_a_silent_https_listener_leaves_no_socket_and_no_warning(
    driver: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    with nothing_escapes(caplog, capfd), Hostile(tls_silent_after_handshake, _tls()) as server:
        found = _through(driver, job(server.port, scheme="https", cert_validation=False))
        port = server.port
    assert _cause(found) == sentences.silent_host(_spec(port, scheme="https"), "opening a shell")


@pytest.mark.parametrize("driver", DRIVERS)
def test_a_stalled_tls_handshake_leaves_no_socket_and_no_warning(
    driver: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    with nothing_escapes(caplog, capfd), Hostile(silent) as server:
        found = _through(driver, job(server.port, scheme="https", cert_validation=False))
    assert _cause(found) == sentences.no_connection(_spec(), "opening a shell")


@pytest.mark.parametrize("driver", HTTPS_DRIVERS)
def test_a_healthy_https_host_leaves_no_socket_open(
    driver: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The lab's own HTTPS listener, the whole collection: no connection to it left open when the collection
    returns, no warning later (the lab's own sockets are not counted)."""
    farm = build_farm("html", "upgraded")
    ca = make_ca()
    (tmp_path / "ca.pem").write_bytes(ca.cert_pem)
    server = listener(farm, tls=server_context(*issue(ca, ["localhost"])))
    try:
        the_job = lab_job(
            farm, spec(server.port, address="localhost", scheme="https", ca_bundle=str(tmp_path / "ca.pem"))
        )
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            found = _through(driver, CollectJob(the_job.spec, the_job.request, LAB_PASSWORD))
            time.sleep(0.2)
            still_open = _sockets_to(server.port)
            gc.collect()
    finally:
        server.stop()
    assert not isinstance(found, FactsUnavailable), found
    assert not still_open, still_open
    assert not [str(w.message) for w in seen]


def _sockets_to(port: int) -> list[str]:
    """This process's sockets connected to 127.0.0.1:`port` (the client's side only), from /proc/net/tcp."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            found.append(target)
    return found


def late_error(conn: socket.socket, stop: threading.Event) -> None:
    """A whole answer (HTTP 500) half a second after the request: well within any timeout."""
    read_request(conn, stop)
    if not stop.wait(0.5):
        conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
    idle(conn, stop)


def test_a_blocking_progress_callback_does_not_fail_other_hosts() -> None:
    with Hostile(close_at_once) as quick, Hostile(late_error) as late:
        jobs = [job(quick.port, name="gp-ws01"), job(late.port, name="gp-sh01")]

        def slow_display(name: str, outcome: HostOutcome) -> None:
            if name == "gp-ws01":
                time.sleep(2.5)

        found = collect_hosts(jobs, on_done=slow_display)
    assert _cause(found["gp-sh01"]) == sentences.http_status(500, "opening a shell"), found


def test_a_hung_name_lookup_does_not_hold_up_the_process_exit() -> None:
    """A run that used the loop's resolver threads ends (the process exits) when its hosts have ended, not when
    a hung lookup returns."""
    script = textwrap.dedent(
        f"""
        import socket, sys, time
        sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        real = socket.getaddrinfo
        def slow(host, *args, **kwargs):
            if host.endswith(".invalid") and not kwargs.get("flags", 0) & socket.AI_NUMERICHOST:
                time.sleep(12)
            return real(host, *args, **kwargs)
        socket.getaddrinfo = slow
        from helpers.wsman import spec
        from gpverify.facts.collect import CollectJob, collect_hosts
        found = collect_hosts([CollectJob(spec(5985, address="hung.invalid", connect_timeout=1, read_timeout=2,
                operation_timeout=1, deadline=3), {{}}, "pw")])
        print("collected", time.monotonic(), flush=True)
        """
    )
    start = time.monotonic()
    child = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=60)
    took = time.monotonic() - start
    assert "collected" in child.stdout, child.stderr
    assert took < 12, f"the process took {took:.1f} s to exit: it waited for the hung lookup's thread"


def plain_http_on_the_tls_port(conn: socket.socket, stop: threading.Event) -> None:
    """An HTTP listener where HTTPS was expected: the client's hello is answered with an HTTP error."""
    try:
        conn.recv(65536)
    except TimeoutError:
        pass
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    idle(conn, stop)


def test_http_where_https_was_expected_is_the_same_tls_sentence_both_ways() -> None:
    seen = both(plain_http_on_the_tls_port, scheme="https", cert_validation=False)
    assert seen["blocking"][0] == seen["event loop"][0], seen
    assert all(took < 1 + GRACE for _, took in seen.values()), seen


def test_many_trickling_hosts_on_few_workers_each_end_at_their_own_deadline() -> None:
    """16 hosts trickling their heads, 4 at once: every one ends with its own deadline's sentence (none is cut by
    the run's bound as overdue), the run within four rounds of the deadline."""
    winrm = {"connect_timeout": 1, "read_timeout": 1.2, "operation_timeout": 1, "deadline": 1.5}
    with Hostile(trickle_head) as server:
        jobs = [job(server.port, name=f"gp-sh{i:02}", **winrm) for i in range(16)]
        start = time.monotonic()
        found = collect_hosts(jobs, max_workers=4)
        took = time.monotonic() - start
        peak = server.most_within(0.5)
    assert {_cause(o) for o in found.values()} == {sentences.deadline(_spec(**winrm), "opening a shell")}
    assert peak <= 4
    assert took < 4 * 1.5 + GRACE


def test_a_lookup_abandoned_at_connect_timeout_leaves_no_log_or_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """The lookup's thread finishes (with an error) after its host was given up: nothing is logged or warned."""
    _slow_lookups(monkeypatch, 1.5)
    with nothing_escapes(caplog, capfd):
        found = collect_hosts([CollectJob(host(5985, address="slow-name.invalid"), {}, PASSWORD)])
        time.sleep(1.0)  # the lookup ends, its error goes to a future nobody waits for
    assert _cause(found["gp-sh01"]) == sentences.no_connection(_spec(), "opening a shell")


def test_ctrl_c_ends_a_collection_started_inside_a_running_loop() -> None:
    with Hostile(silent) as server:
        script = textwrap.dedent(
            f"""
            import asyncio, sys
            sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
            from helpers.wsman import spec
            from gpverify.facts.collect import CollectJob, collect_hosts
            jobs = [CollectJob(spec({server.port}, name=f"gp-sh{{i:02}}", connect_timeout=30, read_timeout=60,
                    operation_timeout=5, deadline=120), {{}}, "pw") for i in range(2)]
            async def main():
                print("ready", flush=True)
                collect_hosts(jobs)
            try:
                asyncio.run(main())
            except (KeyboardInterrupt, asyncio.CancelledError):
                print("interrupted", flush=True)
            """
        )
        child = subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        child.send_signal(signal.SIGINT)
        start = time.monotonic()
        try:
            child.communicate(timeout=6)
        except subprocess.TimeoutExpired:
            pass
        finally:
            child.kill()
            child.communicate()
        took = time.monotonic() - start
    assert took < GRACE, f"{took:.1f} s after Ctrl-C"
