"""The scenario format's sql rows, inventory block and database states are typed (lab/scenario.py on the strict
schema base): a wrong type or unknown key is one ConfigError naming the file and field; shipped scenarios read
exactly as their YAML says."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from gpverify.errors import ConfigError
from gpverify.lab.scenario import LAB_TABLES, _row_changes, apply_scenario, load_scenario, scenario_names

# Per SQL Server type (lab/sql.py), values no column of it holds: text for numbers, numbers for text, past the
# type's range or width, booleans (YAML's yes/no), and what no date-time is.
WRONG: dict[str, list[Any]] = {
    "tinyint": ["1", True, 1.5, -1, 256, None],
    "smallint": ["1", False, 2.5, 2**15, -(2**15) - 1, None],
    "int": ["42", True, 0.5, 2**31, -(2**31) - 1, [1], None],
    "identity": ["1", 0, -1, 2**31, None],
    "char": [5, True, 1.5, {"a": 1}, None, "ok\x1b[31m"],
    "binary": ["text", 5, None],
    "numeric": ["1.0", True, math.inf, math.nan, None],
    "datetime": ["tomorrow", "2026-13-01 00:00:00", 20261130, True, None],
}


def _columns_of(kind: str) -> tuple[str, str, str]:
    """(table, column, declared type) of the first lab column of a kind."""
    for table, columns in LAB_TABLES.items():
        for column, sqltype in columns:
            if sqltype.partition("(")[0] == kind:
                return table, column, sqltype
    raise AssertionError(f"no lab column of type {kind}")


def _width_past(sqltype: str) -> str | bytes | None:
    """A value one past a fixed-width column's width (char: text, binary: bytes), else None."""
    kind, _, rest = sqltype.partition("(")
    if kind not in ("char", "binary"):
        return None
    size = int(rest.rstrip(")"))
    return "x" * (size + 1) if kind == "char" else b"\0" * (size + 1)


CASES = [
    pytest.param(kind, value, place, id=f"{kind}-{place}-{value!r}"[:60])
    for kind, values in WRONG.items()
    for value in [*values, *(v for v in [_width_past(_columns_of(kind)[2])] if v is not None)]
    for place in ("add", "where", "set")
]


def _load(tmp_path: Path, overlay: dict[str, Any]) -> Any:
    path = tmp_path / "overlay.yml"
    path.write_text(yaml.safe_dump({"description": "a typed overlay", **overlay}), encoding="utf-8")
    return path, lambda: apply_scenario(load_scenario(str(path)))


@pytest.mark.parametrize(("kind", "value", "place"), CASES)
def test_a_row_value_of_the_wrong_type_is_one_message(kind: str, value: Any, place: str, tmp_path: Path) -> None:
    table, column, _ = _columns_of(kind)
    row = {column: value}
    change = {"add": [row]} if place == "add" else {place: row}
    path, load = _load(tmp_path, {"sql": {"DYNAMICS": {table: change}}})
    with pytest.raises(ConfigError) as refused:
        load()
    where = f"sql.DYNAMICS.{table}.{'add[0]' if place == 'add' else place}.{column}"
    text = str(refused.value)
    assert text.startswith(f"{path}: {where}: expected") and "\n" not in text, text


@pytest.mark.parametrize(
    ("overlay", "field", "words"),
    [
        ({"sql": {"DYNAMICS": {"DB_Upgrade": {"where": {"PRODIDD": 0}}}}}, "where.PRODIDD", "did you mean 'PRODID'"),
        ({"sql": {"DYNAMICS": {"DB_Upgrad": {"delete": True}}}}, "sql.DYNAMICS.DB_Upgrad", "'DB_Upgrade'"),
        ({"sql": {"DYNAMICS": {"DB_Upgrade": None}}}, "sql.DYNAMICS.DB_Upgrade", "expected"),
        ({"sql": {"DYNAMICS": {"DB_Upgrade": {"remove": True}}}}, "DB_Upgrade.remove", "a known field"),
        ({"sql": {"DYNAMICS": {"DB_Upgrade": {"add": {"PRODID": 0}}}}}, "DB_Upgrade.add", "list"),
        ({"sql": {"DYNAMICS": {"DB_Upgrade": {"delete": "yes"}}}}, "DB_Upgrade.delete", "boolean"),
        ({"sql": {"DYNAMICS": ["DB_Upgrade"]}}, "sql.DYNAMICS", "a mapping"),
        ({"inventory": {"target_buld": "18.4.1461"}}, "inventory.target_buld", "did you mean 'target_build'"),
        ({"inventory": {"certificate_expiry_days": "30"}}, "inventory.certificate_expiry_days", "integer"),
        ({"inventory": {"backups": {"since": "yesterday"}}}, "inventory.backups.since", "date-time"),
        ({"inventory": {"backups": {"sinc": "2026-12-01"}}}, "inventory.backups.sinc", "a known field"),
        ({"inventory": {"overrides": ["x"]}}, "inventory.overrides", "expected"),
        ({"inventory": ["target_build"]}, "inventory", "a mapping"),
        ({"database_state": {"CONTO": {"state": "OFFLINE"}}}, "database_state.CONTO.state", "a known field"),
        ({"database_state": {"CONTO": {"compatibility_level": "150"}}}, "compatibility_level", "integer"),
        ({"database_state": {"CONTO": {"name": "OTHER"}}}, "database_state.CONTO.name", "a known field"),
    ],
)
def test_an_unknown_key_or_wrong_type_is_one_message(
    overlay: dict[str, Any], field: str, words: str, tmp_path: Path
) -> None:
    path, load = _load(tmp_path, overlay)
    with pytest.raises(ConfigError) as refused:
        load()
    text = str(refused.value)
    assert text.startswith(f"{path}: ") and field in text and words in text and "\n" not in text, text


