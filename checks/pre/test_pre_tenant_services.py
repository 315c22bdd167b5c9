"""Preparing for the upgrade: Tenant Services are updated before the web client components."""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.expect import product_problem, service_problem
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView

SECTION = "Preparing for the upgrade"
TITLE = (
    "If you are using Tenant Services with your Microsoft Dynamics GP web client installation, you must "
    "apply the update to Tenant Services before you update the web client components"
)


@check(
    "GP-PRE-011",
    title=f"{TITLE} (Tenant Services at the target version).",
    section=SECTION,
    impact="critical",
    remediation=(
        "Run the Tenant Services update from AdProd\\TenantServices\\Updates on the installation media, then "
        "the Tenant Services Configuration Wizard, before you update the web components "
        "(https://learn.microsoft.com/dynamics-gp/web-components/scale-out-upgrade, "
        "https://learn.microsoft.com/dynamics-gp/web-components/tenant-services-installation)."
    ),
)
def test_tenant_services_are_updated(tenant_server: HostView, farm: Farm) -> None:
    problem = product_problem(tenant_server, "tenant_services", "Tenant Services", farm.target)
    assert problem is None, problem


@check(
    "GP-PRE-012",
    title=f"{TITLE} (the Tenant Discovery and Tenant Management services are started).",
    section=SECTION,
    impact="critical",
    remediation=(
        "Start the Tenant Discovery and Tenant Management services on the Tenant Services server; the "
        "Tenant Services Configuration Wizard leaves them started when the update succeeded "
        "(https://learn.microsoft.com/dynamics-gp/web-components/tenant-services-installation)."
    ),
)
def test_tenant_services_are_running(tenant_server: HostView) -> None:
    labels = {"tenant_discovery": "Tenant Discovery Service", "tenant_management": "Tenant Management Service"}
    problems = [p for key, label in labels.items() if (p := service_problem(tenant_server, key, label))]
    assert not problems, "; ".join(problems)


@check(
    "GP-PRE-018",
    title=f"{TITLE} (the Tenant Services database DYNGPDISCOVERY exists).",
    section=SECTION,
    impact="high",
    remediation=(
        "Run the Tenant Services Configuration Wizard, which creates DYNGPDISCOVERY, or restore it; the "
        "Tenant Discovery Service reads each tenant's configuration from it "
        "(https://learn.microsoft.com/dynamics-gp/web-components/tenant-services-basics)."
    ),
)
def test_tenant_discovery_database_exists(tenant_server: HostView, gp_sql: GpSqlView) -> None:
    database = str(gp_sql.profile["sql.tenant_discovery_database"])
    assert gp_sql.database_exists(database), (
        f"the Tenant Services database {database} does not exist on the SQL Server of this farm"
    )
