"""Bad input, property-based: whatever the inventory, scenario, plan or waiver file holds, loading gives a valid
object or one ConfigError (file, field, expected), never another exception."""

from __future__ import annotations

import copy
import importlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hardening_support import FIGURES, REPO, hardening_figures  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpverify.config.inventory import Inventory, host_specs, load_inventory, parse_inventory
from gpverify.errors import ConfigError
from gpverify.lab.scenario import Scenario, load_scenario

EXAMPLES = 500
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "gp18.4",
            "ntlm",
            "https",
            "http",
            "never",
            "DYNAMICS",
            "gp-sh01",
            "x" * 300,
            "$(whoami)",
            "a'b\"c`d;e\nf",
            "ünïcødé",
            "2026-11-20",
            "GP-POST-002",
            "manual",
            "pre",
            "-1",
            "0",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)

VALID_INVENTORY: dict[str, Any] = yaml.safe_load((REPO / "inventory.example.yml").read_text(encoding="utf-8"))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(base: dict[str, Any], path: tuple[Any, ...], value: Any, key: str | None) -> Any:
    """Replace the node at path with value, or (key given) add a field there."""
    data = copy.deepcopy(base)
    if not path:
        return value
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if key is not None and isinstance(parent[path[-1]], dict):
        parent[path[-1]][key] = value
    else:
        parent[path[-1]] = value
    return data


def mutations(base: dict[str, Any]) -> st.SearchStrategy[Any]:
    """One valid document with one node replaced (or one field added) by arbitrary data."""
    return st.builds(
        _mutate,
        st.just(base),
        st.sampled_from(_paths(base)),
        values,
        st.one_of(st.none(), st.text(max_size=20), st.sampled_from(["password", "transport", "x"])),
    )


def _count() -> None:
    FIGURES["fuzz cases run"] += 1


def _write(text: str) -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, encoding="utf-8") as handle:
        handle.write(text)
    return Path(handle.name)


def _text_or_dump(data: Any) -> str:
    return data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)


keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
# Dates that look like dates and are none: day 0 or past the month's end, month 0 or 13, 29 February off leap years.
_IMPOSSIBLE = [(0, 1), (13, 1), (1, 0), (1, 32), (2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31), (12, 32)]
bad_dates = st.one_of(
    st.builds(lambda y, md: f"{y:04d}-{md[0]:02d}-{md[1]:02d}", st.integers(1900, 2100), st.sampled_from(_IMPOSSIBLE)),
    st.builds(
        lambda y: f"{y:04d}-02-29", st.integers(1900, 2100).filter(lambda y: y % 4 or (y % 100 == 0 and y % 400))
    ),
)
# JSON is YAML, but for the surrogate pairs json.dumps writes beyond the BMP: libyaml (the parser gpverify reads
# with) refuses "\\ud800" as an invalid escape, so the text here stays within the BMP.
_bmp_text = st.text(st.characters(codec="utf-8", max_codepoint=0xFFFF), max_size=10)
yaml_scalars = st.one_of(st.integers(), st.booleans(), _bmp_text).map(json.dumps)
duplicate_keys = st.builds(lambda k, a, b: f"{k}: {a}\nother: 1\n{k}: {b}\n", keys, yaml_scalars, yaml_scalars)
nested_duplicates = st.builds(lambda k, j: f"{k}:\n  {j}: 1\n  {j}: 2\n", keys, keys)
anchors = st.builds(
    lambda k, n, depth: "".join(
        f"{k}{i}: &{k}{i} [{', '.join([f'*{k}{i - 1}'] * n) if i else 'x'}]\n" for i in range(depth)
    ),
    keys,
    st.integers(1, 12),
    st.integers(1, 10),
)
yaml_texts = st.one_of(
    st.text(max_size=200),
    values.map(_text_or_dump),
    st.sampled_from(
        [
            "{",
            "- [",
            ": :",
            "\t",
            "a: *b",
            "!!python/object:os.system ls",
            "\x00",
            "%YAML 9.9\n---\n",
            "? [a]\n: b",
            "a: &x [*x]",
        ]
    ),
    bad_dates.map(lambda d: f"created: {d}\n"),
    duplicate_keys,
    nested_duplicates,
    anchors,
)


# --- inventory ----------------------------------------------------------------------------------------------


def _inventory_or_config_error(data: Any) -> None:
    _count()
    try:
        inv = parse_inventory(data, "fuzz.yml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.yml: ") and "expected" in str(exc)
        return
    assert isinstance(inv, Inventory)
    try:
        host_specs(inv)  # a valid inventory must give resolvable hosts
    except ConfigError:
        pass


@FUZZ
@given(values)
def test_inventory_from_arbitrary_data(data: Any) -> None:
    _inventory_or_config_error(data)


@FUZZ
@given(mutations(VALID_INVENTORY))
def test_inventory_with_one_node_changed(data: Any) -> None:
    _inventory_or_config_error(data)