@pytest.mark.parametrize("name", scenario_names())
def test_a_shipped_scenario_reads_as_its_yaml_says(name: str) -> None:
    """The typed form gives the lab exactly the rows, settings and states the file holds, nothing added or cast."""
    raw = yaml.safe_load(resources.files("gpverify.lab").joinpath("scenarios", f"{name}.yml").read_text("utf-8"))
    scenario = load_scenario(name)

    def given(change: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in change.items() if v not in ([], {}, False)}

    typed = {
        db: {t: given(c.model_dump()) for t, c in _row_changes(tables).items()} for db, tables in scenario.sql.items()
    }
    assert typed == {db: {t: given(c) for t, c in ts.items()} for db, ts in (raw.get("sql") or {}).items()}
    assert scenario.inventory.model_dump(mode="json", exclude_unset=True) == (raw.get("inventory") or {})
    states = {db: s.model_dump(exclude_unset=True) for db, s in scenario.database_state.items()}
    assert states == (raw.get("database_state") or {})


def test_every_lab_column_type_is_typed() -> None:
    """A type lab/sql.py declares that the format has no rule for would fail at import; this names each one."""
    kinds = {sqltype.partition("(")[0] for columns in LAB_TABLES.values() for _, sqltype in columns}
    assert kinds <= set(WRONG), kinds - set(WRONG)


@pytest.mark.parametrize(
    ("overlay", "field"),
    [
        ({"sql": {"DYNAMCIS": {"DB_Upgrade": {"delete": True}}}}, "sql.DYNAMCIS"),
        ({"database_state": {"TWOO": {"state_desc": "OFFLINE"}}}, "database_state"),
        ({"drop_databases": ["GPCONFIGURATON"]}, "drop_databases"),
        ({"empty_databases": ["TW0"]}, "empty_databases"),
    ],
    ids=["sql", "database_state", "drop_databases", "empty_databases"],
)
def test_a_database_the_lab_does_not_have_is_refused_by_name(
    tmp_path: Path, overlay: dict[str, Any], field: str
) -> None:
    # A misspelt database would change nothing (or make a database of its own): the scenario would not prove
    # what it says.
    path, load = _load(tmp_path, overlay)
    with pytest.raises(ConfigError) as exc:
        load()
    assert str(exc.value).startswith(f"{path}: {field}: expected a database of the lab ("), exc.value
    assert "a database of the lab (" in str(exc.value) and "DYNAMICS" in str(exc.value)


@pytest.mark.parametrize("value", [True, 1.5, -1, 2**64, {"a": 1}, [1]], ids=repr)
def test_a_registry_value_windows_cannot_hold_is_refused(tmp_path: Path, value: Any) -> None:
    # REG_DWORD/REG_QWORD (0 to 2**64 - 1), REG_SZ or REG_MULTI_SZ, or null: the value missing.
    path, load = _load(tmp_path, {"hosts": {"gp-cl01": {"registry": {"silverlight_trust_32": value}}}})
    with pytest.raises(ConfigError) as exc:
        load()
    assert str(exc.value).startswith(f"{path}: hosts.gp-cl01.registry.silverlight_trust_32"), exc.value


@pytest.mark.parametrize("value", [0, 1, 2**32 - 1, "GPWEBCLIENTSESSIONCENTRAL", ["a", "b"], None], ids=repr)
def test_a_registry_value_windows_holds_is_applied(tmp_path: Path, value: Any) -> None:
    _, load = _load(tmp_path, {"hosts": {"gp-cl01": {"registry": {"silverlight_trust_32": value}}}})
    farm = load()
    assert value in farm.host("gp-cl01").registry.values()
