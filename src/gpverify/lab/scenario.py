"""Lab scenarios: named or file overlays that change the lab farm or inject a fault."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpverify.errors import ConfigError
from gpverify.lab.models import HOST_FAULTS, PRODUCT_NAMES, FakeCert, FakeFarm, FakeService, build_farm
from gpverify.yamlfile import config_error, parse_yaml, read_yaml


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HostChange(_Strict):
    """Changes to one host; keys are profile identifiers (services.<key>, files.<key>, ...)."""

    services: dict[str, dict[str, str] | None] = {}  # key -> changed fields, or null: not installed
    files: dict[str, str | None] = {}  # key -> file version, or null: file missing
    registry: dict[str, Any] = {}  # key -> value, or null: value missing
    products: dict[str, str | None] = {}  # key -> DisplayVersion, or null: not installed
    certificates: dict[str, list[dict[str, Any]]] = {}  # store key -> replacement certificate list;
    # each {subject, issuer, not_after (ISO date-time or days from now), chain_ok}
    fault: Literal[HOST_FAULTS] | None = None  # type: ignore[valid-type]


class RowChange(_Strict):
    add: list[dict[str, Any]] = []
    where: dict[str, Any] = {}
    set: dict[str, Any] = {}
    delete: bool = False


class WebSiteChange(_Strict):
    cert_names: list[str] | None = None
    cert_days_left: int | None = None
    missing_paths: list[str] = []
    down: bool = False


class Scenario(_Strict):
    """A scenario overlay file (format documented in src/gpverify/lab/SCENARIOS.md)."""

    description: str
    base: Literal["healthy", "before-upgrade"] = "healthy"
    era: Literal["html", "silverlight"] = "html"
    proves: list[str] = []  # IDs of the checks this scenario is made to fail
    hosts: dict[str, HostChange] = {}
    remove_hosts: list[str] = []
    sql: dict[str, dict[str, RowChange]] = {}  # database -> table -> change
    drop_databases: list[str] = []
    sql_fault: Literal["unreachable", "login-failed"] | None = None
    web_site: WebSiteChange = WebSiteChange()
    service_based_architecture: bool = True
    name: str = Field("", exclude=True)


def scenario_names() -> list[str]:
    files = resources.files(__package__).joinpath("scenarios").iterdir()
    return sorted(p.name[:-4] for p in files if p.name.endswith(".yml"))


def load_scenario(spec: str) -> Scenario:
    """A scenario by name (shipped) or by path to an overlay file."""
    if spec in scenario_names():
        text = resources.files(__package__).joinpath("scenarios").joinpath(f"{spec}.yml").read_text(encoding="utf-8")
        origin, name, data = f"scenario {spec}", spec, parse_yaml(text, f"scenario {spec}")
    elif Path(spec).is_file():
        origin, name, data = spec, Path(spec).stem, read_yaml(spec, "scenario file")
    else:
        close = difflib.get_close_matches(spec, scenario_names(), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "`gpverify lab --list` shows them"
        raise ConfigError("--lab", "scenario", f"a shipped scenario name or an overlay file, got {spec!r} ({hint})")
    if not isinstance(data, dict):
        raise ConfigError(origin, "(top level)", "a mapping with at least 'description'")
    try:
        return Scenario.model_validate({**data, "name": name})
    except ValidationError as exc:
        raise config_error(exc, origin, "src/gpverify/lab/SCENARIOS.md") from None


def _apply_host(farm: FakeFarm, name: str, change: HostChange) -> None:
    host, p = farm.host(name), farm.target
    for key, fields in change.services.items():
        if fields is None:
            host.services.pop(key, None)
        else:
            current = host.services.get(key) or FakeService(p[f"services.{key}.name"], key)
            host.services[key] = FakeService(**{**current.__dict__, **fields})
    for key, version in change.files.items():
        host.files[p[f"files.{key}"]] = None if version is None else version
    for key, value in change.registry.items():
        reg = p[f"registry.{key}"]
        host.registry[(reg["view"], reg["path"], reg["name"])] = value
    for key, version in change.products.items():
        if version is None:
            host.products.pop(PRODUCT_NAMES[key], None)
        else:
            host.products[PRODUCT_NAMES[key]] = version
    for key, certs in change.certificates.items():
        host.certificates[p[f"certificates.{key}"]] = [_cert(c) for c in certs]
    host.fault = change.fault or host.fault


def _cert(fields: dict[str, Any]) -> FakeCert:
    """A store certificate; not_after is an ISO date-time, or a number of days from now (negative: expired)."""
    when = fields.get("not_after")
    if isinstance(when, (int, float)):
        when = datetime.now(UTC) + timedelta(days=when)
    elif isinstance(when, str):
        when = datetime.fromisoformat(when)
    if isinstance(when, datetime) and when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return FakeCert(**{**fields, "not_after": when})


def _apply_rows(rows: list[dict[str, Any]], change: RowChange) -> list[dict[str, Any]]:
    def hit(row: dict[str, Any]) -> bool:
        return all(str(row.get(k)).strip() == str(v).strip() for k, v in change.where.items())

    kept = [r for r in rows if not (change.delete and hit(r))]
    updated = [{**r, **change.set} if change.set and hit(r) else r for r in kept]
    return updated + [dict(r) for r in change.add]


def apply_scenario(scenario: Scenario) -> FakeFarm:
    """Build the scenario's base farm and apply its changes."""
    farm = build_farm(scenario.era, "upgraded" if scenario.base == "healthy" else "before-upgrade")
    farm.service_based_architecture = scenario.service_based_architecture
    for name, change in scenario.hosts.items():
        _apply_host(farm, name, change)
    for name in scenario.remove_hosts:
        farm.hosts.pop(farm.host(name).name)
    for db, tables in scenario.sql.items():
        for table, rows in tables.items():
            farm.databases.setdefault(db, {})[table] = _apply_rows(farm.databases.get(db, {}).get(table, []), rows)
    for db in scenario.drop_databases:
        farm.databases.pop(db, None)
    farm.sql_fault = scenario.sql_fault
    site, web = farm.web_site, scenario.web_site
    site.cert_names = web.cert_names or site.cert_names
    site.cert_days_left = site.cert_days_left if web.cert_days_left is None else web.cert_days_left
    site.paths -= set(web.missing_paths)
    site.down = web.down
    return farm
