"""Judgements shared by checks: each returns None when the fact is as expected, else what was found."""

from __future__ import annotations

from gpverify.facts.view import HostView
from gpverify.facts.windows import same_build


def product_problem(host: HostView, key: str, label: str, target: str) -> str | None:
    """Why the product (profile products.<key>) is not installed at the target release, or None."""
    products = host.products(key)
    if not products:
        return f"{host.name}: {label} is not installed (profile products.{key}), expected {target}"
    old = [p for p in products if not same_build(p.version, target)]
    if old:
        found = ", ".join(f"{p.name} {p.version or '(no version)'}" for p in old)
        return f"{host.name}: {found}, expected {target}"
    return None


def service_problem(host: HostView, key: str, label: str) -> str | None:
    """Why the service (profile services.<key>) is not running, or None."""
    service = host.service(key)
    if service is None:
        return f"{host.name}: no {label} is installed (profile services.{key})"
    if not service.is_running:
        return f"{host.name}: {service.display_name} is {service.status}, expected Running"
    return None


def file_version_problem(host: HostView, key: str, label: str, expected: str, why: str = "") -> str | None:
    """Why the file (profile files.<key>) is missing or not at the expected build, or None."""
    found = host.file(key)
    if found is None or not found.exists:
        return f"{host.name}: {label} not found ({found.path if found else f'profile files.{key}'})"
    if not same_build(found.version, expected):
        return f"{host.name}: {label} version {found.version or 'unknown'}, expected {expected}{why}"
    return None
