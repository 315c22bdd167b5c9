"""`gpverify discover`: list a live farm's candidates for the profile identifiers no public source confirms.

One read-only collector request per host (services whose display names match GP patterns, Programs and
Features entries matching *Dynamics GP*, and on the web server Session Central through GP's PowerShell module)
and read-only queries of the configuration database, printed next to the profile's current identifiers. The
data names what it can: the table, column and property holding every session host's name (by value), and, with
`--record before`, a host suspended in Session Management, then `--record after --diff before`, the flag Suspend
changed and its polarity. It prints a paste-ready `overrides:` block with where each name came from;
`--write-overrides FILE` merges it into the inventory, keeping its comments and other keys.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from gpverify.cli.commands import HELP
from gpverify.cli.tables import table_text
from gpverify.config.options import in_file
from gpverify.config.paths import file_problem, output_file, read_file
from gpverify.config.profiles import Profile
from gpverify.config.schema import line_problem
from gpverify.errors import ConfigError, FactsUnavailable
from gpverify.facts import discovery
from gpverify.facts import sessioncentral as sc
from gpverify.facts.collect import CollectJob, HostOutcome, collect_hosts
from gpverify.facts.discovery import Found
from gpverify.facts.farm import Farm, open_farm
from gpverify.facts.names import like
from gpverify.facts.windows import ROLE_FACTS, HostFacts, ProductFact, ServiceFact, _query
from gpverify.report.render import write_atomically

SERVICE_PATTERNS = ["*Dynamics*", "*Session*", "*Dex*", "*Tenant*", "*GP*"]
PRODUCT_PATTERN = "*Dynamics GP*"
CANDIDATES = "candidates"


def discovery_request(profile: Profile | None = None, role: str = "", host: str | None = None) -> dict[str, Any]:
    """The collector request: read-only listing of GP-like services and products (the collector takes any request);
    on the web server also Session Central through GP's PowerShell module, as the checks read it."""
    request: dict[str, Any] = {
        "services": [{"key": CANDIDATES, "names": [], "display": SERVICE_PATTERNS}],
        "files": [],
        "file_search": [],
        "registry": [],
        "texts": [],
        "products": [
            {"key": CANDIDATES, "pattern": PRODUCT_PATTERN, **({"titles": True} if role == "session_host" else {})}
        ],  # the GP entry's features by title
        "certificates": [],
    }
    if profile is not None and role == "web_server":
        request["session_central"] = [_query("session_central", "session_central", profile, None, host)]
    return request


def service_keys(profile: Profile, service: ServiceFact) -> list[str]:
    """Profile service keys whose name or display pattern this service matches."""
    keys = {k.split(".")[1] for k in profile.identifiers if k.startswith("services.")}
    # A name with a wildcard is a pattern: the SBA's Dexterity Service is GPDS-<instance>-<major> (GPDS-*).
    return sorted(
        k
        for k in keys
        if like(service.name, str(profile.get(f"services.{k}.name", "")))
        or like(service.display_name, profile.get(f"services.{k}.display", ""))
    )


def product_keys(profile: Profile, product: ProductFact) -> list[str]:
    keys = [k.split(".", 1)[1] for k in profile.identifiers if k.startswith("products.")]
    return sorted(k for k in keys if like(product.name, profile[f"products.{k}"]))


def _ident(profile: Profile, key: str) -> str:
    ident = profile.identifiers[key]
    return f"{key} = {ident.value!r} ({ident.confidence})"


def _host_lines(farm: Farm, name: str, outcome: HostOutcome) -> list[str]:
    profile, role = farm.profile, farm.specs[name].role
    lines = [f"{name} ({role})"]
    if isinstance(outcome, FactsUnavailable):
        return [*lines, f"  could not read this host: {outcome.cause}"]
    services = outcome.services.get(CANDIDATES, [])
    products = outcome.products.get(CANDIDATES, [])
    lines += _service_lines(profile, services) + _product_lines(profile, products)
    wanted = [k for k in ("services", "products") if ROLE_FACTS[role].get(k)]
    lines.append(
        "  profile identifiers this role is checked with:"
        if wanted
        else "  (this role is checked through registry values and certificate stores, not services)"
    )
    for key in ROLE_FACTS[role].get("services", []):
        lines += _service_identifier_lines(profile, key, services)
    for key in ROLE_FACTS[role].get("products", []):
        installed = [p for p in products if key in product_keys(profile, p)]
        found = ", ".join(f"{p.name} {p.version}" for p in installed) or "not found"
        lines.append(f"    {_ident(profile, f'products.{key}')}  -> {found}")
    lines += [f"  collector error in {e.section}.{e.key}: {e.message}" for e in outcome.errors]
    return lines


