"""HTTPS stand-ins on loopback: the web server's IIS site (web client, console, GP Service help) and each session
host's runtime service (clientaccesspolicy.xml)."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from gpverify.lab.models import FakeWebSite
from gpverify.lab.wsman.tls import CertificateAuthority, issue, server_context

# A Silverlight cross-domain policy allowing every caller, the shape such files have.
POLICY = (
    b'<?xml version="1.0" encoding="utf-8"?><access-policy><cross-domain-access><policy>'
    b'<allow-from http-request-headers="*"><domain uri="*"/></allow-from>'
    b'<grant-to><resource path="/" include-subpaths="true"/></grant-to></policy></cross-domain-access>'
    b"</access-policy>"
)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:
        path = unquote(self.path.split("?")[0]).rstrip("/")
        self.server.hits[path] += 1
        found = any(path.lower() == p.lower() for p in self.server.site.paths)
        xml = path.lower().endswith(".xml")
        body = (POLICY if xml else b"<html><title>Microsoft Dynamics GP</title></html>") if found else b"Not Found"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/xml" if found and xml else "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class WebSiteServer:
    """Serves FakeWebSite over TLS with a certificate from the lab CA (valid, expired, or for other names)."""

    def __init__(self, site: FakeWebSite, ca: CertificateAuthority, name: str = "gpverify-lab-web") -> None:
        now = dt.datetime.now(dt.UTC)
        not_after = now + dt.timedelta(days=site.cert_days_left)
        cert, key = issue(
            ca, site.cert_names, not_before=min(now, not_after) - dt.timedelta(days=30), not_after=not_after
        )
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.site = site  # type: ignore[attr-defined]
        self.hits: Counter[str] = Counter()  # GETs per path: tests see each URL probed once per run
        self._httpd.hits = self.hits  # type: ignore[attr-defined]
        self._httpd.socket = server_context(cert, key).wrap_socket(self._httpd.socket, server_side=True)
        # serve_forever polls for shutdown every poll_interval (0.5 s by default): stop() waits for that poll, so
        # a short one, as the WS-Man stand-ins use, keeps a lab's stop from costing half a second per site.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        _wake(self._httpd)
        self._httpd.shutdown()
        self._httpd.server_close()


def _wake(httpd: Any) -> None:
    """Make a serve_forever loop see shutdown() now, not at its next poll: a listening socket shut down is
    readable at once (Linux), and the loop checks for shutdown before it accepts. Elsewhere, the poll."""
    with contextlib.suppress(OSError):
        httpd.socket.shutdown(socket.SHUT_RDWR)
