"""The declarative check format: one strict schema; a mistake is one message naming the file, field and what was
expected, and a query that is not one read-only SELECT is refused when the file is read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpverify.declarative.facts import queries
from gpverify.declarative.schema import check_files, load_check_file
from gpverify.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "custom_checks" / "acme.checks.yml"
BASE = {"id": "ACME-100", "title": "A check.", "impact": "high", "remediation": "Fix it."}


def _write(tmp_path: Path, check: dict[str, Any] | None = None, text: str | None = None) -> Path:
    path = tmp_path / "site.checks.yml"
    path.write_text(text if text is not None else yaml.safe_dump({"checks": [check]}), encoding="utf-8")
    return path


def test_the_example_file_has_one_check_of_each_kind() -> None:
    checks = load_check_file(EXAMPLE).checks
    assert [c.kind for c in checks] == ["service", "product", "registry", "file", "certificate", "sql"]
    assert [c.role for c in checks] == ["session_host", "web_server", "session_host", "web_server", "web_server", "sql"]
    assert all("https://learn.microsoft.com/" in c.remediation for c in checks)


def test_each_kind_asks_its_role_for_its_facts_under_a_key_of_its_own() -> None:
    asked = queries(load_check_file(EXAMPLE).checks)
    assert asked["session_host"]["services"] == [
        {"key": "check:ACME-011", "names": ["GPDexterityServiceControl"], "display": []}
    ]
    assert asked["session_host"]["registry"] == [
        {"key": "check:ACME-013", "name": "Driver", "view": "32", "path": r"SOFTWARE\ODBC\ODBC.INI\Dynamics GP"}
    ]
    assert asked["web_server"]["products"] == [{"key": "check:ACME-012", "pattern": "*Dynamics GP Web Components*"}]
    assert asked["web_server"]["files"][0]["path"].startswith("%ProgramFiles%\\")
    assert asked["web_server"]["certificates"] == [{"key": "check:ACME-015", "store": "LocalMachine\\My"}]
    assert "sql" not in asked  # a query runs on the SQL Server, not through a host's collector


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"impact": "High"}, "checks[0].impact", "'critical', 'high', 'medium' or 'low', got 'High'"),
        ({"servce": {"name": "x"}}, "checks[0].servce", "did you mean 'service'?"),
        ({"id": "GP-POST-002"}, "checks[0].id", "a prefix of your own"),
        ({"id": "ACME 1"}, "checks[0].id", "a check ID such as ACME-001"),
        ({"title": 5}, "checks[0].title", "a valid string, got 5"),
        ({"service": {"name": "x", "state": "running"}}, "checks[0].service.state", "'Running', 'Stopped' or 'Paused'"),
        ({"service": {"state": "Running"}}, "checks[0].service", "a service's name or display"),
        ({"service": {"name": "x", "installed": "no"}}, "checks[0].service.installed", "a valid boolean"),
        ({"product": {"name": "*GP*", "min_version": "18.4.x"}}, "checks[0].product.min_version", "a version of one"),
        (
            {"product": {"name": "*GP*", "min_version": "18.4", "version": "18.4.1"}},
            "checks[0].product",
            "min_version or version, not both",
        ),
        ({"registry": {"path": "HKCU\\Software\\X", "name": "Y"}}, "checks[0].registry.path", "HKEY_LOCAL_MACHINE"),
        ({"registry": {"path": "SOFTWARE\\X", "name": "Y", "view": True}}, "checks[0].registry.view", "'64' or '32'"),
        (
            {"registry": {"path": "SOFTWARE\\X", "name": "Y", "value": True}},
            "checks[0].registry.value",
            "text (up to 2000 characters) or a whole number, got True",
        ),
        ({"file": {"path": "Dynamics.exe"}}, "checks[0].file.path", "a full Windows path"),
        ({"file": {"path": "C:\\GP\\*.exe"}}, "checks[0].file.path", "without wildcards"),
        (
            {"certificate": {"store": "CurrentUser\\My", "subject": "CN=*"}},
            "checks[0].certificate.store",
            "a machine certificate store",
        ),
        ({"certificate": {"store": "LocalMachine\\My"}}, "checks[0].certificate", "subject"),
        (
            {"certificate": {"store": "LocalMachine\\My", "subject": "CN=*", "min_days_left": 99999}},
            "checks[0].certificate.min_days_left",
            "less than or equal to 3650",
        ),
        (
            {"certificate": {"store": "LocalMachine\\My", "subject": "CN=*", "min_days_left": True}},
            "checks[0].certificate.min_days_left",
            "a valid integer",
        ),
        ({"role": None, "service": {"name": "x"}}, "checks[0]", "a role for a service check"),
        ({"role": "sql", "service": {"name": "x"}}, "checks[0]", "a role for a service check"),
        (
            {"role": "web_server", "service": {"name": "x"}, "file": {"path": "C:\\x"}},
            "checks[0]",
            "exactly one of service, product, registry, file, certificate, sql (found service and file)",
        ),
        ({"role": "web_server"}, "checks[0]", "(found none)"),
        ({"sql": {"query": "SELECT 1"}}, "checks[0].sql", "rows, min_rows or max_rows"),
        ({"sql": {"query": "SELECT 1", "rows": -1}}, "checks[0].sql.rows", "greater than or equal to 0"),
        ({"sql": {"query": "SELECT 1", "min_rows": 3, "max_rows": 2}}, "checks[0].sql", "min_rows (3) at most"),
        ({"sql": {"query": "SELECT 1", "rows": 0}, "role": "web_server"}, "checks[0]", "role sql for a sql check"),
        ({"sql": {"query": "SELECT 1", "rows": 0, "database": "x;DROP"}}, "checks[0].sql.database", "a database name"),
    ],
)
def test_a_mistake_is_one_message_naming_file_field_and_expectation(
    tmp_path: Path, change: dict[str, Any], field: str, expected: str
) -> None:
    check = {**BASE, "role": "session_host", **change}
    path = _write(tmp_path, {k: v for k, v in check.items() if v is not None})
    with pytest.raises(ConfigError) as caught:
        load_check_file(path)
    assert caught.value.file == str(path) and caught.value.field == field, str(caught.value)
    assert expected in caught.value.expected, str(caught.value)


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("DELETE FROM ACTIVITY", "DELETE statement"),
        ("SELECT * INTO x FROM ACTIVITY", "SELECT ... INTO"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("EXEC sp_who", "EXEC"),
        ("SELECT * FROM OPENROWSET('SQLNCLI', 'x', 'y')", "OPENROWSET"),
        ("SELECT 1 SHUTDOWN", "SHUTDOWN"),
    ],
)
def test_a_query_that_is_not_one_read_only_select_is_refused_when_the_file_is_read(
    tmp_path: Path, query: str, reason: str
) -> None:
    path = _write(tmp_path, {**BASE, "sql": {"query": query, "rows": 0}})
    with pytest.raises(ConfigError) as caught:
        load_check_file(path)
    assert caught.value.field == "checks[0].sql.query"
    assert caught.value.expected.startswith("a read-only SELECT query; this one") and reason in caught.value.expected


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("checks: []\n", "checks", "at least 1 entry"),
        ("- a\n", "(top level)", "a mapping with 'checks:'"),
        ("checks: [\n", "line 2", "valid YAML"),
        ("description: x\nchecks: [{}]\n", "description", "a known field"),
    ],
)
def test_a_file_that_is_not_a_list_of_checks_is_refused(tmp_path: Path, text: str, field: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_check_file(_write(tmp_path, text=text))
    assert caught.value.field == field and expected in caught.value.expected, str(caught.value)


def test_an_id_twice_in_a_file_is_refused(tmp_path: Path) -> None:
    one = {**BASE, "sql": {"query": "SELECT 1", "rows": 1}}
    path = tmp_path / "x.checks.yml"
    path.write_text(yaml.safe_dump({"checks": [one, {**one, "id": "acme-100"}]}), encoding="utf-8")
    with pytest.raises(ConfigError, match="each check ID once, but 'acme-100' appears twice"):
        load_check_file(path)


def test_numbers_written_where_text_is_meant_read_as_written(tmp_path: Path) -> None:
    text = (
        "checks:\n- {id: ACME-1, title: t, impact: low, remediation: r, role: web_server,\n"
        "   product: {name: '*GP*', min_version: 18.10}}\n"
        "- {id: ACME-2, title: t, impact: low, remediation: r, role: client,\n"
        "   registry: {path: 'SOFTWARE\\X', name: Y, view: 32, value: 1}}\n"
    )
    product, registry = load_check_file(_write(tmp_path, text=text)).checks
    assert product.product.min_version == "18.10"  # type: ignore[union-attr]
    assert registry.registry.view == "32" and registry.registry.value == 1  # type: ignore[union-attr]


def test_only_files_named_checks_yml_are_check_files(tmp_path: Path) -> None:
    for name in ("a.checks.yml", "sub/b.checks.yaml", "overlay.yml", ".hidden/c.checks.yml", "d.yml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert [p.relative_to(tmp_path).as_posix() for p in check_files(tmp_path)] == ["a.checks.yml", "sub/b.checks.yaml"]


_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**6),
    st.text(max_size=12),
    st.sampled_from(["Running", "Auto", "LocalMachine\\My", "SELECT 1", "session_host", "sql"]),
)
_keys = st.sampled_from(
    [
        "id",
        "title",
        "impact",
        "remediation",
        "role",
        "phase",
        "service",
        "product",
        "registry",
        "file",
        "certificate",
        "sql",
        "name",
        "path",
        "query",
        "rows",
        "store",
        "subject",
        "x",
    ]
)


def _nested(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=3) | st.dictionaries(_keys, children, max_size=5)


_values = st.recursive(_leaf, _nested, max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(st.sampled_from(["checks", "other"]), _values, max_size=2))
def test_any_document_is_read_or_refused_with_one_message(tmp_path: Path, document: dict[str, Any]) -> None:
    path = _write(tmp_path, text=yaml.safe_dump(document))
    try:
        load_check_file(path)
    except ConfigError as exc:
        assert str(exc).startswith(f"{path}: ") and "Traceback" not in str(exc)


def test_the_readme_example_of_every_kind_is_a_valid_check_file(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Checks without Python") :]
    block = section[section.index("```yaml\nchecks:") + len("```yaml\n") :]
    checks = load_check_file(_write(tmp_path, text=block[: block.index("```")])).checks
    assert [c.kind for c in checks] == ["service", "product", "registry", "file", "certificate", "sql"]
