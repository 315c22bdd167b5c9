"""`gpverify doctor`: a preflight of every target the checks read, one line each, every problem with its fix."""

from __future__ import annotations

import argparse
import socket
import ssl
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from gpverify.cli.commands import HELP
from gpverify.config.inventory import HostSpec
from gpverify.errors import ConfigError, FactsUnavailable, SqlUnavailable
from gpverify.exitcodes import BAD_INPUT, NOT_RUN, PASSED, TABLE
from gpverify.facts.farm import Farm, open_farm

CONNECT_TIMEOUT = 5.0
MIN_POWERSHELL = (5, 1)  # the collector uses Get-CimInstance and [ordered] (Windows PowerShell 5.1)
SQL_RIGHTS_FIX = (
    "grant the login read access (db_datareader) on {system} and each company database, and "
    "SELECT on tempdb..DEX_LOCK and tempdb..DEX_SESSION (KB 850289)"
)


@dataclass
class Probe:
    """One thing tried on a target: what it is, what was found, and the fix when it failed."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass
class Target:
    name: str
    kind: str
    probes: list[Probe] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.probes)

    def lines(self) -> list[str]:
        word = "ok  " if self.ok else "FAIL"
        found = "; ".join(f"{p.name} {p.detail}" for p in self.probes)
        out = [f"{word} {self.name} ({self.kind}): {found}"]
        out += [f"     fix: {p.fix}" for p in self.probes if not p.ok and p.fix]
        return out


def _step(target: Target, name: str, action: Callable[[], str], fix: Callable[[str], str] | str = "") -> bool:
    """Run one probe; record what it found or why it failed. False stops the target's later probes."""
    try:
        target.probes.append(Probe(name, True, action()))
        return True
    except (OSError, FactsUnavailable, ValueError, ImportError) as exc:
        text = str(exc) or type(exc).__name__
        target.probes.append(Probe(name, False, f"FAILED: {text}", fix(text) if callable(fix) else fix))
        return False


def _resolve(address: str, port: int) -> str:
    infos = socket.getaddrinfo(address, port, type=socket.SOCK_STREAM)
    return f"ok ({infos[0][4][0]})"


def _connect(address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=CONNECT_TIMEOUT):
        return f"ok (port {port})"


def _tls(address: str, port: int, server_name: str, *, verify: bool, ca_bundle: str | None) -> str:
    context = ssl.create_default_context(cafile=ca_bundle) if verify else ssl._create_unverified_context()
    with (
        socket.create_connection((address, port), timeout=CONNECT_TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        cert = tls.getpeercert() or {}
    if not cert:
        return "ok (certificate not validated: cert_validation is off)"
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), UTC)
    days = (expires - datetime.now(UTC)).days
    if days < 0:
        raise ValueError(f"the certificate expired on {expires:%Y-%m-%d}")
    return f"ok (valid until {expires:%Y-%m-%d}, {days} days)"


def _tls_fix(name: str, setting: str) -> str:
    return (
        f"install a certificate for {name} issued by a CA this machine trusts (its name must match), or name "
        f"the CA's PEM file in {setting}"
    )


def _powershell(version: str) -> str:
    if not version:
        return "ran (version not reported by the host)"
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if parts < MIN_POWERSHELL:
        raise ValueError(f"PowerShell {version} is older than {'.'.join(map(str, MIN_POWERSHELL))}")
    return f"ok ({version})"


def check_host(farm: Farm, spec: HostSpec) -> Target:
    target = Target(spec.name, spec.role.replace("_", " "))
    if _network_steps(target, spec):
        _winrm_steps(target, farm, spec)
    return target


