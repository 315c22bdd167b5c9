"""Start and stop a simulated lab: WS-Man stand-ins, SQLite databases, the web site, and its inventory."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gpverify.errors import ConfigError
from gpverify.lab import sql as labsql
from gpverify.lab.host import LabHost, ReceivedCommand
from gpverify.lab.models import (
    LAB_DOMAIN,
    LAB_USER,
    LAB_WEB_CLIENT_LOGIN,
    FakeFarm,
    FakeHost,
    add_clients,
    session_host_site,
)
from gpverify.lab.password import LAB_PASSWORD_ENV, lab_password
from gpverify.lab.scenario import Scenario, apply_scenario, load_scenario
from gpverify.lab.website import WebSiteServer
from gpverify.lab.wsman import AuthConfig, WsmanServer, fault_for
from gpverify.lab.wsman.hostfaults import closed_port
from gpverify.lab.wsman.tls import make_ca

LAB_FARM_ENV = "GPVERIFY_LAB_FARM"  # the lab inventory's farm name, so several labs can share one history
READ_TIMEOUT, OPERATION_TIMEOUT = 4.0, 2.0  # short, so fault scenarios end quickly
# Every lab host ends within DEADLINE (a trickling host too); a listener that says nothing within CONNECT_TIMEOUT
# counts as unreachable. Both short for the same reason; DEADLINE stays past the slow fault (READ_TIMEOUT + 1).
CONNECT_TIMEOUT, DEADLINE = 2.0, 8.0
ROLE_GROUP = {
    "web_server": "web_server",
    "session_host": "session_hosts",
    "client": "clients",
    "tenant_services": "tenant_services",
}


@dataclass
class RunningLab:
    """A started lab; stop() ends every server it started."""

    farm: FakeFarm
    scenario: Scenario
    workdir: Path
    inventory_path: Path
    servers: dict[str, WsmanServer] = field(default_factory=dict)
    hosts: dict[str, LabHost] = field(default_factory=dict)
    web: WebSiteServer | None = None
    runtimes: dict[str, WebSiteServer] = field(default_factory=dict)  # session host -> its HTTPS runtime service
    ca: Any = None  # the lab CA (CertificateAuthority) that issued the web site's and HTTPS hosts' certificates

    def commands(self, host: str) -> list[ReceivedCommand]:
        return list(self.hosts[host].received) if host in self.hosts else []

    def stop(self) -> None:
        # All at once: each stop waits for its server's next shutdown poll, so one after another adds them up.
        stoppable: list[WsmanServer | WebSiteServer] = [*self.servers.values(), *self.runtimes.values()]
        stoppable += [self.web] if self.web else []
        if stoppable:
            with ThreadPoolExecutor(max_workers=len(stoppable), thread_name_prefix="gpverify-lab-stop") as pool:
                list(pool.map(lambda server: server.stop(), stoppable))  # list(): a failed stop is raised here
        self.servers.clear()
        self.runtimes.clear()
        self.web = None


def _build_sql(farm: FakeFarm, sqldir: Path) -> None:
    sqldir.mkdir(parents=True, exist_ok=True)
    for name, tables in farm.databases.items():
        path = sqldir / f"{name}.sqlite"
        if name in farm.empty_databases:
            labsql.build_empty(path)
        elif name == "tempdb":
            labsql.build_tempdb(path, tables)
        else:
            kind: labsql.Kind = (
                "system"
                if name == farm.system_database
                else "msdb"
                if name == "msdb"
                else "config"
                if name == farm.config_database
                else "session2013"
                if name == farm.source["sql.old_session_database"]
                else "discovery"
                if name == farm.target["sql.tenant_discovery_database"]
                else "company"
            )
            labsql.build_database(path, kind, tables)
    labsql.build_catalog(
        sqldir,
        [n for n in farm.databases if n != "tempdb"],
        farm.database_state,
        farm.server_logins,
        farm.server_properties,
        farm.sql_sessions,
        ("VIEW SERVER STATE",) if farm.view_server_state else (),
    )
    (sqldir / "lab.json").write_text(json.dumps({"fault": farm.sql_fault}))


def _start_host(lab: RunningLab, host: FakeHost, password: str, latency: float, idle: float) -> dict[str, Any]:
    fault = fault_for(host.fault, READ_TIMEOUT)  # lab/wsman/hostfaults.py: one class per host fault
    unlistened = fault.unlistened_entry(host.name)
    if unlistened is not None:
        return unlistened
    entry: dict[str, Any] = {"name": host.name, "address": "127.0.0.1"}
    handler = LabHost(host, read_timeout=READ_TIMEOUT)
    auth = AuthConfig(
        scheme="ntlm", username=LAB_USER, domain=LAB_DOMAIN, password=fault.password(password), require_encryption=True
    )
    tls = fault.tls_context(lab.ca)
    # A host with no fault never blocks: its connections are served by the loop thread (a command's cost is a
    # timer there, WsmanServer._send).
    in_loop = host.fault is None and tls is None
    server = WsmanServer(
        handler, auth, tls=tls, latency=latency + host.latency, idle_timeout=idle, name=host.name, serve_in_loop=in_loop
    )
    server.fault = fault
    fault.configure(server)
    server.start()
    lab.servers[host.name], lab.hosts[host.name] = server, handler
    entry["winrm"] = {"port": server.port, **fault.winrm_settings()}
    if tls is not None:  # HTTPS listener whose certificate the client must reject; the CA bundle is the lab CA
        entry["winrm"].update(scheme="https", ca_bundle=str(lab.workdir / "lab-ca.pem"))
    return entry


def _start_runtime(lab: RunningLab, host: FakeHost, entry: dict[str, Any]) -> None:
    """The session host's runtime service on HTTPS (a lab-CA certificate, like the site's); its URL in the entry.

    Independent of the host's WinRM fault: browsers reach the runtime service, not WinRM. One that is down keeps
    a URL on a port nothing listens on, so connections are refused.
    """
    site = session_host_site(host)
    port = closed_port()
    if not site.down:
        server = WebSiteServer(site, lab.ca, name=f"gpverify-lab-runtime-{host.name}")
        server.start()
        lab.runtimes[host.name], port = server, server.port
    entry["https_url"] = f"https://localhost:{port}"


def _inventory(lab: RunningLab, entries: dict[str, list[dict[str, Any]]], ca_path: Path) -> dict[str, Any]:
    farm = lab.farm
    web = entries["web_server"][0]
    # A site that is down still has its URL: a port nothing listens on, so connections are refused.
    web.update(url=f"https://localhost:{lab.web.port if lab.web else closed_port()}", ca_bundle=str(ca_path))
    inv: dict[str, Any] = {
        "farm": os.environ.get(LAB_FARM_ENV)
        or f"gpverify simulated lab ({farm.era} era, {farm.source.name} to {farm.target.name})",
        "profile": farm.target.name,
        "lab": {"scenario": lab.scenario.name or "overlay", "era": farm.era},
        "sql": {
            "driver": labsql.DRIVER_ALIAS,
            "server": "lab-sql",
            "lab_dir": str(lab.workdir / "sql"),
            "system_database": farm.system_database,
            "config_database": farm.config_database,
            "web_client_login": LAB_WEB_CLIENT_LOGIN,
        },
        "winrm": {
            "scheme": "http",
            "transport": "ntlm",
            "user": f"{LAB_DOMAIN}\\{LAB_USER}",
            "password_env": LAB_PASSWORD_ENV,
            "read_timeout": READ_TIMEOUT,
            "operation_timeout": OPERATION_TIMEOUT,
            "connect_timeout": CONNECT_TIMEOUT,
            "deadline": DEADLINE,
        },
        "web_server": web,
        "session_hosts": entries.get("session_hosts", []),
        "clients": entries.get("clients", []),
        "service_based_architecture": farm.service_based_architecture,
    }
    # A scenario that stands for a farm whose operator has set these (overrides after discover, a target build).
    inv.update(farm.inventory_extra)
    if entries.get("tenant_services"):
        inv["tenant_services"] = entries["tenant_services"][0]
    return inv


def start_lab(
    spec: str | Scenario,
    workdir: Path,
    *,
    latency: float = 0.0,
    idle_timeout: float = 3600.0,
    extra_clients: int = 0,
    command_cost: float = 0.0,
    password: str | None = None,
) -> RunningLab:
    """Build the scenario's farm, start its servers on loopback and write reports-style inventory.yml.

    `password` is the lab accounts' (default: lab_password(), from the environment or made for this process).

    `extra_clients` adds that many healthy client machines (gp-cl003, ...) after the scenario is applied,
    each with its own WS-Man stand-in, for runs at fleet scale (bench/collect.py).
    """
    scenario = load_scenario(spec) if isinstance(spec, str) else spec
    farm = apply_scenario(scenario)
    add_clients(farm, extra_clients)
    for fake in farm.hosts.values():
        fake.command_cost = command_cost
    # Absolute: the inventory names files in it, and relative paths there are read against the inventory's folder.
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    lab = RunningLab(farm, scenario, workdir, workdir / "inventory.yml")
    password = password or lab_password()
    try:
        _build_sql(farm, workdir / "sql")
    except ValueError as exc:  # a scenario's rows that the lab's tables cannot hold
        raise ConfigError(scenario.origin or f"scenario {scenario.name}", "sql", str(exc)) from None
    ca = make_ca()
    ca_path = workdir / "lab-ca.pem"
    ca_path.write_bytes(ca.cert_pem)
    lab.ca = ca
    try:
        if not farm.web_site.down:
            lab.web = WebSiteServer(farm.web_site, ca)
            lab.web.start()
        entries: dict[str, list[dict[str, Any]]] = {}
        for host in farm.hosts.values():
            entry = _start_host(lab, host, password, latency, idle_timeout)
            if host.role == "session_host":
                _start_runtime(lab, host, entry)
            entries.setdefault(ROLE_GROUP[host.role], []).append(entry)
    except BaseException:
        lab.stop()
        raise
    lab.inventory_path.write_text(yaml.safe_dump(_inventory(lab, entries, ca_path), sort_keys=False))
    return lab


@contextmanager
def temporary_lab(spec: str | Scenario, *, prefix: str = "gpverify-lab-", **options: Any) -> Iterator[RunningLab]:
    """A lab in a folder of its own; on leaving (or a failed start) its servers stop and the folder goes."""
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as folder:
        lab = start_lab(spec, Path(folder), **options)
        try:
            yield lab
        finally:
            lab.stop()
