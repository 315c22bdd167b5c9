"""The web server's IIS site stand-in: HTTPS on loopback, answering the web client and console paths."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gpverify.lab.models import FakeWebSite
from gpverify.lab.wsman.tls import CertificateAuthority, issue, server_context


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        found = any(path.lower() == p.lower() for p in self.server.site.paths)
        body = b"<html><title>Microsoft Dynamics GP</title></html>" if found else b"Not Found"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class WebSiteServer:
    """Serves FakeWebSite over TLS with a certificate from the lab CA (valid, expired, or for other names)."""

    def __init__(self, site: FakeWebSite, ca: CertificateAuthority) -> None:
        now = dt.datetime.now(dt.UTC)
        not_after = now + dt.timedelta(days=site.cert_days_left)
        cert, key = issue(ca, site.cert_names, not_before=min(now, not_after) - dt.timedelta(days=30), not_after=not_after)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.site = site  # type: ignore[attr-defined]
        self._httpd.socket = server_context(cert, key).wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="gpverify-lab-web", daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
