"""Judgements shared by checks: each returns None when the fact is as expected, else what was found."""

from __future__ import annotations

from typing import Any

from gpverify.config.profiles import Profile
from gpverify.config.versions import Target, same_build
from gpverify.facts.view import HostView
from gpverify.facts.windows import FileFact
from gpverify.verdicts import not_verified, warn

RUNTIME_LATER = (
    "the inventory says only the web components are upgraded now (web_components_only: true; the "
    "guide allows the GP runtime to follow later, scale-out-upgrade.md), so this is for review: "
)


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


HELP_INFERRED = (
    "inferred: that the help's version follows the GP build is not published; its installer's name is "
    "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade: "
    "Microsoft_DynamicsGP18_GPWebClientHelp.msi)"
)


def help_installed(host: HostView, target: Target, installer: str | None) -> None:
    """The web client help: installed (found by its installer's published .msi name, or by the inferred Programs and
    Features name), else a failure; at another version than the GP build, a warning marked inferred."""
    products = host.products("web_client_help")
    assert products, (
        f"{host.name}: the web client help is not installed (no product installed from "
        f"{installer or 'the help installer'}, nor one named like profile products.web_client_help), "
        f"expected {target.text}"
    )
    if old := [(p, why) for p in products if (why := target.problem(p.version))]:
        found = ", ".join(f"{p.name} {why}" + (f" (from {p.package})" if p.package else "") for p, why in old)
        warn(f"{host.name}: {found}, expected {target.text} ({HELP_INFERRED})")


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


def client_version_problem(
    host: HostView, origin: str, target: Target | None = None, database_version: str | None = None
) -> str | None:
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
SESSION_CENTRAL_REMEDIATION = (
    "Start the Session Central Service (GPWebClientSessionCentral) on the web server; if "
    "it does not start or stops again, read the Dynamics section of its event log and run "
    "the Web Components Configuration Wizard again "
    "(https://learn.microsoft.com/dynamics-gp/web-components/troubleshooting)."
)
SESSION_SERVICE_REMEDIATION = (
    "Start the Session Service (GPWebClientSessionServices) on this session host; users "
    "routed to it cannot sign in until it runs. If it does not start, run the Web "
    "Components Configuration Wizard on the host again "
    "(https://learn.microsoft.com/dynamics-gp/web-components/troubleshooting)."
)


def session_central_problem(web_server: HostView) -> str | None:
    return service_problem(web_server, "session_central", "Session Central Service")


def session_service_problem(session_host: HostView) -> str | None:
    return service_problem(session_host, "session_service", "Session Service")


# --- a working desktop client on a session host (GP-PRE-005/006/007/010 advise, GP-HOST-012 fails) -------------


def database_gp_version(gp_sql: Any) -> str | None:
    """Dynamics GP's version in the system database (DB_Upgrade, PRODID 0); None without a row (GP-PRE-001)."""
    rows = [
        r for r in gp_sql.database_versions() if r.product == 0 and r.database.upper() == gp_sql.system_database.upper()
    ]
    return rows[0].version if rows else None


def matching_client(host: HostView, version: str) -> FileFact | None:
    """The Dynamics.exe, in any release folder, at the databases' major version and build."""
    return next((f for f in host.found_files("dynamics_exe") if f.exists and same_build(f.version, version)), None)


def desktop_version_problem(host: HostView, version: str | None, system_database: str) -> str | None:
    if version is None:
        return None  # no GP row in DB_Upgrade: GP-PRE-001 reports it
    if matching_client(host, version):
        return None
    found = ", ".join(f"{f.version or 'no version'} at {f.path}" for f in host.found_files("dynamics_exe"))
    return (
        f"{host.name}: no desktop client at {version} (the version of {system_database}); found "
        f"{found or 'no Dynamics.exe in any Microsoft Dynamics folder'}"
    )


LOCAL_NAMES = {"(local)", ".", "localhost", "127.0.0.1", "::1"}


def _sql_server(name: str, host: str) -> tuple[str, str]:
    """(machine, instance) of a SQL Server name as a DSN or connection string gives it: tcp:HOST\\INST,1433."""
    text = name.strip().lower()
    text = text.split(":", 1)[1] if text[:4] in ("tcp:", "np:\\", "lpc:") else text
    text = text.split(",", 1)[0]
    machine, _, instance = text.partition("\\")
    machine = host.lower() if machine in LOCAL_NAMES else machine
    return machine, "" if instance == "mssqlserver" else instance