def _service_lines(profile: Profile, services: list[ServiceFact]) -> list[str]:
    """The host's services like GP's, with the profile key each one matches."""
    rows = [
        (s.name, s.display_name, s.status, ", ".join(service_keys(profile, s)) or "-")
        for s in sorted(services, key=lambda s: s.display_name.lower())
    ]
    table = table_text(["Name", "Display name", "Status", "Profile key"], rows, indent=4) if rows else "    (none)"
    return [f"  services whose display name is like {', '.join(SERVICE_PATTERNS)}:", table]


def _product_lines(profile: Profile, products: list[ProductFact]) -> list[str]:
    """Programs and Features entries like GP's, their Windows Installer features, and the feature identifiers."""
    lines = [f"  Programs and Features entries like {PRODUCT_PATTERN}:"]
    for p in products:
        lines.append(f"    {p.name:60} {p.version:16} {', '.join(product_keys(profile, p)) or '-'}")
        if p.features:  # the GP entry's Windows Installer features: Web Client Runtime, SBA (names not public)
            lines.append(f"      installed features: {', '.join(p.features)}")
        if p.titles:  # every feature of its cached package's Feature table, by ID with its title
            lines.append(
                "      features by title (cached package): "
                + ", ".join(f"{f} {t!r}" + (" installed" if f in p.features else "") for f, t in p.titles.items())
            )
    if not products:
        lines.append("    (none)")
    if any(p.features for p in products):
        lines += [_feature_line(profile, key, products) for key in ("web_client_runtime", "service_based_architecture")]
    return lines


def _feature_line(profile: Profile, key: str, products: list[ProductFact]) -> str:
    """A feature identifier of the profile, with the feature IDs whose title is the profile's title for it."""
    title = str(profile[f"feature_titles.{key}"]).lower()
    named = sorted({f for p in products for f, t in p.titles.items() if t.strip().lower() == title})
    found = f"  -> by title {profile[f'feature_titles.{key}']!r}: {', '.join(named)}" if named else ""
    return f"    {_ident(profile, f'features.{key}')}" + found


def _service_identifier_lines(profile: Profile, key: str, services: list[ServiceFact]) -> list[str]:
    """A service's name and display identifiers, and whether the host has a service by each."""
    hits = [s for s in services if key in service_keys(profile, s)]
    found = ", ".join(f"{s.name} ({s.display_name})" for s in hits) or "NOT FOUND - set an override"
    named = any(like(s.name, str(profile[f"services.{key}.name"])) for s in services)
    by_name = "found" if named else "NOT FOUND" if not hits else "no service of this name (display matches)"
    return [
        f"    {_ident(profile, f'services.{key}.name')}  -> {by_name}",
        f"    {_ident(profile, f'services.{key}.display')}  -> {found}",
    ]


def _session_db_lines(farm: Farm) -> list[str]:
    """Tables and columns of the configuration database (and the GP 2013-era one), beside config_db.* identifiers."""
    from gpverify.facts import configdb
    from gpverify.facts.gpsql import GpSql, GpSqlView

    sql = GpSql(farm.inventory.sql, farm.profile, farm.sql_password)
    lines: list[str] = []
    try:
        view = GpSqlView(sql, {})
        for database, keys in (
            (sql.config_database, configdb.SESSION_HOST_KEYS + configdb.SESSION_KEYS),
            (str(farm.profile["sql.old_session_database"]), configdb.OLD_SESSION_KEYS),
        ):
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
                state = (
                    "NOT SET - pick it from the list above"
                    if value is None
                    else ("found" if str(value).lower() in names else "NOT FOUND in this database")
                )
                lines.append(f"  {_ident(farm.profile, key)}  -> {state}")
            lines.append("")
    finally:
        sql.close()
    return lines


