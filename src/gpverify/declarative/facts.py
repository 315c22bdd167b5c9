"""What each declarative check asks a host's collector for, in the collector's own request shapes."""

from __future__ import annotations

from typing import Any

from gpverify.declarative.schema import DeclarativeCheck, key_of

# The HostFacts section each kind of host check reads (facts/windows.py, collector.ps1).
SECTIONS = {
    "service": "services",
    "product": "products",
    "registry": "registry",
    "file": "files",
    "certificate": "certificates",
}


def query(check: DeclarativeCheck) -> tuple[str, dict[str, Any]]:
    """(section, query) for a host check; values travel as JSON data, never as PowerShell text."""
    key, spec = key_of(check), check.spec
    if check.kind == "service":
        # Get-ServiceFacts: exact short names, -like patterns of short names, -like patterns of display names.
        names = (
            {"name_patterns": [spec.name]}
            if spec.name and "*" in spec.name
            else {"names": [spec.name] if spec.name else []}
        )
        return "services", {"key": key, **names, "display": [spec.display] if spec.display else []}
    if check.kind == "product":
        return "products", {"key": key, "pattern": spec.name}
    if check.kind == "registry":
        return "registry", {"key": key, "path": spec.path, "name": spec.name, "view": spec.view}
    if check.kind == "file":
        return "files", {"key": key, "path": spec.path}
    if check.kind == "certificate":
        return "certificates", {"key": key, "store": spec.store}
    raise ValueError(f"{check.id}: a {check.kind} check reads no host")


def queries(checks: list[DeclarativeCheck]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Role -> section -> the queries the checks of that role add to the role's one collector request."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    seen: set[tuple[str, str]] = set()
    for check in checks:
        if check.kind == "sql" or check.role is None or (check.role, check.id) in seen:
            continue
        seen.add((check.role, check.id))
        section, q = query(check)
        out.setdefault(check.role, {}).setdefault(section, []).append(q)
    return out
