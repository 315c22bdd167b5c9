"""Updating session host machines: every product the desktop client launches is installed and upgraded, and the
GP entry carries the features the web client needs.

GP refuses a login when any product's dictionary and its database differ ("A product installed on your computer
is on a different version than the database", KB 920831, KB 915897), so a consultant checks every product of the
launch file, not only Dynamics GP; third-party products are where real upgrades break.
"""

from __future__ import annotations

import pytest

from gpverify.catalogue import check
from gpverify.config.versions import GpVersion
from gpverify.facts.farm import Farm
from gpverify.facts.gpsql import GpSqlView
from gpverify.facts.view import HostView
from gpverify.facts.windows import ProductFact
from gpverify.session import evidence
from gpverify.verdicts import BASIS, not_verified, warn

SECTION = "Updating session host machines"
FEATURES = "You can also select to add the service based architecture components to the installation"


@check(
    "GP-HOST-007",
    title="If you haven't already done so, perform the update for the Microsoft Dynamics GP desktop client "
    "components (every product in Dynamics.set has its dictionary).",
    section=SECTION,
    impact="critical",
    remediation=(
        "Install or repair the product whose dictionary is missing on this session host (the product's own "
        "installer for a third-party product), or remove it from Dynamics.set if it is retired; GP will not "
        "start with a launch file naming a missing dictionary "
        "(https://learn.microsoft.com/dynamics-gp/installation/SystemAdminGuide)."
    ),
)
def test_every_launched_product_has_its_dictionary(session_host: HostView) -> None:
    products = session_host.dictionaries("dynamics_set")
    missing = [f"{p.name} (product {p.product}) at {p.path}" for p in products if not p.exists]
    assert products, f"{session_host.name}: Dynamics.set lists no product"
    assert not missing, f"{session_host.name}: Dynamics.set names dictionaries that are not there: " + "; ".join(
        missing
    )


@check(
    "GP-HOST-008",
    title="If you haven't already done so, perform the update for the Microsoft Dynamics GP desktop client "
    "components (every product in Dynamics.set upgraded in every company).",
    section=SECTION,
    impact="critical",
    remediation=(
        "Run Dynamics GP Utilities (and the third-party product's own upgrade) until DU000020 lists the "
        "product for every company at one version and its DB_Upgrade rows have db_status 0 (KB 920831 "
        "(https://learn.microsoft.com/troubleshoot/dynamics/gp/version-numbers-build-numbers-of-dexterity), "
        "KB 915897 "
        "(https://learn.microsoft.com/troubleshoot/dynamics/gp/fail-to-start-dynamics-gp-on-client-workstations), "
        "KB 850662 (https://support.microsoft.com/help/850662)). A product with no DU000020 row in any company "
        "has no company tables: a warning to review, since GP's login check compares DU000020 with the "
        "products the workstation loads."
    ),
)
def test_every_launched_product_is_upgraded_in_every_company(
    session_host: HostView, gp_sql: GpSqlView, farm: Farm
) -> None:
    companies = gp_sql.companies()
    registered = {(v.company_id, v.product): v.version for v in gp_sql.company_versions()}
    with_tables = {product for _, product in registered}
    unfinished = {(r.database.upper(), r.product): r for r in gp_sql.database_versions() if r.status != 0}
    problems, advice = [], []
    for product in session_host.dictionaries("dynamics_set"):
        label = f"{product.name} (product {product.product})"
        if product.product not in with_tables:
            # No company tables at all [inferred]: nothing for GP's login check to compare in a company.
            advice.append(f"{label}: no DU000020 row in any company (a product without company tables)")
            continue
        versions = {c.database: registered.get((c.id, product.product)) for c in companies}
        problems += [f"{label}: not registered for {db} in DU000020" for db, v in versions.items() if v is None]
        if len({v for v in versions.values() if v}) > 1:
            problems.append(
                f"{label}: at "
                + ", ".join(f"{v} in {db}" for db, v in versions.items() if v)
                + ", expected one version"
            )
        if product.product == 0:
            problems += [
                f"{label}: {db} at {why}, expected {farm.target.text}"
                for db, v in versions.items()
                if v and (why := farm.target.problem(v))
            ]
        problems += [
            f"{label}: {c.database} DB_Upgrade db_status {r.status}, expected 0"
            for c in companies
            if (r := unfinished.get((c.database.upper(), product.product)))
        ]
    assert not problems, f"{session_host.name}: " + "; ".join(problems)
    if advice:
        warn(f"{session_host.name}: " + "; ".join(advice))