def _collect(farm: Farm) -> dict[str, HostOutcome]:
    jobs = [
        CollectJob(s, discovery_request(farm.profile, s.role, s.name), farm.passwords[s.name])
        for s in farm.specs.values()
    ]
    return collect_hosts(jobs, max_workers=farm.workers)


def discover(farm: Farm, record: str | None = None, diff: str | None = None) -> tuple[str, dict[str, Any]]:
    """Collect every host once with the discovery request and describe what was found; the overrides found."""
    outcomes = _collect(farm)
    out = [f"gpverify discover: {farm.inventory.farm} (profile {farm.profile.name}); read-only, nothing changed", ""]
    for name in farm.specs:
        out += [*_host_lines(farm, name, outcomes[name]), ""]
    out += _session_db_lines(farm)
    found, lines = _session_management(farm, outcomes)
    out += lines
    snapshot = _record(farm, outcomes, found)
    if record:
        out.append(f"recorded what Session Management holds in {discovery.save(snapshot, record)}")
    differences = _differences(diff, snapshot, out) if diff else []
    overrides = propose(farm, found, differences, snapshot.release)
    out += ["", *overrides_text(overrides), ""] if overrides else []
    out += [
        "Where an identifier is NOT SET, NOT FOUND or wrong, set the real value in the inventory, for example:",
        "overrides:",
        "  services.session_central.name: <Name from the list above>",
        "  features.web_client_runtime: <feature ID above, only where its title does not find it>",
    ]
    return "\n".join(out), overrides


def _web(farm: Farm) -> str:
    return farm.hosts("web_server")[0].name


def _session_management(farm: Farm, outcomes: dict[str, HostOutcome]) -> tuple[list[Found], list[str]]:
    """Where the session hosts' names are: among Session Central's objects and in the configuration database."""
    hosts = [s.name for s in farm.hosts("session_host")]
    web = _web(farm)
    lines = [f"Session Management (session hosts {', '.join(hosts)}):"]
    found: list[Found] = []
    web_facts = outcomes.get(web)
    fact = web_facts.session_central.get("session_central") if isinstance(web_facts, HostFacts) else None
    error = (
        next((e.message for e in web_facts.errors if e.section == "session_central"), None)
        if isinstance(web_facts, HostFacts)
        else (str(web_facts) if web_facts else None)
    )
    problem = sc.module_problem(fact, error, web)
    try:
        module = None if problem else discovery.module_objects(fact, hosts, web)
    except sc.Unusable as exc:
        module, problem = None, str(exc)
    if module is not None:
        found.append(module)
        lines.append(f"  Session Central ({module.where}): property {module.name_key} holds every session host's name")
        lines += _module_readings(farm, fact, module)
    else:
        lines.append(f"  Session Central through GP PowerShell: {problem or 'no session host objects'}")
    table = _config_found(farm, hosts)
    if not isinstance(table, str):  # a Found (tested as not text: its module may be imported anew)
        found.append(table)
        lines.append(
            f"  {farm.inventory.sql.config_database}: table {table.where}, column {table.name_key} holds every "
            f"session host's name; date-time columns: {', '.join(table.time_keys) or 'none'}"
        )
    else:
        lines.append(f"  {farm.inventory.sql.config_database}: {table}")
    return found, [*lines, ""]


def _module_readings(farm: Farm, fact: Any, module: Found) -> list[str]:
    objects = [o for o in fact.objects if o.getter == module.where]
    reading = sc.flag_reading(objects, farm.profile, module.name_key)
    if isinstance(reading, sc.Reading):
        return [f"    allows new sessions: {reading.describe()}"]
    return [f"    {reading}"]


def _config_found(farm: Farm, hosts: list[str]) -> Found | str:
    from gpverify.facts.gpsql import GpSql, GpSqlView

    sql = GpSql(farm.inventory.sql, farm.profile, farm.sql_password)
    try:
        found = discovery.config_tables(GpSqlView(sql, {}), hosts)
    except FactsUnavailable as exc:
        return f"not readable: {exc.cause}"
    finally:
        sql.close()
    return found or "no table has a column holding every session host's name (has every host registered?)"


