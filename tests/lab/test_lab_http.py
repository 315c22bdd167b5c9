"""The lab listener reads HTTP as http.server did: the first of a repeated header, and Expect: 100-continue."""

from __future__ import annotations

import socket

import pytest

from gpverify.lab.models import build_farm
from helpers.wsman import listener


@pytest.fixture(scope="module")
def port():  # type: ignore[no-untyped-def]
    server = listener(build_farm("html", "upgraded"))
    yield server.port
    server.stop()


def _exchange(port: int, head: bytes, body: bytes = b"", *, wait_continue: bool = False) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head)
        if wait_continue:
            assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(body)
        return sock.recv(65536)


def test_a_repeated_content_length_is_read_as_its_first_value(port: int) -> None:
    # The last one (40) would have the listener wait for 36 bytes that never come.
    head = b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\n"
    answer = _exchange(port, head, b"abcd")
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:80]


def test_expect_100_continue_is_answered_before_the_body(port: int) -> None:
    head = b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
    answer = _exchange(port, head, b"abcd", wait_continue=True)
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:80]
