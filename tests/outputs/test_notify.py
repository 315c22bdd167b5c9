"""Notifications through apprise: URLs (they hold tokens) from the environment or the keyring, never argv."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from gpverify.audit.notify import NOTIFY_ENV, notify
from gpverify.cli.main import main

PAYLOAD = {"run": 7, "farm": "Contoso GP", "status": "failed", "previous_status": "passed", "report": "r.html",
           "newly_failing": [{"check": "GP-POST-002", "name": "GP-POST-002 gp-sh02", "title": "The Session Service runs"}],
           "fixed": [],
           "still_failing": []}


@pytest.fixture
def sink() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server on loopback that keeps every JSON body posted to it; stopped after the test."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"json://127.0.0.1:{server.server_port}/hook-token-s3cret", received
    server.shutdown()
    server.server_close()


def test_apprise_sends_the_change_and_names_the_channel_without_its_token(sink) -> None:  # type: ignore[no-untyped-def]
    url, received = sink
    lines = notify(PAYLOAD, webhook=None, smtp=None, to=None, urls=[url])
    assert lines == ["json://...: sent"]
    assert len(received) == 1
    assert "gpverify audit #7 FAILED on Contoso GP" in received[0]["title"]
    assert "GP-POST-002" in received[0]["message"]


def test_a_url_apprise_does_not_know_is_reported_not_raised() -> None:
    assert notify(PAYLOAD, webhook=None, smtp=None, to=None, urls=["nosuch://x/y"]) == [
        "nosuch://...: NOT sent: not a notification URL apprise knows"]


def test_notify_without_urls_in_environment_or_keyring_is_bad_input(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(NOTIFY_ENV, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    assert main(["audit", "--lab", "--notify", "--reports", str(tmp_path)]) == 3
    assert NOTIFY_ENV in capsys.readouterr().err
