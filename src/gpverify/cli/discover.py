"""`gpverify discover`: list a live farm's candidates for the profile identifiers no public source confirms.

One read-only collector request per host (services whose display names match GP patterns, Programs and
Features entries matching *Dynamics GP*) and one read-only query of the configuration database's tables,
printed next to the profile's current identifiers so an admin can set `overrides:` in the inventory.
"""

from __future__ import annotations

import argparse
from fnmatch import fnmatchcase
from typing import Any

from gpverify.cli.commands import HELP
from gpverify.cli.tables import table_text
from gpverify.config.profiles import Profile
from gpverify.errors import FactsUnavailable
from gpverify.facts.collect import CollectJob, collect_hosts
from gpverify.facts.farm import Farm, open_farm
from gpverify.facts.windows import ROLE_FACTS, HostFacts, ProductFact, ServiceFact

SERVICE_PATTERNS = ["*Dynamics*", "*Session*", "*Dex*", "*Tenant*", "*GP*"]
PRODUCT_PATTERN = "*Dynamics GP*"
CANDIDATES = "candidates"


def discovery_request() -> dict[str, list[dict[str, Any]]]:
    """The collector request: read-only listing of GP-like services and products (the collector takes any request)."""
    return {
        "services": [{"key": CANDIDATES, "names": [], "display": SERVICE_PATTERNS}],
        "files": [], "file_search": [], "registry": [], "texts": [],
        "products": [{"key": CANDIDATES, "pattern": PRODUCT_PATTERN}],
        "certificates": [],
    }


def _like(value: str, pattern: str) -> bool:
    return fnmatchcase(value.lower(), str(pattern).lower())


def service_keys(profile: Profile, service: ServiceFact) -> list[str]:
    """Profile service keys whose name or display pattern this service matches."""
    keys = {k.split(".")[1] for k in profile.identifiers if k.startswith("services.")}
    return sorted(k for k in keys if service.name.lower() == str(profile.get(f"services.{k}.name", "")).lower()
                  or _like(service.display_name, profile.get(f"services.{k}.display", "")))


def product_keys(profile: Profile, product: ProductFact) -> list[str]:
    keys = [k.split(".", 1)[1] for k in profile.identifiers if k.startswith("products.")]
    return sorted(k for k in keys if _like(product.name, profile[f"products.{k}"]))


def _ident(profile: Profile, key: str) -> str:
    ident = profile.identifiers[key]
    return f"{key} = {ident.value!r} ({ident.confidence})"


def _host_lines(farm: Farm, name: str, outcome: HostFacts | FactsUnavailable) -> list[str]:
    profile, role = farm.profile, farm.specs[name].role
    lines = [f"{name} ({role})"]
    if isinstance(outcome, FactsUnavailable):
        return [*lines, f"  could not read this host: {outcome.cause}"]
    services = outcome.services.get(CANDIDATES, [])
    products = outcome.products.get(CANDIDATES, [])
    lines.append(f"  services whose display name is like {', '.join(SERVICE_PATTERNS)}:")
    lines.append(table_text(["Name", "Display name", "Status", "Profile key"],
                            [(s.name, s.display_name, s.status, ", ".join(service_keys(profile, s)) or "-")
                             for s in sorted(services, key=lambda s: s.display_name.lower())], indent=4)
                 if services else "    (none)")
    lines.append(f"  Programs and Features entries like {PRODUCT_PATTERN}:")
    for p in products:
        lines.append(f"    {p.name:60} {p.version:16} {', '.join(product_keys(profile, p)) or '-'}")
        if p.features:  # the GP entry's Windows Installer features: Web Client Runtime, SBA (names not public)
            lines.append(f"      installed features: {', '.join(p.features)}")
    if not products:
        lines.append("    (none)")
    if any(p.features for p in products):
        lines += [f"    {_ident(profile, f'features.{k}')}" for k in ("web_client_runtime", "service_based_architecture")]
    wanted = [k for k in ("services", "products") if ROLE_FACTS[role].get(k)]
    lines.append("  profile identifiers this role is checked with:" if wanted else
                 "  (this role is checked through registry values and certificate stores, not services)")
    for key in ROLE_FACTS[role].get("services", []):
        hits = [s for s in services if key in service_keys(profile, s)]
        found = ", ".join(f"{s.name} ({s.display_name})" for s in hits) or "NOT FOUND - set an override"
        named = any(s.name.lower() == str(profile[f"services.{key}.name"]).lower() for s in services)
        by_name = "found" if named else "NOT FOUND" if not hits else "no service of this name (display matches)"
        lines.append(f"    {_ident(profile, f'services.{key}.name')}  -> {by_name}")
        lines.append(f"    {_ident(profile, f'services.{key}.display')}  -> {found}")
    for key in ROLE_FACTS[role].get("products", []):
        installed = [p for p in products if key in product_keys(profile, p)]
        found = ", ".join(f"{p.name} {p.version}" for p in installed) or "not found"
        lines.append(f"    {_ident(profile, f'products.{key}')}  -> {found}")
    for error in outcome.errors:
        lines.append(f"  collector error in {error.section}.{error.key}: {error.message}")
    return lines