def _release(farm: Farm, outcomes: dict[str, HostOutcome]) -> str:
    facts = outcomes.get(_web(farm))
    products = facts.products.get(CANDIDATES, []) if isinstance(facts, HostFacts) else []
    web = [p for p in products if like(p.name, str(farm.profile["products.web_components"]))]
    return web[0].version if web else "unknown"


def _record(farm: Farm, outcomes: dict[str, HostOutcome], found: list[Found]) -> discovery.Record:
    return discovery.Record(
        farm.inventory.farm,
        farm.profile.name,
        _release(farm, outcomes),
        discovery.now_text(),
        [s.name for s in farm.hosts("session_host")],
        found,
    )


def _differences(name: str, after: discovery.Record, out: list[str]) -> list[discovery.Difference]:
    before = discovery.load(name)
    discovery.same_farm(before, after, str(discovery.record_path(name)))
    out.append(f"differences since {discovery.record_path(name)} ({before.recorded}):")
    found: list[discovery.Difference] = []
    for new in after.found:
        old = next((f for f in before.found if f.source == new.source), None)
        if old is None:
            out.append(f"  {new.where}: not in the first record")
            continue
        diff = discovery.difference(old, new)
        found.append(diff)
        out.append(
            f"  {diff.where}: "
            + (
                diff.problem
                or f"{diff.flag} changed from {diff.before!r} to {diff.after!r} "
                f"on {diff.host} only: the flag Suspend sets, {diff.after!r} = Suspended"
            )
        )
    return found


# --- the overrides block -----------------------------------------------------------------------------------


def propose(farm: Farm, found: list[Found], differences: list[discovery.Difference], release: str) -> dict[str, Any]:
    """key -> (value, provenance) of every override the data named."""
    when = f"on {discovery.now_text()} (profile {farm.profile.name}, Web Components {release})"
    proposed: dict[str, Any] = {}
    for f in found:
        names = f"holds every session host's name ({', '.join(sorted(f.rows))})"
        if f.source == "config_db":
            table = f.where.split(".", 1)[-1]
            proposed["config_db.session_hosts_table"] = (table, f"found by value {when}: table {f.where} {names}")
            proposed["config_db.session_host_name_column"] = (f.name_key, f"its column {f.name_key} {names}")
            if len(f.time_keys) == 1:
                proposed["config_db.session_host_status_time_column"] = (
                    f.time_keys[0],
                    f"the table's only date-time column ({f.time_keys[0]}): Last Status Update",
                )
        else:
            proposed["session_central.host_name_property"] = (
                f.name_key,
                (f"found by value {when}: Session Central's {f.where} objects: {f.name_key} {names}"),
            )
    for d in differences:
        if d.flag is None:
            continue
        how = (
            f"found by difference {when}: {d.flag} changed from {d.before!r} to {d.after!r} on {d.host} only, "
            "between two records with the host suspended in Session Management in between"
        )
        prefix = (
            ("config_db.session_host_suspended_column", "config_db.session_host_suspended_when")
            if (d.source == "config_db")
            else ("session_central.suspended_property", "session_central.suspended_when")
        )
        proposed[prefix[0]] = (d.flag, how)
        proposed[prefix[1]] = (d.after, f"the value {d.flag} took on the suspended host")
    return proposed


def overrides_text(proposed: dict[str, Any]) -> list[str]:
    lines = ["Paste under `overrides:` in the inventory (or run again with --write-overrides FILE):", "overrides:"]
    for key, (value, how) in proposed.items():
        lines += [f"  # {how}", f"  {key}: {json.dumps(value)}"]
    return lines


