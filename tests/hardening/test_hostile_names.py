"""Hostile names are data: whatever the inventory's host names and the profile overrides hold (quotes, $(...),
;, backticks, newlines, 300 characters, non-ASCII), the PowerShell sent is byte-identical and only the JSON
request differs; SQL values are bound as ? parameters and database names cannot break the connection string."""

from __future__ import annotations

import copy
import json
import re
from typing import Any, ClassVar, Self

import pytest
import yaml
from hardening_support import FIGURES, REPO, hardening_figures  # noqa: F401
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpverify.config.inventory import HOST_NAME, SqlSettings, host_specs, parse_inventory
from gpverify.config.profiles import load_profile
from gpverify.config.schema import CONTROL
from gpverify.errors import ConfigError
from gpverify.facts import collect
from gpverify.facts.collect import CollectJob, collect_host
from gpverify.facts.gpsql import GpSql
from gpverify.facts.windows import COLLECTOR_SCRIPT, STDIN_SEPARATOR, build_request
from gpverify.transport.base import CommandResult
from gpverify.transport.odbc import SqlTarget, connection_string

HOSTILE = [
    "gp-sh01",
    "O'Brien",
    'say "hi"',
    "$(Remove-Item C:\\ -Recurse)",
    "a;b; Stop-Computer",
    "`whoami`",
    "line1\nline2\r\n",
    "x" * 300,
    "ünïcødé-服务器-🙂",
    "'; DROP TABLE SY01500; --",
    "${env:PATH}",
    "@(1,2)",
    "\u0000nul",
    "}{;=",
    "-EncodedCommand AAAA",
    "\\\\server\\share",
    "%COMSPEC%",
    "|| calc",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=300))
# Profile identifiers whose string values travel to the host in the request.
STRING_KEYS = [
    "services.session_service.name",
    "services.session_service.display",
    "files.dynamics_exe",
    "files.dex_ini",
    "products.web_components",
    "certificates.trusted_publisher_store",
]
BASE_INVENTORY: dict[str, Any] = yaml.safe_load((REPO / "inventory.example.yml").read_text(encoding="utf-8"))


class _Recorder:
    """Stands in for the WinRM transport: records exactly what would be sent and answers '{}'."""

    sent: ClassVar[list[tuple[str, tuple[str, ...], bytes]]] = []

    def __init__(self, spec: Any, password: Any) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def run(self, command: str, args: list[str], stdin: bytes | None = None) -> CommandResult:
        self.sent.append((command, tuple(args), stdin or b""))
        return CommandResult(0, b"{}", b"")


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> type[_Recorder]:
    _Recorder.sent = []
    monkeypatch.setattr(collect, "get_transport_class", lambda name: _Recorder)
    return _Recorder


def _sent_for(names: list[str], overrides: dict[str, str], recorder: type[_Recorder]) -> list[tuple[Any, ...]]:
    data = copy.deepcopy(BASE_INVENTORY)
    data["session_hosts"] = [{"name": n} for n in names]
    data["overrides"] = overrides
    inventory = parse_inventory(data, "hostile.yml")
    profile = load_profile(inventory.profile, inventory.overrides, origin="hostile.yml")
    recorder.sent = []
    for spec in host_specs(inventory):
        request = build_request(spec.role, profile)
        collect_host(CollectJob(spec, request, None))
        sent = recorder.sent[-1]
        _, sep, payload = sent[2].partition(STDIN_SEPARATOR)
        assert sep and json.loads(payload) == request  # the request arrives intact, as data
        assert payload.isascii()  # no code page can garble it
    return recorder.sent


def _powershell(sent: list[tuple[Any, ...]]) -> set[tuple[Any, ...]]:
    """Command line and the script part of stdin: what PowerShell executes (the JSON request excluded)."""
    return {(command, args, stdin.partition(STDIN_SEPARATOR)[0]) for command, args, stdin in sent}


