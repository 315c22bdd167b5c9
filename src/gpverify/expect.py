"""Judgements shared by checks: each returns None when the fact is as expected, else what was found."""

from __future__ import annotations

from gpverify.config.versions import Target, same_build
from gpverify.facts.view import HostView
from gpverify.verdicts import warn

RUNTIME_LATER = ("the inventory says only the web components are upgraded now (web_components_only: true; the "
                 "guide allows the GP runtime to follow later, scale-out-upgrade.md), so this is for review: ")


def runtime_later(web_components_only: bool, problems: list[str]) -> None:
    """Database and desktop-client problems become a warning on a web-components-only upgrade."""
    if web_components_only and problems:
        warn(RUNTIME_LATER + "; ".join(problems))


def product_problem(host: HostView, key: str, label: str, target: Target) -> str | None:
    """Why the product (profile products.<key>) is not installed at the target release, or None."""
    products = host.products(key)
    if not products:
        return f"{host.name}: {label} is not installed (profile products.{key}), expected {target.text}"
    old = [(p, why) for p in products if (why := target.problem(p.version))]
    if old:
        found = ", ".join(f"{p.name} {why}" for p, why in old)
        return f"{host.name}: {found}, expected {target.text}"
    return None


def service_problem(host: HostView, key: str, label: str) -> str | None:
    """Why the service (profile services.<key>) is not running, or None."""
    service = host.service(key)
    if service is None:
        return f"{host.name}: no {label} is installed (profile services.{key})"
    if not service.is_running:
        return f"{host.name}: {service.display_name} ({service.name}) is {service.status}, expected Running"
    return None


def runtime_file_problem(host: HostView, key: str, label: str, origin: str) -> str | None:
    """Why the runtime file the tenant configuration names is missing on this host, or None."""
    found = host.file(key)
    if found is None or not found.exists:
        return f"{host.name}: {label} not found at {found.path if found else key} (from {origin})"
    return None


def client_version_problem(host: HostView, origin: str, target: Target | None = None,
                           database_version: str | None = None) -> str | None:
    """Why the Dynamics.exe the web client runs (the path `origin` names) is not the release it should be.

    With `target`: at the target release and build. With `database_version`: the same major and build as the
    databases, which GP needs to log in (upgrade/system-preparation.md).
    """
    missing = runtime_file_problem(host, "dynamics_exe", "Dynamics.exe", origin)
    if missing:
        return missing
    exe = host.file("dynamics_exe")
    assert exe is not None
    where = f"{host.name}: Dynamics.exe at {exe.path} (from {origin})"
    if target is not None and (why := target.problem(exe.version)):
        return f"{where} is version {why}, expected {target.text}"
    if database_version is not None and not same_build(exe.version, database_version):
        return f"{where} is version {exe.version or 'unknown'}, expected {database_version} (the databases' version)"
    return None


# One judgement and one remediation for a condition the guide checks at two gates.
SESSION_CENTRAL_REMEDIATION = ("Start the Session Central Service (GPWebClientSessionCentral) on the web server; if "
                               "it does not start or stops again, read the Dynamics section of its event log and "
                               "run the Web Components Configuration Wizard again (troubleshooting.md).")
SESSION_SERVICE_REMEDIATION = ("Start the Session Service (GPWebClientSessionServices) on this session host; users "
                               "routed to it cannot sign in until it runs. If it does not start, run the Web "
                               "Components Configuration Wizard on the host again (troubleshooting.md).")


def session_central_problem(web_server: HostView) -> str | None:
    return service_problem(web_server, "session_central", "Session Central Service")


def session_service_problem(session_host: HostView) -> str | None:
    return service_problem(session_host, "session_service", "Session Service")