def same_sql_server(dsn_server: str, server: str, host: str) -> bool:
    """Whether a DSN's Server names the GP SQL Server: same instance, and the same machine by full or short name."""
    (a, ai), (b, bi) = _sql_server(dsn_server, host), _sql_server(server, host)
    return ai == bi and (a == b or a.split(".", 1)[0] == b.split(".", 1)[0])


def odbc_problem(host: HostView, profile: Profile, server: str) -> str | None:
    """None when a 32-bit System DSN points at the GP SQL Server, whatever its name ("Dynamics GP" is only the
    installer's default, installation/installing-on-first-computer.md)."""
    where = profile["registry.odbc_dsn"]
    sources = {
        f.subkey: str(f.value).strip()
        for f in host.registry_subkeys("odbc_dsn")
        if f.value is not None and str(f.value).strip()
    }
    if any(same_sql_server(value, server, host.name) for value in sources.values()):
        return None
    found = ", ".join(f"{name!r} -> {value}" for name, value in sorted(sources.items())) or "none"
    return (
        f"{host.name}: no 32-bit ODBC data source points at the GP SQL Server {server} (HKLM\\{where['path']}\\"
        f"<data source>, value {where['name']}, {where['view']}-bit view); found: {found}"
    )


def dex_ini_problem(host: HostView, version: str | None) -> str | None:
    """Dex.ini beside the desktop client at the databases' version (or any, when that client is missing)."""
    exe = matching_client(host, version) if version else None
    folder = exe.path.rsplit("\\", 1)[0].lower() if exe else None
    inis = [f for f in host.found_files("dex_ini") if f.exists]
    if folder is not None:
        if any(f.path.lower().startswith(folder + "\\") for f in inis):
            return None
        return f"{host.name}: Dex.ini not found in {folder}\\Data (the desktop client at {version})"
    return None if inis else f"{host.name}: Dex.ini not found in any Microsoft Dynamics folder"


def desktop_client_problems(
    host: HostView, version: str | None, system_database: str, profile: Profile, server: str
) -> list[str]:
    """Why the session host's desktop client would not work: its version, its ODBC data source, its Dex.ini."""
    found = [
        desktop_version_problem(host, version, system_database),
        odbc_problem(host, profile, server),
        dex_ini_problem(host, version),
    ]
    return [p for p in found if p]


HOST_STEP_LATER = (
    "the guide updates each session host's desktop client at its own step 2 ('If you haven't already "
    "done so, perform the update for the Microsoft Dynamics GP desktop client components', "
    "https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade), so this is advice "
    "here; that host's gate fails it (GP-HOST-012): "
)


def host_step_later(problems: list[str]) -> None:
    """A session host's desktop-client problem at the pre gate is a warning: the hosts gate judges it."""
    if problems:
        warn(HOST_STEP_LATER + "; ".join(problems))


def every_company(problems: list[str], unreadable: list[str], what: str) -> None:
    """End a check whose claim is about every company database: its problems fail it (naming the databases it could
    not read too); otherwise a database it could not read is no pass for that company, so the check is not verified."""
    assert not problems, "; ".join(problems + [f"{u} (not read)" for u in unreadable])
    if unreadable:
        not_verified(f"{what} could not be judged for " + "; ".join(unreadable) + " (the others pass)")


def missing_companies(gp_sql: Any) -> list[str]:
    """The company databases SY01500 names that SQL Server does not list, described for every_company."""
    return [
        f"{c.database} ({c.name}): no such database on the server (GP-PRE-013)"
        for c in gp_sql.missing_company_databases()
    ]


WIZARD_INFERRED = (
    "the wizard program's path and that its file version follows the GP build are inferred from "
    "https://learn.microsoft.com/dynamics-gp/web-components/tenant-services-installation ('Start the "
    "Microsoft.Dynamics.GP.Web.ConfigurationWizard application ... c:\\Program Files\\Microsoft "
    "Dynamics\\GP Web Components\\')"
)


def wizard_program_problem(host: HostView, target: Target) -> str | None:
    """Why the target release's Web Components Configuration Wizard is not on this host, or None."""
    program = host.file("configuration_wizard")
    if program is None or not program.exists:
        return (
            f"{host.name}: the Web Components Configuration Wizard is not at "
            f"{program.path if program else 'profile files.configuration_wizard'}"
        )
    if program.version and (why := target.problem(program.version)):
        return f"{host.name}: the Web Components Configuration Wizard at {program.path} is version {why}"
    return None
