"""Preparing for the upgrade: the system and company databases are upgraded, every product, every company."""

from __future__ import annotations

from gpverify.catalogue import check
from gpverify.errors import FactsUnavailable
from gpverify.expect import runtime_later
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import DatabaseVersion, GpSqlView
from gpverify.facts.view import HostView
from gpverify.verdicts import warn

SECTION = "Preparing for the upgrade"
UTILITIES = "Use Dynamics GP Utilities to upgrade the system database and the company databases"
GP = 0  # PRODID of Dynamics GP itself


def _database_problems(database: str, rows: list[DatabaseVersion], farm: Farm) -> list[str]:
    """Every product's DB_Upgrade row finished (db_status 0, db_verOld = db_ver), GP at the target release."""
    mine = [r for r in rows if r.database.upper() == database.upper()]
    gp = [r for r in mine if r.product == GP]
    problems = [] if gp else [f"{database}: no DB_Upgrade row for Dynamics GP (PRODID 0)"]
    problems += [
        f"{database}: Dynamics GP is at {why}, expected {farm.target.text}"
        for r in gp
        if (why := farm.target.problem(r.version))
    ]
    return problems + [p for r in mine if (p := r.problem())]


@check(
    "GP-PRE-001",
    title=f"{UTILITIES} (the system database: every product's DB_Upgrade row finished, GP at the target release).",
    section=SECTION,
    impact="critical",
    remediation=(
        "Run Dynamics GP Utilities on a desktop client to finish upgrading the system database; every "
        "DB_Upgrade row must have db_status 0 and db_verOld* equal to db_ver* (KB 973027 "
        "(https://learn.microsoft.com/troubleshoot/dynamics/gp/fatal-error-during-installation-when-installing-web-services)"
        ", KB 850662 (https://support.microsoft.com/help/850662)). A row of a third-party product that is not "
        "finished needs that product's own upgrade."
    ),
)
def test_system_database_is_upgraded(gp_sql: GpSqlView, farm: Farm) -> None:
    problems = _database_problems(gp_sql.system_database, gp_sql.database_versions(), farm)
    runtime_later(farm.inventory.web_components_only, problems)
    assert not problems, "; ".join(problems)


@check(
    "GP-PRE-002",
    title=f"{UTILITIES} (every company database: every product's DB_Upgrade row finished, GP at the target release).",
    section=SECTION,
    impact="critical",
    remediation=(
        "Run Dynamics GP Utilities and upgrade every company listed; a product whose db_status is not 0 in "
        "a company stops users of that company from logging in ('A product installed on your computer is on "
        "a different version than the database', KB 920831 "
        "(https://learn.microsoft.com/troubleshoot/dynamics/gp/version-numbers-build-numbers-of-dexterity), "
        "KB 915897 "
        "(https://learn.microsoft.com/troubleshoot/dynamics/gp/fail-to-start-dynamics-gp-on-client-workstations))."
    ),
)
def test_every_company_database_is_upgraded(gp_sql: GpSqlView, farm: Farm) -> None:
    companies = gp_sql.companies()
    assert companies, f"{gp_sql.system_database}: SY01500 lists no company"
    rows = gp_sql.database_versions()
    problems = [p for c in companies for p in _database_problems(c.database, rows, farm)]
    runtime_later(farm.inventory.web_components_only, problems)
    assert not problems, f"{len(problems)} problem(s) in company databases: " + "; ".join(problems)


def launched_products(hosts: dict[str, HostView | FactsUnavailable]) -> dict[int, str] | None:
    """The products the session hosts' Dynamics.set launch (PRODID -> name), or None when a host could not be read."""
    found: dict[int, str] = {}
    for host in hosts.values():
        if isinstance(host, FactsUnavailable):
            return None
        try:
            found.update({p.product: p.name for p in host.dictionaries("dynamics_set")})
        except FactsUnavailable:
            return None
    return found


def _product_label(product: int, names: dict[int, str] | None) -> str:
    name = (names or {}).get(product)
    return f"product {product}" + (f" ({name})" if name else "")


