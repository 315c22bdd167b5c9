"""One lab WinRM listener and a host spec pointing at it, for tests of the transport itself."""

from __future__ import annotations

import ssl
from typing import Any

from gpverify.config.inventory import HostSpec, WinRMSettings
from gpverify.errors import FactsUnavailable
from gpverify.facts.collect import CollectJob, collect_host, collect_hosts
from gpverify.facts.windows import HostFacts, build_request
from gpverify.lab.host import LabHost
from gpverify.lab.wsman import AuthConfig, WsmanServer
from gpverify.lab.wsman.hostfaults import fault_for

PASSWORD = "Transport-Test-Pw1"


def listener(
    farm: Any, scheme: str = "ntlm", *, tls: ssl.SSLContext | None = None, fault: str | None = None
) -> WsmanServer:
    """A started listener emulating the farm's gp-sh01 for LAB\\gpadmin (stop it when done)."""
    auth = AuthConfig(scheme=scheme, username="gpadmin", password=PASSWORD, domain="LAB")  # type: ignore[arg-type]
    server = WsmanServer(LabHost(farm.host("gp-sh01")), auth, tls=tls, idle_timeout=60)
    server.fault = fault_for(fault)
    server.start()
    return server


def spec(port: int, name: str = "gp-sh01", address: str = "127.0.0.1", **winrm: object) -> HostSpec:
    """A session host at the listener's port: NTLM over HTTP with message encryption, short timeouts."""
    settings = WinRMSettings(
        **{
            "scheme": "http",
            "port": port,
            "transport": "ntlm",
            "user": "LAB\\gpadmin",
            "read_timeout": 10,
            "operation_timeout": 5,
            "message_encryption": "auto",
            "cert_validation": True,
            **winrm,
        }
    )
    return HostSpec(name, "session_host", address, settings)


def job(farm: Any, host: HostSpec, password: str = PASSWORD) -> CollectJob:
    """The session host's collector request for this host."""
    return CollectJob(host, build_request("session_host", farm.target), password)


def on_the_loop(job: CollectJob) -> HostFacts:
    """The host's facts as collect_hosts gathers them, on its event loop; its error raised as collect_host does."""
    outcome = collect_hosts([job])[job.spec.name]
    if isinstance(outcome, FactsUnavailable):
        raise outcome
    return outcome


COLLECTORS = {"blocking": collect_host, "event loop": on_the_loop}  # the lean client's two drivers
