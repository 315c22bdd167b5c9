"""transport/http11.py's ResponseParser: the same answers however the bytes are cut, and one WireError per way
an answer cannot be one."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpverify.transport.http11 import (
    MAX_HEADER_BYTES,
    MAX_RESPONSE_BYTES,
    ConnectionFailed,
    Response,
    ResponseParser,
    TooLarge,
    WebPage,
)

LENGTH = b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = (
    b"HTTP/1.1 500 Err\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n"
    b"3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n"
)
CHALLENGE = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate TlRMTVNTUAAC\r\nContent-Length: 0\r\n\r\n"
TO_CLOSE = b"HTTP/1.1 200 OK\r\n\r\nto the end"
STREAM = LENGTH + CHUNKED + CHALLENGE + TO_CLOSE
EXPECTED = [
    Response(200, {"content-type": "application/soap+xml", "content-length": "5"}, b"hello"),
    Response(500, {"transfer-encoding": "chunked", "x-a": "1, 2"}, b"abcde"),
    Response(401, {"www-authenticate": "Negotiate TlRMTVNTUAAC", "content-length": "0"}, b""),
    Response(200, {}, b"to the end"),
]


def _read(pieces: list[bytes]) -> list[Response]:
    parser, answers = ResponseParser(), []
    for piece in [*pieces, b""]:  # b"": the listener closes the connection
        parser.feed(piece)
        while (answer := parser.take()) is not None:
            answers.append(answer)
            if parser.eof:
                return answers
    return answers


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=40))
def test_the_same_answers_however_the_bytes_are_cut(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(STREAM)]
    pieces = [STREAM[a:b] for a, b in itertools.pairwise(points)]
    assert _read([p for p in pieces if p]) == EXPECTED  # a socket gives b"" only when the listener closes


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", ConnectionFailed, "not an HTTP answer"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", ConnectionFailed, "closed the connection"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", ConnectionFailed, "negative"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", ConnectionFailed, "not an HTTP length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ConnectionFailed, "not an HTTP length"),
        (f"HTTP/1.1 200 OK\r\nContent-Length: {MAX_RESPONSE_BYTES + 1}\r\n\r\n".encode(), TooLarge, "declared"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * (MAX_HEADER_BYTES + 1), TooLarge, "headers over"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * (MAX_HEADER_BYTES + 1), TooLarge, "chunk"),
        (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n", WebPage, "web page"),
        (b"", ConnectionFailed, "closed the connection without an answer"),
    ],
)
def test_what_cannot_be_an_answer(data: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        _read([data])


def test_an_endless_chunked_answer_stops_at_the_cap() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n" % (1024 * 1024) + b"x" * (1024 * 1024) + b"\r\n"
    with pytest.raises(TooLarge, match="larger than"):
        for _ in range(MAX_RESPONSE_BYTES // len(chunk) + 2):
            parser.feed(chunk)
            assert parser.take() is None