def _session_db_lines(farm: Farm) -> list[str]:
    """Tables and columns of the configuration database (and the GP 2013-era one), beside config_db.* identifiers."""
    from gpverify.facts import configdb
    from gpverify.facts.gpsql import GpSql, GpSqlView

    sql = GpSql(farm.inventory.sql, farm.profile, farm.sql_password)
    lines: list[str] = []
    try:
        view = GpSqlView(sql, {})
        for database, keys in ((sql.config_database, configdb.SESSION_HOST_KEYS + configdb.SESSION_KEYS),
                               (str(farm.profile["sql.old_session_database"]), configdb.OLD_SESSION_KEYS)):
            lines.append(f"session database {database} on {farm.inventory.sql.server}")
            try:
                columns = configdb.columns(view, database)
            except FactsUnavailable as exc:
                lines += [f"  not readable: {exc.cause}", ""]
                continue
            tables: dict[str, list[str]] = {}
            for schema, table, column, kind in columns:
                tables.setdefault(f"{schema}.{table}", []).append(f"{column} {kind}".strip())
            lines += [f"  {t}: {', '.join(cols)}" for t, cols in tables.items()] or ["  (no tables)"]
            names = {t.lower() for _, t, _, _ in columns} | {c.lower() for _, _, c, _ in columns}
            for key in keys:
                value = farm.profile[key]
                state = "NOT SET - pick it from the list above" if value is None else (
                    "found" if str(value).lower() in names else "NOT FOUND in this database")
                lines.append(f"  {_ident(farm.profile, key)}  -> {state}")
            lines.append("")
    finally:
        sql.close()
    return lines


def discover(farm: Farm) -> str:
    """Collect every host once with the discovery request and describe what was found."""
    jobs = [CollectJob(s, discovery_request(), farm.passwords[s.name]) for s in farm.specs.values()]
    outcomes = collect_hosts(jobs, max_workers=farm.workers)
    out = [f"gpverify discover: {farm.inventory.farm} (profile {farm.profile.name}); read-only, nothing changed", ""]
    for name in farm.specs:
        out += [*_host_lines(farm, name, outcomes[name]), ""]
    out += _session_db_lines(farm)
    out += ["Where an identifier is NOT SET, NOT FOUND or wrong, set the real value in the inventory, for example:",
            "overrides:",
            "  services.session_central.name: <Name from the list above>",
            "  config_db.session_hosts_table: <table from the list above>",
            "  config_db.session_host_name_column: <its column holding the machine name>",
            "  features.web_client_runtime: <feature from the installed features above>"]
    return "\n".join(out)


def cmd_discover(ns: argparse.Namespace) -> int:
    print(discover(open_farm(ns.inventory)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `gpverify discover`."""
    p = sub.add_parser("discover", help=HELP["discover"])
    p.add_argument("--inventory", required=True, help="inventory YAML of the farm")
    p.set_defaults(func=cmd_discover)