@check(
    "GP-PRE-003",
    title=f"{UTILITIES} (each product at one version in every database, and DU000020 agreeing).",
    section=SECTION,
    impact="high",
    remediation=(
        "Rerun Dynamics GP Utilities for the companies listed; if it reports them current, correct DU000020 "
        "as KB 850662 (https://support.microsoft.com/help/850662) describes. A product at two versions "
        "means it was upgraded in some databases only. A product no session host launches (retired) or "
        "with no company tables (no DU000020 row) is listed as a warning: GP checks at login only the "
        "products the workstation loads against DU000020 (KB 920831 "
        "(https://learn.microsoft.com/troubleshoot/dynamics/gp/version-numbers-build-numbers-of-dexterity)); "
        "remove a retired product's rows as its vendor describes, or waive the warning."
    ),
)
def test_company_versions_agree(
    gp_sql: GpSqlView, farm: Farm, every_session_host: dict[str, HostView | FactsUnavailable]
) -> None:
    companies = {c.id: c for c in gp_sql.companies()}
    by_database = {(r.database.upper(), r.product): r.version for r in gp_sql.database_versions()}
    registered = {row.product for row in gp_sql.company_versions()}
    launched = launched_products(every_session_host)
    problems: dict[int, list[str]] = {}
    for product in sorted({p for _, p in by_database}):
        versions = {db: v for (db, p), v in by_database.items() if p == product}
        if len(set(versions.values())) > 1:
            problems.setdefault(product, []).append(
                f"{_product_label(product, launched)} is at "
                + ", ".join(f"{v} in {db}" for db, v in sorted(versions.items()))
                + ", expected one version"
            )
    for row in gp_sql.company_versions():
        company = companies.get(row.company_id)
        if company is None:
            continue  # a company no longer in SY01500: GP-PRE-013 names it
        in_db = by_database.get((company.database.upper(), row.product))
        if in_db is not None and in_db != row.version:
            problems.setdefault(row.product, []).append(
                f"{company.database} ({company.name}) {_product_label(row.product, launched)}: DU000020 "
                f"{row.version}, DB_Upgrade {in_db}, expected them equal"
            )
        if row.product == GP and (why := farm.target.problem(row.version)):
            problems.setdefault(GP, []).append(
                f"{company.database} ({company.name}): DU000020 Dynamics GP {why}, expected {farm.target.text}"
            )
    recorded = {row.company_id for row in gp_sql.company_versions() if row.product == GP}
    problems.setdefault(GP, []).extend(
        f"{c.database} ({c.name}): no DU000020 row for Dynamics GP" for c in companies.values() if c.id not in recorded
    )
    soft = {p: _why_soft(p, registered, launched) for p in problems if p != GP}
    hard = [m for p, msgs in problems.items() if not soft.get(p) for m in msgs]
    runtime_later(farm.inventory.web_components_only, hard)
    assert not hard, f"{gp_sql.system_database} DB_Upgrade and DU000020: " + "; ".join(hard)
    if advice := [f"{'; '.join(problems[p])} ({why})" for p, why in soft.items() if why]:
        warn(
            f"{gp_sql.system_database} DB_Upgrade and DU000020, products GP does not check at login [inferred from "
            "KB 920831, which compares the products a workstation loads with DU000020]: " + "; ".join(advice)
        )


def _why_soft(product: int, registered: set[int], launched: dict[int, str] | None) -> str | None:
    """Why a product's disagreement is advice rather than a failure, or None (it is one GP checks at login)."""
    if product not in registered:
        return "it has no company tables: no DU000020 row in any company"
    if launched is not None and product not in launched:
        return "no session host's Dynamics.set launches it: a retired product?"
    return None


@check(
    "GP-PRE-004",
    title=f"{UTILITIES} (no table conversion failed; other listed conversions reviewed).",
    section=SECTION,
    impact="critical",
    remediation=(
        "Resolve the failed table conversions listed (errornum not 0 in the upgrade guide's DU000030 query, "
        "https://learn.microsoft.com/dynamics-gp/upgrade/company-data-conversion) and rerun Dynamics GP "
        "Utilities. Other rows the query lists are warnings: the guide says those for temporary tables or "
        "modules a company does not use can be ignored; accept each with a waiver naming the table."
    ),
)
def test_no_table_conversion_failed(gp_sql: GpSqlView, farm: Farm) -> None:
    listed = gp_sql.table_conversions()
    failed = [c.describe() for c in listed if c.failed]
    runtime_later(farm.inventory.web_components_only, failed)
    assert not failed, f"{gp_sql.system_database} DU000030: {len(failed)} table conversion(s) failed: " + "; ".join(
        failed
    )
    if listed:
        warn(
            f"{gp_sql.system_database} DU000030: {len(listed)} table conversion(s) to review (no error number): "
            + "; ".join(c.describe() for c in listed)
        )


@check(
    "GP-PRE-013",
    title=f"{UTILITIES} (every company in SY01500 has its database; no DB_Upgrade rows of removed companies).",
    section=SECTION,
    impact="high",
    remediation=(
        "Before upgrading, remove the references to companies that no longer exist (KB 973027 "
        "(https://learn.microsoft.com/troubleshoot/dynamics/gp/fatal-error-during-installation-when-installing-web-services)"
        "): restore or re-create a company database that is missing, or delete the company's SY01500 row and "
        "the DB_Upgrade rows of databases that are no longer companies, as the KB describes."
    ),
)
def test_companies_and_databases_agree(gp_sql: GpSqlView) -> None:
    problems = [
        f"{c.database} ({c.name}): in SY01500, but the server has no database {c.database}"
        for c in gp_sql.missing_company_databases()
    ]
    known = {c.database.upper() for c in gp_sql.companies()} | {gp_sql.system_database.upper()}
    orphans = sorted({r.database for r in gp_sql.database_versions() if r.database.upper() not in known})
    problems += [f"{db}: DB_Upgrade rows for a database that is not a company in SY01500" for db in orphans]
    assert not problems, f"{gp_sql.system_database}: " + "; ".join(problems)
