"""`gpverify inventory check FILE`: validate an inventory offline, without passwords or network."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gpverify.cli.commands import HELP
from gpverify.config.inventory import Inventory, host_specs, load_inventory
from gpverify.errors import GpVerifyError
from gpverify.exitcodes import BAD_INPUT, PASSED


def _password_source(settings: Any) -> str:
    env = getattr(settings, "password_env", None)
    if env:
        return f"environment variable {env} ({'set' if env in os.environ else 'NOT SET'})"
    if getattr(settings, "password_keyring", None):
        return f"keyring entry {settings.password_keyring}"
    if getattr(settings, "password_prompt", None):
        return "asked on the terminal"
    return "none"


def _missing_files(inv: Inventory) -> list[str]:
    """Files the inventory names that do not exist (paths are already relative to the inventory's folder)."""
    named: list[tuple[str, str | None]] = [("web_server.ca_bundle", inv.web_server.ca_bundle)]
    for spec in host_specs(inv):
        w = spec.winrm
        named += [
            (f"{spec.name}.winrm.ca_bundle", w.ca_bundle),
            (f"{spec.name}.winrm.cert_pem", w.cert_pem),
            (f"{spec.name}.winrm.cert_key_pem", w.cert_key_pem),
        ]
    return [f"{where}: {path} does not exist" for where, path in named if path and not Path(path).is_file()]


def check_inventory(path: str) -> list[str]:
    """The lines `inventory check` prints; raises ConfigError (file, field, expected) for an invalid inventory."""
    from gpverify.config.profiles import load_profile
    from gpverify.transport.odbc import SqlTarget, connection_string
    from gpverify.transport.winrm import protocol_options

    inv = load_inventory(path)
    load_profile(inv.profile, inv.overrides, origin=path)
    lines = [f"{path}: valid inventory of farm {inv.farm!r}, profile {inv.profile}"]
    for spec in host_specs(inv, path):
        protocol_options(spec, "placeholder")  # refuses unsafe or impossible WinRM settings, no network
        w = spec.winrm
        lines.append(
            f"  {spec.name:24} {spec.role:15} {spec.endpoint}  {w.transport}, password: "
            f"{_password_source(w) if w.transport not in ('kerberos', 'certificate') else 'not used'}"
        )
    s = inv.sql
    connection_string(
        SqlTarget(
            driver=s.driver,
            server=s.server,
            database=s.system_database,
            authentication=s.authentication,
            user=s.user,
            password="placeholder" if s.authentication == "sql" else None,
            encrypt=s.encrypt,
            trust_server_certificate=s.trust_server_certificate,
            host_name_in_certificate=s.host_name_in_certificate,
        )
    )
    lines.append(
        f"  SQL Server {s.server} ({s.driver}, {s.authentication} authentication"
        + (f", password: {_password_source(s)}" if s.authentication == "sql" else "")
        + ")"
    )
    lines += [f"  problem: {m}" for m in _missing_files(inv)]
    return lines


def cmd_inventory(ns: argparse.Namespace) -> int:
    try:
        lines = check_inventory(ns.file)
    except GpVerifyError as exc:
        print(f"gpverify: {exc}")
        return BAD_INPUT
    print("\n".join(lines))
    return BAD_INPUT if any(line.startswith("  problem:") for line in lines) else PASSED


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `gpverify inventory check`."""
    inv = sub.add_parser("inventory", help=HELP["inventory"])
    isub = inv.add_subparsers(dest="inventory_command", required=True)
    check = isub.add_parser("check", help="validate an inventory offline: no passwords asked, no host contacted")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=cmd_inventory)
