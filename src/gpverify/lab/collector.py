"""The lab's answer to the collector: what collector.ps1 would print on a simulated host.

PowerShell cannot run here (winrm-and-odbc.md section C), so the lab reads the same JSON request the
script receives and answers it from the host's state, with the script's matching rules: services by
exact short name or display-name wildcard (-like), products by DisplayName wildcard, registry values by
view, key and name. Not emulated: environment variable expansion beyond the two GP folders, chain
building (a certificate's chain_ok is lab state), and PowerShell's one-element-array quirk.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from gpverify.lab.models import FakeHost

ENVIRONMENT = {"%ProgramFiles(x86)%": r"C:\Program Files (x86)", "%ProgramFiles%": r"C:\Program Files"}


def _like(value: str, pattern: str) -> bool:
    # PowerShell -like is a case-insensitive wildcard match.
    return fnmatchcase(value.lower(), pattern.lower())


def _expand(path: str) -> str:
    for var, folder in ENVIRONMENT.items():
        path = path.replace(var, folder)
    return path


def _services(host: FakeHost, q: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"name": s.name, "display_name": s.display_name, "status": s.status, "start_mode": s.start_mode, "account": s.account}
        for s in host.services.values()
        if s.name in q.get("names", []) or any(_like(s.display_name, p) for p in q.get("display", []))
    ]


def _file(host: FakeHost, q: dict[str, Any]) -> dict[str, Any]:
    known = {k.lower(): v for k, v in host.files.items()}
    present = q["path"].lower() in known and known[q["path"].lower()] is not None
    version = known.get(q["path"].lower()) or None
    return {"path": _expand(q["path"]), "exists": present, "version": version if present else None}


def _registry(host: FakeHost, q: dict[str, Any]) -> dict[str, Any]:
    keys = {(v, p.lower()) for v, p, _ in host.registry}
    value = {(v, p.lower(), n.lower()): val for (v, p, n), val in host.registry.items()}.get(
        (q["view"], q["path"].lower(), q["name"].lower()))
    return {"key_exists": (q["view"], q["path"].lower()) in keys, "exists": value is not None, "value": value}


def _products(host: FakeHost, q: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": n, "version": v} for n, v in sorted(host.products.items()) if _like(n, q["pattern"])]


def _certificates(host: FakeHost, q: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"subject": c.subject, "issuer": c.issuer, "thumbprint": c.thumbprint,
         "not_after": c.not_after.isoformat(), "chain_ok": c.chain_ok}
        for c in host.certificates.get(q["store"], [])
    ]


READERS = {"services": _services, "files": _file, "registry": _registry, "products": _products,
           "certificates": _certificates}


def answer(host: FakeHost, request: dict[str, Any]) -> dict[str, Any]:
    """The collector's JSON document for this host and request."""
    # Windows PowerShell 5.1 as on Windows Server 2016/2019 (the lab's hosts), for `gpverify doctor`.
    result: dict[str, Any] = {"collector": 1, "computer": host.name.upper(), "ps_version": "5.1.17763.2183",
                              "errors": []}
    for section, reader in READERS.items():
        result[section] = {q["key"]: reader(host, q) for q in request.get(section, [])}
    return result
