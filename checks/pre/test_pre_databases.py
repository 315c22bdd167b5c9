"""Preparing for the upgrade: the system and company databases are upgraded to the target release."""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.facts.gpsql import DatabaseVersion, GpSqlView
from gpverify.facts.windows import same_build

SECTION = "Preparing for the upgrade"
UTILITIES = "Use Dynamics GP Utilities to upgrade the system database and the company databases"


def _version_problem(name: str, row: DatabaseVersion | None, target: str) -> str | None:
    """Why a database's DB_Upgrade row (PRODID 0) is not at the target release, or None when it is."""
    if row is None:
        return f"{name}: no DB_Upgrade row for Dynamics GP (PRODID 0), expected {target} with db_status 0"
    if not same_build(row.version, target):
        return f"{name}: DB_Upgrade version {row.version}, expected {target}"
    if row.status != 0:
        return (f"{name}: DB_Upgrade version {row.version} with db_status {row.status} (upgrade not finished), "
                f"expected {target} with db_status 0")
    return None


@check(
    "GP-PRE-001",
    title=f"{UTILITIES} (the system database: DB_Upgrade at the target version, db_status 0).",
    section=SECTION,
    impact="critical",
    remediation="Run Dynamics GP Utilities on a desktop client to finish upgrading the system database to the "
    "target release (S1, S23); a non-zero db_status means an interrupted upgrade (S41).",
)
def test_system_database_is_upgraded(gp_sql: GpSqlView) -> None:
    versions = gp_sql.database_versions()
    problem = _version_problem(gp_sql.system_database, versions.get(gp_sql.system_database.upper()),
                               gp_sql.target_version)
    assert problem is None, problem


@check(
    "GP-PRE-002",
    title=f"{UTILITIES} (every company database: DB_Upgrade at the target version, db_status 0).",
    section=SECTION,
    impact="critical",
    remediation="Run Dynamics GP Utilities and upgrade every company listed (S1, S23); a company left behind "
    "cannot be opened by the upgraded clients (S33).",
)
def test_every_company_database_is_upgraded(gp_sql: GpSqlView) -> None:
    versions = gp_sql.database_versions()
    companies = gp_sql.companies()
    assert companies, f"{gp_sql.system_database}: SY01500 lists no company"
    problems = [p for c in companies
                if (p := _version_problem(c.database, versions.get(c.database.upper()), gp_sql.target_version))]
    assert not problems, f"{len(problems)} company database(s) not upgraded: " + "; ".join(problems)


@check(
    "GP-PRE-003",
    title=f"{UTILITIES} (DU000020 records every company at the target version).",
    section=SECTION,
    impact="high",
    remediation="Rerun Dynamics GP Utilities for the companies listed; if it reports them current, correct "
    "DU000020 as KB 850662 describes (S33).",
)
def test_company_versions_agree(gp_sql: GpSqlView) -> None:
    recorded = gp_sql.company_versions()
    problems = []
    for company in gp_sql.companies():
        row = recorded.get(company.id)
        if row is None:
            problems.append(f"{company.database} ({company.name}): no DU000020 row, expected {gp_sql.target_version}")
        elif not same_build(row.version, gp_sql.target_version):
            problems.append(f"{company.database} ({company.name}): DU000020 version {row.version}, "
                            f"expected {gp_sql.target_version}")
    assert not problems, f"{gp_sql.system_database} DU000020: " + "; ".join(problems)


@check(
    "GP-PRE-004",
    title=f"{UTILITIES} (no table conversion failed).",
    section=SECTION,
    impact="critical",
    remediation="Resolve the failed table conversions listed (the upgrade guide's DU000030 query, S23) and rerun "
    "Dynamics GP Utilities before the web client upgrade.",
)
def test_no_table_conversion_failed(gp_sql: GpSqlView) -> None:
    failed = gp_sql.failed_conversions()
    assert not failed, f"{gp_sql.system_database} DU000030: {len(failed)} failed table conversion(s): " + "; ".join(
        f.describe() for f in failed)
