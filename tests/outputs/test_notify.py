"""Notifications only through apprise: URLs (they hold tokens) from the environment or the keyring, never argv;
--notify-webhook and --notify-smtp turned into apprise's json:// and mailto:// URLs."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

import gpverify.audit
from gpverify.audit.notify import NOTIFY_ENV, notify
from gpverify.cli.main import main

PAYLOAD = {
    "run": 7,
    "farm": "Contoso GP",
    "status": "failed",
    "previous_status": "passed",
    "report": "r.html",
    "newly_failing": [{"check": "GP-POST-002", "name": "GP-POST-002 gp-sh02", "title": "The Session Service runs"}],
    "fixed": [],
    "still_failing": [],
}


SRC_AUDIT = Path(gpverify.audit.__file__).parent


@pytest.fixture
def sink() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server on loopback that keeps every JSON body posted to it (and, as "_path", where it was posted)."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            received[-1]["_path"] = self.path
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
        "nosuch://...: NOT sent: not a notification URL apprise knows"
    ]


def test_notify_without_urls_in_environment_or_keyring_is_bad_input(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(NOTIFY_ENV, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    assert main(["audit", "--lab", "--notify", "--reports", str(tmp_path)]) == 3
    assert NOTIFY_ENV in capsys.readouterr().err


def _attached(body: dict[str, Any]) -> Any:
    [attached] = body["attachments"]
    assert attached["filename"] == "gpverify-audit.json" and attached["mimetype"] == "application/json"
    return json.loads(base64.b64decode(attached["base64"]))


def test_webhook_goes_through_apprise_json_with_its_path_and_query_and_the_change_attached(sink) -> None:  # type: ignore[no-untyped-def]
    url, received = sink
    webhook = url.replace("json://", "http://") + "?sp=%2Ftriggers&sig=s3cret-sig"
    assert notify(PAYLOAD, webhook=webhook, smtp=None, to=None) == ["webhook: sent to http://127.0.0.1/..."]
    [body] = received
    assert body["_path"] == "/hook-token-s3cret?sp=%2Ftriggers&sig=s3cret-sig"
    assert body["type"] == "failure" and body["title"].startswith("gpverify audit #7 FAILED")
    assert "GP-POST-002 gp-sh02: The Session Service runs" in body["message"]
    assert _attached(body) == PAYLOAD


def test_a_passed_audit_is_sent_as_apprise_success(sink) -> None:  # type: ignore[no-untyped-def]
    url, received = sink
    assert notify(
        {**PAYLOAD, "status": "passed", "newly_failing": []}, webhook=None, smtp=None, to=None, urls=[url]
    ) == ["json://...: sent"]
    assert received[0]["type"] == "success"


def test_unreachable_channels_say_why_without_their_tokens() -> None:
    lines = notify(
        PAYLOAD,
        webhook="https://127.0.0.1:9/hook-token-s3cret?sig=sig-s3cret",
        smtp="127.0.0.1:9",
        to="ops@example.com",
        urls=["json://127.0.0.1:9/apprise-token-s3cret", "jsons://user:pw-s3cret@x"],
    )
    assert len(lines) == 4 and all("NOT sent" in line for line in lines)
    assert not any("s3cret" in line for line in lines)
    assert lines[2].startswith("webhook: NOT sent to https://127.0.0.1/...: ")
    assert lines[3].startswith("email: NOT sent to ops@example.com through 127.0.0.1:9: ")


def test_a_webhook_that_is_not_http_is_reported_not_raised() -> None:
    assert notify(PAYLOAD, webhook="ftp://files.example.com/drop", smtp=None, to=None) == [
        "webhook: NOT sent to ftp://files.example.com/...: not an http:// or https:// URL"
    ]


def test_nothing_in_the_audit_sends_by_hand() -> None:
    """Every notification goes through apprise: no smtplib and no requests.post left in gpverify.audit."""
    sources = {path.name: path.read_text(encoding="utf-8") for path in SRC_AUDIT.rglob("*.py")}
    assert "notify.py" in sources
    assert not {name for name, text in sources.items() if re.search(r"\bsmtplib\b|requests\.post\b", text)}
