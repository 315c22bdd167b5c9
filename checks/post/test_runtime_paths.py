"""Verifying the services: the runtime the web client starts is the target release's, on every session host.

The Session Central Service starts each session's runtime from the paths of its tenant configuration
(DynamicsexeLocation, DynamicssetLocation, DexiniLocation: tenant-services-applications.md), kept in the web
server's TenantConfiguration.xml (logging.md); after a side-by-side major upgrade they can still name the
previous release's folder.
"""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.expect import client_version_problem, runtime_file_problem
from gpverify.facts.farm import Farm
from gpverify.facts.view import HostView
from gpverify.facts.windows import RuntimePaths


@check(
    "GP-POST-010",
    title="At this point, you can allow users to sign in to the Microsoft Dynamics GP web client installation "
    "(the runtime paths of the tenant configuration name the target release's files on every session host).",
    section="Verifying the services",
    impact="critical",
    remediation=(
        "Set DynamicsexeLocation, DynamicssetLocation and DexiniLocation in TenantConfiguration.xml on the "
        "web server (or the tenant's properties in Tenant Manager) to the target release's folder, which "
        "must hold Dynamics.exe, Dynamics.set and Data\\Dex.ini on every session host; restart Session "
        "Central (https://learn.microsoft.com/dynamics-gp/web-components/tenant-services-applications, "
        "https://learn.microsoft.com/dynamics-gp/web-components/logging)."
    ),
)
def test_runtime_paths_name_the_target_release(session_host: HostView, runtime: RuntimePaths, farm: Farm) -> None:
    problems = [
        p
        for key, label in (("dynamics_set", "Dynamics.set"), ("dex_ini", "Dex.ini"))
        if (p := runtime_file_problem(session_host, key, label, runtime.origin))
    ]
    if version := client_version_problem(session_host, runtime.origin, target=farm.target):
        problems.append(version)
    folder = runtime.dynamics_exe.rsplit("\\", 1)[0].lower()
    apart = [p for p in (runtime.dynamics_set, runtime.dex_ini) if not p.lower().startswith(folder + "\\")]
    problems += [
        f"{session_host.name}: {p} is not in {folder} where Dynamics.exe is (from {runtime.origin})" for p in apart
    ]
    assert not problems, "; ".join(problems)