def _network_steps(target: Target, spec: HostSpec) -> bool:
    """DNS, TCP and (over HTTPS) TLS to the host's WinRM port; False at the first that fails."""
    port = spec.winrm.port or (5986 if spec.winrm.scheme == "https" else 5985)
    where = f"{spec.name} ({spec.address})" if spec.address != spec.name else spec.name
    if not _step(
        target,
        "DNS",
        lambda: _resolve(spec.address, port),
        f"add a DNS record for {spec.name}, or set its address: in the inventory",
    ):
        return False
    if not _step(
        target,
        "TCP",
        lambda: _connect(spec.address, port),
        f"start WinRM on {where} (winrm quickconfig{' -transport:https' if port == 5986 else ''}), "
        f"allow TCP {port} in its firewall, or correct winrm.port / winrm.scheme in the inventory",
    ):
        return False
    return spec.winrm.scheme != "https" or _step(
        target,
        "TLS",
        lambda: _tls(
            spec.address, port, spec.name, verify=bool(spec.winrm.cert_validation), ca_bundle=spec.winrm.ca_bundle
        ),
        _tls_fix(spec.name, "winrm.ca_bundle"),
    )


def _winrm_steps(target: Target, farm: Farm, spec: HostSpec) -> None:
    """A shell and the collector, then what its facts say of PowerShell and the account's rights."""
    facts: list[Any] = []

    def shell() -> str:
        farm.collect([spec.name])
        facts.append(farm.facts(spec.name))  # raises FactsUnavailable with the cause and its hint
        return f"ok ({spec.winrm.user or 'current user'}, {spec.winrm.transport}, shell opened, collector ran)"

    if not _step(
        target,
        "WinRM",
        shell,
        "see the cause above: credentials (winrm.user, password source), the WinRM listener, or winrm.transport",
    ):
        return
    _step(
        target,
        "PowerShell",
        lambda: _powershell(facts[0].ps_version),
        "install Windows Management Framework 5.1 on the host",
    )
    _step(
        target,
        "rights",
        lambda: _host_rights(facts[0]),
        "run gpverify with an account in the host's local Administrators group (the collector reads "
        "services, files, registry and certificate stores)",
    )


def _host_rights(facts: Any) -> str:
    if facts.errors:
        denied = ", ".join(f"{e.section}.{e.key}: {e.message}" for e in facts.errors[:3])
        raise ValueError(f"the collector could not read {denied}")
    return "ok (every section read)"


def check_web_site(farm: Farm) -> Target | None:
    web = farm.inventory.web_server
    url = web.url or f"https://{web.name}"
    parts = urlsplit(url)
    host, port = parts.hostname or web.name, parts.port or (443 if parts.scheme == "https" else 80)
    target = Target(url, "web site")
    if not _step(target, "DNS", lambda: _resolve(host, port), f"add a DNS record for {host} (web_server.url)"):
        return target
    if not _step(
        target,
        "TCP",
        lambda: _connect(host, port),
        f"start the web site in IIS on {web.name} and allow TCP {port} in its firewall",
    ):
        return target
    if parts.scheme == "https":
        _step(
            target,
            "TLS",
            lambda: _tls(host, port, host, verify=True, ca_bundle=web.ca_bundle),
            _tls_fix(host, "web_server.ca_bundle"),
        )
    return target


def check_sql(farm: Farm) -> Target:
    from gpverify.facts.gpsql import GpSql, GpSqlView

    settings = farm.inventory.sql
    target = Target(settings.server, "SQL Server")
    if not _step(
        target,
        "driver",
        lambda: _driver(settings.driver, bool(settings.lab_dir)),
        f"install Microsoft {settings.driver} (https://learn.microsoft.com/sql/connect/odbc/"
        "download-odbc-driver-for-sql-server), or set sql.driver to one listed",
    ):
        return target
    sql = GpSql(settings, farm.profile, farm.sql_password)
    try:
        login_fix = (
            "check sql.authentication, sql.user and the password source; for windows authentication, "
            "run gpverify as a domain account with a login on the server"
        )
        if not _step(
            target,
            "login",
            lambda: f"ok ({settings.system_database} {_database(sql, settings.system_database)})",
            login_fix,
        ):
            return target
        view = GpSqlView(sql, {})
        databases = [settings.config_database]
        if _step(
            target,
            "companies",
            lambda: _companies(view, databases),
            SQL_RIGHTS_FIX.format(system=settings.system_database),
        ):
            for db in databases:
                _step(
                    target,
                    db,
                    _reader(sql, db),
                    f"grant the login read access (db_datareader) on {db}, or correct the name in the inventory",
                )
        _step(target, "rights", lambda: _sql_rights(view), SQL_RIGHTS_FIX.format(system=settings.system_database))
    finally:
        sql.close()
    return target