@FUZZ
@given(yaml_texts)
def test_inventory_file_with_arbitrary_text(text: str) -> None:
    _count()
    path = _write(text)
    try:
        load_inventory(path)
    except ConfigError:
        pass
    finally:
        path.unlink()


@FUZZ
@given(st.one_of(bad_dates.map(lambda d: f"farm: {d}\n"), duplicate_keys, nested_duplicates))
def test_impossible_dates_and_duplicate_keys_are_always_refused(text: str) -> None:
    """Never a silent acceptance: a key given twice or a date that does not exist is named, whatever else."""
    _count()
    path = _write(text)
    try:
        with pytest.raises(ConfigError, match="each key once|a real date"):
            load_inventory(path)
    finally:
        path.unlink()


# --- scenario -------------------------------------------------------------------------------------------------

VALID_SCENARIO: dict[str, Any] = {
    "description": "fuzz",
    "base": "healthy",
    "era": "html",
    "proves": ["GP-POST-002"],
    "hosts": {"gp-sh02": {"services": {"session_service": {"status": "Stopped"}}, "fault": "slow"}},
    "sql": {"DYNAMICS": {"ACTIVITY": {"add": [{"USERID": "sa"}], "where": {}, "set": {}, "delete": False}}},
    "drop_databases": ["CONTO"],
    "sql_fault": None,
    "web_site": {"cert_days_left": 5, "down": False},
}


@FUZZ
@given(st.one_of(yaml_texts, mutations(VALID_SCENARIO).map(_text_or_dump)))
def test_scenario_file_gives_a_scenario_or_config_error(text: str) -> None:
    _count()
    path = _write(text)
    try:
        assert isinstance(load_scenario(str(path)), Scenario)
    except ConfigError as exc:
        assert "expected" in str(exc)
    finally:
        path.unlink()


# --- plan and waivers (other modules: tested when present) ---------------------------------------------------


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.skip(f"{module} is not in this tree yet, so its loader cannot be fuzzed")


@FUZZ
@given(
    data=st.one_of(
        values,
        st.just(
            {
                "phases": [
                    {"phase": "pre", "steps": [{"id": "s1", "kind": "manual", "title": "t", "instructions": ["do"]}]}
                ]
            }
        ),
    ),
    key=st.text(max_size=8),
    value=values,
)
def test_plan_gives_a_plan_or_config_error(data: Any, key: str, value: Any) -> None:
    plan = _optional("gpverify.runner.plan")
    _count()
    shape = plan.FarmShape({"gp-sh01": "session_host", "gp-web01": "web_server"}, "html")
    if isinstance(data, dict) and data.get("phases") and key:
        data = copy.deepcopy(data)
        data["phases"][0]["steps"][0][key] = value
    try:
        assert isinstance(plan.parse_plan(data, "plan.yml", shape), plan.Plan)
    except ConfigError as exc:
        assert str(exc).startswith("plan.yml: ")


WAIVER = {
    "check": "GP-POST-002",
    "host": "gp-sh02",
    "justification": "rebuild",
    "approver": "jane",
    "risk": "medium",
    "created": "2026-11-20",
    "expires": "2026-12-01",
}


@FUZZ
@given(
    st.one_of(
        yaml_texts,
        st.builds(lambda k, v: [{**WAIVER, k: v}], st.sampled_from([*WAIVER, "x"]), values).map(_text_or_dump),
    )
)
def test_waivers_give_waivers_or_config_error(text: str) -> None:
    waivers = _optional("gpverify.audit.waivers")
    _count()
    path = _write(text)
    try:
        assert isinstance(waivers.load_waivers(path), list)
    except ConfigError:
        pass
    finally:
        path.unlink()


def test_layered_winrm_settings_fail_as_config_error() -> None:
    _count()
    data = copy.deepcopy(VALID_INVENTORY)
    data["winrm"]["read_timeout"] = 5
    data["session_hosts"][0]["winrm"] = {"operation_timeout": 10}
    with pytest.raises(ConfigError, match=r"\.winrm: expected a read_timeout longer than operation_timeout"):
        host_specs(parse_inventory(data, "fuzz.yml"), "fuzz.yml")


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutations(VALID_SCENARIO).map(_text_or_dump))
def test_a_loadable_scenario_runs_on_a_lab(text: str) -> None:
    """A scenario the loader accepts starts a lab and serves a collection, or is refused as a ConfigError."""
    from gpverify.facts.farm import open_farm
    from gpverify.lab.runtime import temporary_lab

    _count()
    path = _write(text)
    try:
        scenario = load_scenario(str(path))
    except ConfigError:
        return
    finally:
        path.unlink()
    try:
        with temporary_lab(scenario) as lab:
            farm = open_farm(lab.inventory_path)
            names = [n for n in farm.specs if n != "gp-sh02"][:2]  # gp-sh02 carries the slow fault of the base
            farm.collect(names)
            assert set(names) <= set(farm.collected())
    except ConfigError:
        pass
