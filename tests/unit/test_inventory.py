"""The inventory loader: valid files load; every kind of mistake gives one line naming file, field, expectation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gpverify.config.inventory import host_specs, load_inventory, parse_inventory
from gpverify.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
MINIMAL = {
    "farm": "Contoso",
    "profile": "gp18.4",
    "sql": {"server": "gpsql01"},
    "web_server": {"name": "gpweb01"},
    "session_hosts": [{"name": "gpsh01"}, {"name": "gpsh02"}],
}


def _with(**changes: object) -> dict[str, object]:
    data = yaml.safe_load(yaml.safe_dump(MINIMAL))
    data.update(changes)
    return data


def test_example_inventory_loads() -> None:
    inv = load_inventory(REPO / "inventory.example.yml")
    assert inv.sql.system_database == "DYNAMICS"
    assert [s.name for s in host_specs(inv) if s.role == "session_host"] == [
        "gpsh01.contoso.local",
        "gpsh02.contoso.local",
    ]


def test_defaults_name_the_system_and_configuration_databases() -> None:
    inv = parse_inventory(MINIMAL, "farm.yml")
    assert (inv.sql.system_database, inv.sql.config_database) == ("DYNAMICS", "GPCONFIGURATION")


def test_winrm_settings_layer_defaults_group_and_host() -> None:
    data = _with(winrm={"port": 5986, "user": "svc"}, groups={"session_hosts": {"transport": "basic"}})
    data["session_hosts"][1]["winrm"] = {"port": 15986}  # type: ignore[index]
    specs = {s.name: s for s in host_specs(parse_inventory(data, "farm.yml"))}
    assert specs["gpsh01"].winrm.transport == "basic" and specs["gpsh01"].winrm.port == 5986
    assert specs["gpsh02"].endpoint == "https://gpsh02:15986/wsman"
    assert specs["gpweb01"].winrm.transport == "ntlm" and specs["gpweb01"].winrm.user == "svc"


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        (_with(sesion_hosts=[]), "sesion_hosts", "a known field"),
        ({k: v for k, v in MINIMAL.items() if k != "sql"}, "sql", "this field is required"),
        (_with(session_hosts=[{"name": "a"}, {"name": "A"}]), "session_hosts", "appears twice"),
        (_with(clients=[{"name": "gpsh01"}]), "(top level)", "appears twice"),
        (_with(winrm={"port": 0}), "winrm.port", "greater than or equal to 1"),
        (_with(winrm={"port": "https"}), "winrm.port", "a valid integer"),
        (_with(session_hosts=[]), "session_hosts", "at least 1"),
        (
            _with(sql={"server": "x", "authentication": "sql"}),
            "sql",
            "for SQL authentication both 'user' and 'password_env'",
        ),
        (
            _with(winrm={"read_timeout": 5, "operation_timeout": 20}),
            "winrm",
            "a read_timeout longer than operation_timeout",
        ),
    ],
)
def test_mistakes_name_file_field_and_expectation(data: dict[str, object], field: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_inventory(data, "farm.yml")
    assert exc.value.file == "farm.yml"
    assert exc.value.field == field
    assert expected in exc.value.expected
    assert "\n" not in str(exc.value)


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "farm.yml"
    path.write_text("farm: x\nsql: [unclosed\n")
    with pytest.raises(ConfigError) as exc:
        load_inventory(path)
    assert exc.value.field.startswith("line ") and "valid YAML" in str(exc.value)


def test_unknown_profile_and_override_are_refused(tmp_path: Path) -> None:
    from gpverify.config.profiles import load_profile

    with pytest.raises(ConfigError, match="one of gp18.2, gp18.3, gp18.4"):
        load_profile("gp19")
    with pytest.raises(ConfigError, match=r"overrides\.services\.nope\.name"):
        load_profile("gp18.4", {"services.nope.name": "x"})


def test_broken_inventory_stops_pytest_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "farm.yml"
    path.write_text(yaml.safe_dump(_with(session_hosts=[{"name": "gpsh01"}, {"name": "gpsh01"}])))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(REPO / "checks" / "post"),
            "--inventory",
            str(path),
            "-p",
            "no:cacheprovider",
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 3  # bad input, as for every gpverify command
    assert f"gpverify: {path}: session_hosts: expected each host name once, but 'gpsh01' appears twice" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_missing_password_variable_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gpverify.facts.farm import open_farm

    monkeypatch.delenv("GPV_TEST_NOPE", raising=False)
    path = tmp_path / "farm.yml"
    path.write_text(yaml.safe_dump(_with(winrm={"password_env": "GPV_TEST_NOPE", "user": "svc"})))
    with pytest.raises(ConfigError, match="environment variable GPV_TEST_NOPE to be set"):
        open_farm(path)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"registry.odbc_dsn": "SOFTWARE\\ODBC"}, "overrides.registry.odbc_dsn"),
        ({"sql.config_sessions_table": "dbo.Sessions"}, "overrides.sql.config_sessions_table"),
        ({"era": "flash"}, "overrides.era"),
        ({"services.session_central.name": 3}, "overrides.services.session_central.name"),
    ],
)
def test_override_of_the_wrong_shape_is_bad_input(override: dict[str, object], field: str) -> None:
    from gpverify.config.profiles import load_profile

    with pytest.raises(ConfigError) as exc:
        load_profile("gp18.4", override, origin="farm.yml")
    assert exc.value.field == field