def _reader(sql: Any, database: str) -> Callable[[], str]:
    return lambda: _database(sql, database)


def _driver(driver: str, lab: bool) -> str:
    if lab:
        return "ok (the lab's SQLite ODBC driver stands in for SQL Server)"
    from gpverify.transport.odbc import load_pyodbc

    installed = load_pyodbc().drivers()
    if driver not in installed:
        raise ValueError(f"{driver} is not installed (installed: {', '.join(installed) or 'none'})")
    return f"ok ({driver})"


def _database(sql: Any, database: str) -> str:
    try:
        sql.connection(database)
    except SqlUnavailable as exc:
        raise ValueError(exc.cause) from None
    return "readable"


def _companies(view: Any, databases: list[str]) -> str:
    try:
        companies = view.companies()
    except SqlUnavailable as exc:
        raise ValueError(exc.cause) from None
    databases += [c.database for c in companies]
    return f"ok ({len(companies)} listed in SY01500)"


def _sql_rights(view: Any) -> str:
    try:
        view.sign_in_activity()
        view.database_versions()
    except SqlUnavailable as exc:
        raise ValueError(exc.cause) from None
    return "ok (sign-in activity, DEX_LOCK, DEX_SESSION, DB_Upgrade read)"


def run_doctor(farm: Farm, out: Any = None) -> int:
    out = out or sys.stdout
    print(f"gpverify doctor: {farm.inventory.farm} ({farm.origin})", file=out)
    targets: list[Target] = []
    for spec in farm.specs.values():
        targets.append(check_host(farm, spec))
        _print(targets[-1], out)
    for extra in (check_web_site(farm), check_sql(farm)):
        if extra is not None:
            targets.append(extra)
            _print(extra, out)
    failed = [t.name for t in targets if not t.ok]
    if failed:
        print(f"{len(failed)} of {len(targets)} target(s) not ready: {', '.join(failed)}", file=out)
        return NOT_RUN
    print(f"all {len(targets)} target(s) ready", file=out)
    return PASSED


def _print(target: Target, out: Any) -> None:
    for line in target.lines():
        print(line, file=out, flush=True)


def cmd_doctor(ns: argparse.Namespace) -> int:
    try:
        with ExitStack() as stack:
            if ns.lab:
                from gpverify import extension

                lab = stack.enter_context(extension.lab().temporary_lab(ns.lab, prefix="gpverify-doctor-lab-"))
                inventory = str(lab.inventory_path)
            elif ns.inventory:
                inventory = ns.inventory
            else:
                raise ConfigError("gpverify doctor", "--inventory", "an inventory file (or --lab [SCENARIO])")
            farm = open_farm(inventory, workers=1)
            return run_doctor(farm)
    except ConfigError as exc:
        print(f"gpverify: {exc}", file=sys.stderr)
        return BAD_INPUT


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `gpverify doctor`."""
    p = sub.add_parser(
        "doctor",
        help=HELP["doctor"],
        description=__doc__,
        epilog=TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--inventory", help="inventory YAML of the farm")
    group.add_argument(
        "--lab",
        nargs="?",
        const="healthy",
        metavar="SCENARIO",
        help="check a simulated lab started for this run (default scenario: healthy)",
    )
    p.set_defaults(func=cmd_doctor)
