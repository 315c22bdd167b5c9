"""Hostile WinRM endpoints (issue 14): one odd endpoint costs only its own host, every host ends within its
deadline, bodies are capped, timed-out Receives are paced, and NTLM tokens never reach a log."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hardening_support import FIGURES, hardening_figures  # noqa: F401

from gpverify.audit.drift import fact_drift, snapshot
from gpverify.config.inventory import HostSpec, WinRMSettings
from gpverify.errors import FactsUnavailable
from gpverify.facts.collect import DEADLINE_GRACE
from gpverify.facts.farm import open_farm
from gpverify.lab.models import HOST_FAULTS
from gpverify.lab.runtime import DEADLINE, temporary_lab
from gpverify.lab.wsman.hostfaults import HOST_FAULTS as FAULT_CLASSES
from gpverify.transport.base import RECEIVE_RETRIES
from gpverify.transport.bounded import MAX_RESPONSE_BYTES
from gpverify.transport.winrm import WinRMTransport

# fault scenario -> what gp-sh02's error sentence says
HOSTILE = {
    "fault-http-200-html": "with a web page (text/html)",
    "fault-bad-negotiate": "not NTLM/Negotiate",
    "fault-huge-body": "too large for WS-Management",
    "fault-trickle": f"within its deadline of {DEADLINE:g} s",
}
_HEALTHY: dict[str, Any] = {}


def _collect(scenario: str) -> tuple[dict[str, Any], float, Any]:
    with temporary_lab(scenario) as lab:
        farm = open_farm(lab.inventory_path)
        started = time.monotonic()
        farm.collect(list(farm.specs))
        elapsed = time.monotonic() - started
        receives = {
            name: sum(1 for r in server.requests if r.action == "Receive") for name, server in lab.servers.items()
        }
        return farm.collected(), elapsed, receives


def test_every_host_fault_is_a_registered_class() -> None:
    assert set(FAULT_CLASSES) == set(HOST_FAULTS)
    assert all(cls.description and cls.__doc__ for cls in FAULT_CLASSES.values())


@pytest.mark.parametrize("scenario", sorted(HOSTILE))
def test_a_hostile_endpoint_costs_only_its_host_and_ends_within_the_deadline(scenario: str) -> None:
    if not _HEALTHY:
        _HEALTHY.update(_collect("healthy")[0])
    results, elapsed, _ = _collect(scenario)
    error = results["gp-sh02"]
    assert isinstance(error, FactsUnavailable) and HOSTILE[scenario] in error.cause, error
    assert "Traceback" not in error.cause and "object has no attribute" not in error.cause
    others = {name: facts for name, facts in results.items() if name != "gp-sh02"}
    healthy = {name: facts for name, facts in _HEALTHY.items() if name != "gp-sh02"}
    # Compared as the audit compares facts: process start times and what Session Central reports at the moment of
    # reading differ between any two labs (gpverify.audit.drift).
    assert fact_drift(snapshot(others), snapshot(healthy)) == []
    assert elapsed < DEADLINE + DEADLINE_GRACE, elapsed  # a hang detector: the trickle stops at the deadline
    FIGURES["hostile endpoint faults survived"] += 1


def test_timed_out_receives_are_paced_and_capped() -> None:
    results, _, receives = _collect("fault-operation-timeout")
    assert "did not finish" in results["gp-sh02"].cause
    # Every Receive is answered w:TimedOut at once; paced, 4 s of read_timeout hold a few dozen, never thousands.
    assert 2 <= receives["gp-sh02"] <= RECEIVE_RETRIES, receives


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(timeout=2)
    for conn in accepted:
        conn.close()
    server.close()


def _spec(port: int, **winrm: Any) -> HostSpec:
    settings = WinRMSettings(
        scheme="http",
        port=port,
        transport="ntlm",
        user="LAB\\gpadmin",
        message_encryption="auto",
        read_timeout=30,
        operation_timeout=20,
        connect_timeout=1,
        deadline=60,
        **winrm,
    )
    return HostSpec("gp-odd01", "session_host", "127.0.0.1", settings)


def test_a_host_that_accepts_and_never_answers_ends_within_the_connect_timeout(silent_listener: int) -> None:
    started = time.monotonic()
    with pytest.raises(FactsUnavailable) as exc, WinRMTransport(_spec(silent_listener), "pw") as shell:
        shell.run("hostname", [])
    assert "accepted the connection but sent no answer within 1 s" in exc.value.cause
    assert time.monotonic() - started < 15  # read_timeout is 30 s: the connect timeout ended it


@pytest.fixture
def chunked_flood() -> Iterator[int]:
    """An HTTP server answering every request with an endless chunked body (no Content-Length to refuse early)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunk = b"%x\r\n%s\r\n" % (1 << 20, b" " * (1 << 20))
            try:
                for _ in range(4 * MAX_RESPONSE_BYTES >> 20):
                    conn.sendall(chunk)
            except OSError:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    server.close()
    thread.join(timeout=5)


def test_a_body_without_a_length_is_cut_at_the_cap(chunked_flood: int) -> None:
    with pytest.raises(FactsUnavailable) as exc, WinRMTransport(_spec(chunked_flood), "pw") as shell:
        shell.run("hostname", [])
    assert f"larger than {MAX_RESPONSE_BYTES:,} bytes" in exc.value.cause, exc.value.cause


def test_ntlm_messages_never_reach_a_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with temporary_lab("healthy") as lab:
        farm = open_farm(lab.inventory_path)
        farm.collect(["gp-sh01"])
        assert not isinstance(farm.collected()["gp-sh01"], FactsUnavailable)
        assert any(r.auth == "ntlm" for r in lab.servers["gp-sh01"].requests)
    assert logging.getLogger("spnego._ntlm").isEnabledFor(logging.DEBUG)  # the tokens would have been logged
    # "TlRMTVNT" is base64 of "NTLMSS", the start of every NTLM negotiate, challenge and authenticate message.
    assert "TlRMTVNT" not in caplog.text and "step input" not in caplog.text
    assert caplog.records  # the log was on, and other records kept
