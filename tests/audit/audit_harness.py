"""Audit test harness (not a conftest, so the suite's `from conftest import ...` keeps working): labs started
in-process (so their received commands can be inspected), audits run in-process with run_audit, and local
notification sinks (HTTP and SMTP) on 127.0.0.1."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from _pytest.pytester import SysModulesSnapshot, SysPathsSnapshot

from gpverify.audit.runner import AuditOptions, AuditRun, run_audit
from gpverify.lab.runtime import RunningLab, start_lab

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"


def audit(reports: Path, inventory: str | Path | None = None, **kw: Any) -> AuditRun:
    """One audit, in this process, of the post and clients checks; pytest's own state is restored afterwards."""
    kw.setdefault("checks", CHECKS)
    opts = AuditOptions(inventory=str(inventory) if inventory else None, reports=reports, **kw)
    modules, paths = SysModulesSnapshot(), SysPathsSnapshot()
    try:
        return run_audit(opts)
    finally:
        modules.restore()
        paths.restore()


class Labs:
    """Start labs on demand; all are stopped at the end of the test (or module)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.running: list[RunningLab] = []

    def start(self, scenario: str | Path) -> RunningLab:
        lab = start_lab(str(scenario), self.root / f"lab{len(self.running)}")
        self.running.append(lab)
        return lab

    def stop(self) -> None:
        for lab in self.running:
            lab.stop()


@pytest.fixture(name="labs")
def labs_fixture(tmp_path: Path) -> Iterator[Labs]:
    started = Labs(tmp_path / "labs")
    yield started
    started.stop()


def received_kinds(lab: RunningLab) -> set[str]:
    return {c.kind for host in lab.hosts.values() for c in host.received}


def load_json(result: AuditRun) -> dict[str, Any]:
    return json.loads(Path(result.reports["json"]).read_text())


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The audit JSON's results by the name every output gives them ("GP-POST-002 gp-sh02")."""
    return {r["name"]: r for r in document["results"]}


# --- notification sinks ----------------------------------------------------------------------------------


class HttpSink:
    """A real HTTP server on loopback keeping every JSON body POSTed to it, and the path and query it came to."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        paths: list[str] = []
        self.received, self.paths = received, paths

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body))
                paths.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """Just enough SMTP (RFC 5321) to accept messages from smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, QUIT."""

    def __init__(self) -> None:
        messages: list[dict[str, Any]] = []
        self.messages = messages

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 sink ESMTP")
                envelope: dict[str, Any] = {"to": []}
                while line := self.rfile.readline():
                    verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 sink")
                    elif verb == "MAIL":
                        envelope = {"from": line.decode().strip()[10:], "to": []}
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        envelope["to"].append(line.decode().strip()[8:])
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with .")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        messages.append({**envelope, "data": b"".join(data).decode(errors="replace")})
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(name="http_sink")
def http_sink_fixture() -> Iterator[HttpSink]:
    sink = HttpSink()
    yield sink
    sink.stop()


@pytest.fixture(name="smtp_sink")
def smtp_sink_fixture() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    yield sink
    sink.stop()


AuditFn = Callable[..., AuditRun]
