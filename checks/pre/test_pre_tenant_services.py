"""Preparing for the upgrade: Tenant Services are updated before the web client components."""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.facts.view import HostView
from gpverify.facts.windows import same_build
from gpverify.farm import Farm

SECTION = "Preparing for the upgrade"
TITLE = ("If you are using Tenant Services with your Microsoft Dynamics GP web client installation, you must "
         "apply the update to Tenant Services before you update the web client components")


@check(
    "GP-PRE-011",
    title=f"{TITLE} (Tenant Services at the target version).",
    section=SECTION,
    impact="critical",
    remediation="Run the Tenant Services update from AdProd\\TenantServices\\Updates on the installation media, "
    "then the Tenant Services Configuration Wizard, before you update the web components (S1, S17).",
)
def test_tenant_services_are_updated(tenant_server: HostView, farm: Farm) -> None:
    target = farm.profile.version
    products = tenant_server.products("tenant_services")
    assert products, f"{tenant_server.name}: Tenant Services are not installed (profile products.tenant_services)"
    old = [p for p in products if not same_build(p.version, target)]
    assert not old, f"{tenant_server.name}: " + ", ".join(f"{p.name} {p.version}" for p in old) + \
        f", expected {target}"


@check(
    "GP-PRE-012",
    title=f"{TITLE} (the Tenant Discovery and Tenant Management services are started).",
    section=SECTION,
    impact="critical",
    remediation="Start the Tenant Discovery and Tenant Management services on the Tenant Services server; "
    "the Tenant Services Configuration Wizard leaves them started when the update succeeded (S17).",
)
def test_tenant_services_are_running(tenant_server: HostView) -> None:
    problems = []
    for key in ("tenant_discovery", "tenant_management"):
        service = tenant_server.service(key)
        if service is None:
            problems.append(f"no {key.replace('_', ' ')} service is installed (profile services.{key})")
        elif not service.is_running:
            problems.append(f"{service.display_name} is {service.status}, expected Running")
    assert not problems, f"{tenant_server.name}: " + "; ".join(problems)