def inventory_to_merge(path: Path) -> tuple[Any, Any]:
    """(ruamel's round-trip YAML, the inventory's document): read before the farm is, so a file that cannot take
    the overrides is one message before any host is asked."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError

    yaml = YAML()  # round-trip: comments and key order survive
    yaml.preserve_quotes = True
    raw = read_file(path, "inventory file", field="--write-overrides")  # a regular file, size-capped
    try:
        data = yaml.load(raw.decode("utf-8"))
    except (UnicodeDecodeError, YAMLError) as exc:
        raise ConfigError(
            str(path),
            "--write-overrides",
            f"an inventory in UTF-8 YAML ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'unreadable'})",
        ) from None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, dict):
        raise ConfigError(str(path), "(top level)", "an inventory mapping to add `overrides:` to")
    return yaml, data


def write_overrides(path: Path, merge: tuple[Any, Any], proposed: dict[str, Any]) -> None:
    """Merge the overrides into the inventory read by inventory_to_merge, keeping its comments, order and other
    keys (ruamel.yaml), written atomically."""
    from ruamel.yaml.comments import CommentedMap

    yaml, data = merge
    overrides = data.get("overrides")
    if not isinstance(overrides, CommentedMap):  # round-trip loading makes every mapping one; absent or empty: new
        overrides = data["overrides"] = CommentedMap()
    for key, (value, how) in proposed.items():
        overrides[key] = value
        overrides.yaml_set_comment_before_after_key(key, before=how, indent=2)
    text = io.StringIO()
    yaml.dump(data, text)
    write_atomically(path, text.getvalue())  # a failure leaves the inventory as it was


def _record_file(text: str) -> Path:
    """The file a record NAME stands for (NAME.json): NAME not blank and one line (config.schema), else one
    argparse message; an empty NAME is never taken as no NAME."""
    problem = line_problem(text, "NAME") or (None if text.strip() else "a record name, but it is blank")
    if problem:
        raise argparse.ArgumentTypeError(f"expected {problem}, got {text!r}")
    return discovery.record_path(text)


def _record_name(text: str) -> str:
    """--record NAME: NAME.json must be a file gpverify can write, checked before the farm is read."""
    try:
        output_file(_record_file(text), "--record", "a record file to write (NAME.json)")
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(f"expected {exc.expected}") from None
    return text


def _diff_name(text: str) -> str:
    """--diff NAME: NAME.json must be a record gpverify can read (a regular file), checked before the farm is read."""
    problem = file_problem(_record_file(text), "record written by `gpverify discover --record NAME` (NAME.json)")
    if problem:
        raise argparse.ArgumentTypeError(f"expected {problem}")
    return text


def cmd_discover(ns: argparse.Namespace) -> int:
    if bool(ns.lab) == bool(ns.inventory):
        raise ConfigError("gpverify discover", "--inventory", "an inventory file, or --lab [SCENARIO] (one of them)")
    ns.merge = inventory_to_merge(Path(ns.write_overrides)) if ns.write_overrides else None
    if ns.lab:
        from gpverify import extension

        with extension.lab().temporary_lab(ns.lab, prefix="gpverify-discover-") as lab:
            return _run(open_farm(lab.inventory_path), ns)
    return _run(open_farm(ns.inventory), ns)


def _run(farm: Farm, ns: argparse.Namespace) -> int:
    text, proposed = discover(farm, ns.record, ns.diff)
    print(text)
    if ns.write_overrides:
        if not proposed:
            raise ConfigError("gpverify discover", "--write-overrides", "overrides found on this farm (none were)")
        write_overrides(Path(ns.write_overrides), ns.merge, proposed)
        print(f"wrote {len(proposed)} override(s) into {ns.write_overrides}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `gpverify discover`."""
    p = sub.add_parser("discover", help=HELP["discover"])
    p.add_argument("--inventory", help="inventory YAML of the farm")
    p.add_argument(
        "--lab",
        nargs="?",
        const="healthy",
        default=None,
        metavar="SCENARIO",
        help="discover on a simulated lab started for this command (default scenario: healthy)",
    )
    p.add_argument(
        "--record",
        metavar="NAME",
        type=_record_name,
        help="write what Session Management holds to NAME.json, e.g. "
        "before suspending one host in the Session Management snap-in",
    )
    p.add_argument(
        "--diff",
        metavar="NAME",
        type=_diff_name,
        help="compare with the record NAME.json: the value that changed on the "
        "one host suspended in between is the flag Suspend sets",
    )
    p.add_argument(
        "--write-overrides",
        metavar="FILE",
        type=in_file("inventory file to merge the overrides into"),
        help="merge the overrides found into this inventory file (comments and other keys are kept)",
    )
    p.set_defaults(func=cmd_discover)