def test_powershell_sent_is_byte_identical_whatever_the_names(recorder: type[_Recorder]) -> None:
    plain = _powershell(_sent_for(["gp-sh01", "gp-sh02"], {}, recorder))
    assert len(plain) == 1 and next(iter(plain))[2] == COLLECTOR_SCRIPT.encode("ascii")
    for name in HOSTILE:
        # Host names are refused at load unless the runner can use them too (issue 14): letters, digits, - _ .
        # Profile values stay free text, and reach the host as data.
        host = name if re.fullmatch(HOST_NAME, name) else "gp-sh01"
        if host != name:
            with pytest.raises(ConfigError, match=r"session_hosts\[0\]\.name: expected a host name"):
                _sent_for([name, "gp-sh02"], {}, recorder)
        overrides = {key: name for key in STRING_KEYS}
        if CONTROL.search(name):  # NUL and other control characters are refused at load (issue 23), never sent
            with pytest.raises(ConfigError, match="control characters"):
                _sent_for([host, "gp-sh02"], overrides, recorder)
            continue
        assert _powershell(_sent_for([host, "gp-sh02"], overrides, recorder)) == plain, name
        FIGURES["fuzz cases run"] += 1


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=hostile_text, value=hostile_text)
def test_powershell_sent_is_byte_identical_for_any_text(name: str, value: str) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(collect, "get_transport_class", lambda n: _Recorder)
        FIGURES["fuzz cases run"] += 1
        try:
            sent = _sent_for([name, "gp-sh02-fixed"], {key: value for key in STRING_KEYS}, _Recorder)
        except ConfigError:
            return  # refused with one message (e.g. a duplicate or over-long name): never sent
        assert _powershell(sent) == {("powershell", sent[0][1], COLLECTOR_SCRIPT.encode("ascii"))}


# --- SQL ------------------------------------------------------------------------------------------------------


class _Cursor:
    def __init__(self, log: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.log, self.description = log, [("x",)]

    def execute(self, sql: str, params: tuple[Any, ...]) -> None:
        self.log.append((sql, params))

    def fetchall(self) -> list[Any]:
        return []

    def close(self) -> None:
        pass


class _Connector:
    def __init__(self) -> None:
        self.log: list[tuple[str, tuple[Any, ...]]] = []

    def connect(self, target: SqlTarget) -> Any:
        log = self.log

        class Conn:
            def cursor(self) -> _Cursor:
                return _Cursor(log)

            def close(self) -> None:
                pass

        return Conn()

    def translate(self, sql: str) -> str:
        return sql


@pytest.mark.parametrize("value", HOSTILE)
def test_sql_values_are_bound_parameters(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from gpverify.facts import gpsql

    connector = _Connector()
    monkeypatch.setattr(gpsql, "_connector", lambda settings: connector)
    sql = GpSql(SqlSettings(server="sql01"), load_profile("gp18.4"), None)
    sql.rows("DYNAMICS", "server_login", (value,))  # sql.web_client_login, a value from the inventory
    text, params = connector.log[-1]
    assert params == (value,) and "?" in text
    if len(value) > 3:
        assert value not in text


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_table_name_from_profile_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from gpverify.facts import gpsql

    connector = _Connector()
    monkeypatch.setattr(gpsql, "_connector", lambda settings: connector)
    columns = {
        "config_db.session_host_name_column": "MachineName",
        "config_db.session_host_suspended_column": "S",
        "config_db.session_host_status_time_column": "T",
    }
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$#@]{0,127}", value):
        # Refused when the inventory is loaded: bad input stops the run before any check or query.
        with pytest.raises(ConfigError, match=r"overrides\.config_db\.session_hosts_table: expected a table name"):
            load_profile("gp18.4", {"config_db.session_hosts_table": value, **columns})
        return
    profile = load_profile("gp18.4", {"config_db.session_hosts_table": value, **columns})
    sql = GpSql(SqlSettings(server="sql01"), profile, None)
    sql.rows("GPCONFIGURATION", "config_session_hosts")
    assert f"[{value}]" in connector.log[-1][0]  # a plain identifier: used, bracket-quoted


def _parse_connection_string(text: str) -> dict[str, str]:
    out, i = {}, 0
    while i < len(text):
        eq = text.index("=", i)
        key = text[i:eq]
        i = eq + 1
        if text[i : i + 1] == "{":
            j, value = i + 1, ""
            while True:
                if text[j] == "}" and text[j + 1 : j + 2] == "}":
                    value, j = value + "}", j + 2
                elif text[j] == "}":
                    break
                else:
                    value, j = value + text[j], j + 1
            i = j + 1
        else:
            j = text.index(";", i)
            value = text[i:j]
            i = j
        assert text[i] == ";"
        i += 1
        out[key] = value
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=128).filter(lambda s: "\x00" not in s)))
def test_database_names_cannot_inject_connection_string_keywords(database: str) -> None:
    FIGURES["fuzz cases run"] += 1
    target = SqlTarget("ODBC Driver 18 for SQL Server", "sql01", database, "windows", None, None)
    parsed = _parse_connection_string(connection_string(target))
    assert parsed["Database"].strip() == database.strip()
    assert set(parsed) == {
        "Driver",
        "Server",
        "Database",
        "Trusted_Connection",
        "Encrypt",
        "TrustServerCertificate",
        "ApplicationIntent",
        "APP",
    }