def _feature_problem(
    request: pytest.FixtureRequest, session_host: HostView, farm: Farm, key: str, label: str
) -> str | None:
    """Whether the GP entry of the target release has the feature installed: by its ID where the inventory names
    it, else by its title in the entry's cached package (Feature table), the ID found there."""
    entries = session_host.products("gp_desktop")
    if not entries:
        return f"{session_host.name}: no Programs and Features entry like {farm.profile['products.gp_desktop']!r}"
    target = [e for e in entries if not farm.target.problem(e.version)] or entries
    feature = farm.profile[f"features.{key}"]
    if feature is not None:
        ids = {e.name: [str(feature)] for e in target}
    else:
        ids = _by_title(session_host, target, str(farm.profile[f"feature_titles.{key}"]), key, label)
    found = [
        f"{f} in {e.name} {e.version}"
        for e in target
        for f in ids[e.name]
        if f.lower() in (i.lower() for i in e.features)
    ]
    how = (
        "named in the inventory's overrides"
        if feature is not None
        else (f"found by its title {farm.profile[f'feature_titles.{key}']!r} in the cached package's Feature table")
    )
    if found:
        evidence(request.node)[BASIS] = f"the {label} feature is installed: {', '.join(found)} ({how})"
        return None
    named = ", ".join(sorted({f for v in ids.values() for f in v}))
    installed = "; ".join(f"{e.name} {e.version}: {', '.join(e.features) or 'no features'}" for e in target)
    return (
        f"{session_host.name}: the {label} feature ({named}, {how}) is not installed; installed features: {installed}"
    )


def _by_title(
    session_host: HostView, entries: list[ProductFact], title: str, key: str, label: str
) -> dict[str, list[str]]:
    """Each entry's feature IDs whose Title is the one the docs use; not verified when no entry's table has it."""
    ids = {e.name: [f for f, t in e.titles.items() if t.strip().lower() == title.lower()] for e in entries}
    if any(ids.values()):
        return ids
    read = "; ".join(
        f"{e.name}: "
        + (
            f"cached package not read ({e.titles_error})"
            if e.titles_error
            else "titles " + (", ".join(repr(t) for t in e.titles.values()) or "none")
        )
        for e in entries
    )
    not_verified(
        f"{session_host.name}: no feature titled {title!r} was found in the GP entry's Windows Installer "
        f"package ({read}), and the {label} feature's ID is not public (KB 3036773 publishes the feature "
        "table as images): `gpverify discover` lists the GP entry's installed features; set under "
        f"`overrides:` in the inventory features.{key}: <feature ID>"
    )


@check(
    "GP-HOST-009",
    title="The Web Client Runtime feature of Microsoft Dynamics GP is installed on each session host.",
    section=SECTION,
    impact="critical",
    remediation=(
        "On this session host, open Programs and Features, select Microsoft Dynamics GP, choose Change > "
        "Add/Remove Features and add Web Client Runtime "
        "(https://learn.microsoft.com/dynamics-gp/web-components/environment-configuration)."
    ),
)
def test_web_client_runtime_feature_installed(
    request: pytest.FixtureRequest, session_host: HostView, farm: Farm
) -> None:
    problem = _feature_problem(request, session_host, farm, "web_client_runtime", "Web Client Runtime")
    assert problem is None, problem


@check(
    "GP-HOST-010",
    title=f"{FEATURES} (the Service Based Architecture feature of Microsoft Dynamics GP is installed).",
    section=SECTION,
    impact="high",
    remediation=(
        "On this session host, choose Change > Add/Remove Features for Microsoft Dynamics GP and add "
        "Service Based Architecture "
        "(https://learn.microsoft.com/dynamics-gp/web-components/environment-configuration, "
        "https://learn.microsoft.com/dynamics-gp/installation/SBA)."
    ),
)
def test_service_based_architecture_feature_installed(
    request: pytest.FixtureRequest, session_host: HostView, farm: Farm
) -> None:
    if not farm.inventory.service_based_architecture:
        pytest.skip("the inventory says the Service Based Architecture is not used (service_based_architecture: false)")
    problem = _feature_problem(request, session_host, farm, "service_based_architecture", "Service Based Architecture")
    assert problem is None, problem


@check(
    "GP-HOST-011",
    title=f"{FEATURES} (the target release's Dexterity Service GPDS-<instance>-<major> runs, the previous one "
    "does not).",
    section=SECTION,
    impact="high",
    remediation=(
        "Start the target release's GPDS service on this session host and stop (then disable) the previous "
        "release's, so that Service Based Architecture requests reach the upgraded runtime "
        "(https://learn.microsoft.com/dynamics-gp/installation/SBA)."
    ),
)
def test_target_release_dexterity_service_runs(session_host: HostView, farm: Farm) -> None:
    if not farm.inventory.service_based_architecture:
        pytest.skip("the inventory says the Service Based Architecture is not used (service_based_architecture: false)")
    major = GpVersion.parse(farm.profile.version).major  # type: ignore[union-attr]
    services = session_host.services("dexterity_service")
    ours = [s for s in services if s.name.upper().endswith(f"-{major}")]
    others = [s for s in services if s not in ours and s.is_running]
    problems = (
        []
        if any(s.is_running for s in ours)
        else [
            f"no GPDS-<instance>-{major} service is running (found: "
            + (", ".join(f"{s.name} {s.status}" for s in services) or "none")
            + ")"
        ]
    )
    problems += [f"{s.name} of another release is still {s.status}" for s in others]
    assert not problems, f"{session_host.name}: " + "; ".join(problems)
