"""The lab's SQL Server through the real chain: pyodbc, unixODBC, the SQLite ODBC driver as Driver 18."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pyodbc = pytest.importorskip("pyodbc", reason="pyodbc needs unixODBC (apt-get install unixodbc)")

from gpverify.errors import SqlUnavailable, UnsafeQuery
from gpverify.lab.sql import (
    DRIVER_ALIAS,
    LabConnector,
    activate_odbcsysini,
    build_database,
    build_tempdb,
    lab_connector,
    sqlite_odbc_driver,
    write_odbcinst,
)
from gpverify.lab.tsql import transpile
from gpverify.transport.odbc import SqlConnection, SqlTarget, open_sql

PASSWORD = "S3cret;pw}"
WINDOWS = SqlTarget(DRIVER_ALIAS, "tcp:gpsql01,1433", "DYNAMICS", "windows", None, None)
SQL_LOGIN = SqlTarget(DRIVER_ALIAS, "gpsql01", "DYNAMICS", "sql", "audit_ro", PASSWORD)


def _target(database: str = "DYNAMICS", **changes: Any) -> SqlTarget:
    return replace(WINDOWS, database=database, **changes)


@pytest.fixture(scope="module")
def odbcsysini(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A test-private odbcinst.ini aliasing the SQLite driver (unixODBC keeps the first ODBCSYSINI read)."""
    try:
        sqlite_odbc_driver()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    directory = tmp_path_factory.mktemp("odbcsysini")
    write_odbcinst(directory)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ODBCSYSINI", str(directory))
        activate_odbcsysini(directory)  # same value; raises if unixODBC was bound elsewhere without the alias
        yield directory


@pytest.fixture
def lab(tmp_path: Path, odbcsysini: Path) -> Path:
    build_database(
        tmp_path / "DYNAMICS.sqlite",
        "system",
        {
            "ACTIVITY": [
                {
                    "USERID": "sa",
                    "CMPNYNAM": "Fabrikam, Inc.",
                    "SQLSESID": 7,
                    "LOGINDAT": "2026-11-24",
                    "LOGINTIM": datetime(1900, 1, 1, 8, 30),
                }
            ],
            "SY01500": [{"CMPANYID": 1, "CMPNYNAM": "Fabrikam, Inc.", "INTERID": "TWO", "SECOPTS": b"\x01"}],
        },
    )
    build_database(tmp_path / "TWO.sqlite", "company", {"SY00100": [{"CMPANYID": 1, "DBNAME": "TWO"}]})
    build_database(
        tmp_path / "GPCONFIGURATION.sqlite", "config", {"LabSessionHostRegistry": [{"MachineName": "gp-sh01"}]}
    )
    build_tempdb(
        tmp_path / "tempdb.sqlite",
        {
            "DEX_LOCK": [{"session_id": 7, "row_id": 3, "table_path_name": "TWO.dbo.GL00100"}],
            "DEX_SESSION": [{"sqlsvr_spid": 55}],
        },
    )
    return tmp_path


def test_padded_char_matches_like_sql_server(lab: Path) -> None:
    with open_sql(WINDOWS, LabConnector(lab)) as conn:
        trimmed = conn.query("user", "SELECT RTRIM(USERID) AS USERID FROM ACTIVITY WHERE USERID = ?", ["sa"])
        raw = conn.query("raw", "SELECT USERID, LEN(USERID) AS n FROM DYNAMICS..ACTIVITY WHERE USERID = N'sa'")
    assert trimmed == [{"USERID": "sa"}]
    assert raw == [{"USERID": "sa".ljust(15), "n": 2}]  # the transport leaves CHAR padding to the facts layer


def test_values_come_back_typed_like_sql_server(lab: Path) -> None:
    with open_sql(WINDOWS, LabConnector(lab)) as conn:
        [user] = conn.query("user", "SELECT LOGINDAT, LOGINTIM, ClientType, DEX_ROW_ID FROM ACTIVITY")
        [company] = conn.query("company", "SELECT INTERID, SECOPTS, CREATDDT FROM SY01500")
    assert user == {
        "LOGINDAT": datetime(2026, 11, 24),
        "LOGINTIM": datetime(1900, 1, 1, 8, 30),
        "ClientType": 0,
        "DEX_ROW_ID": 1,
    }
    assert company == {"INTERID": "TWO  ", "SECOPTS": b"\x01\0\0\0", "CREATDDT": datetime(1900, 1, 1)}


@pytest.mark.parametrize(
    "sql", ["SELECT session_id FROM tempdb..DEX_LOCK", "SELECT session_id FROM tempdb.dbo.DEX_LOCK"]
)  # table hints: refused by the guard
def test_tempdb_is_attached(lab: Path, sql: str) -> None:
    with open_sql(WINDOWS, LabConnector(lab)) as conn:
        assert conn.query("locks", sql) == [{"session_id": 7}]


def test_tempdb_joins_the_system_database(lab: Path) -> None:
    sql = (
        "-- whose locks; as in KB 864411\n"
        "SELECT RTRIM(a.USERID) AS USERID, l.row_id FROM DYNAMICS.dbo.ACTIVITY a "
        "JOIN tempdb..DEX_LOCK l ON l.session_id = a.SQLSESID"
    )
    with open_sql(WINDOWS, LabConnector(lab)) as conn:
        assert conn.query("locks", sql) == [{"USERID": "sa", "row_id": 3}]


def test_without_tempdb_file_gp_tables_are_missing(lab: Path) -> None:
    (lab / "tempdb.sqlite").unlink()
    with open_sql(WINDOWS, LabConnector(lab)) as conn, pytest.raises(SqlUnavailable) as exc:
        conn.query("locks", "SELECT session_id FROM tempdb..DEX_LOCK")
    assert str(exc.value) == "DYNAMICS: query 'locks' failed: no such table: tempdb.DEX_LOCK (SQLSTATE HY000)"


@pytest.mark.parametrize(
    "sql", ["INSERT INTO ACTIVITY (USERID) VALUES ('x')", "DELETE FROM tempdb.DEX_LOCK", "CREATE TABLE t (x INT)"]
)
def test_lab_files_are_read_only(lab: Path, sql: str) -> None:
    raw = LabConnector(lab).connect(WINDOWS)  # SqlConnection.query would refuse these before the driver
    try:
        with pytest.raises(pyodbc.Error, match="attempt to write a readonly database"):
            raw.cursor().execute(sql, ())
    finally:
        raw.close()


def test_query_refuses_writes_before_they_reach_the_driver(lab: Path) -> None:
    with open_sql(WINDOWS, LabConnector(lab)) as conn, pytest.raises(UnsafeQuery) as exc:
        conn.query("cleanup", "DELETE FROM tempdb..DEX_LOCK")
    assert str(exc.value) == "cleanup: is not a read-only query (DELETE statement)"


def test_database_names_are_case_insensitive(lab: Path) -> None:
    with open_sql(_target("two"), LabConnector(lab)) as conn:
        assert conn.query("db", "SELECT RTRIM(DBNAME) AS DBNAME FROM SY00100") == [{"DBNAME": "TWO"}]
    with open_sql(_target("GPCONFIGURATION"), LabConnector(lab)) as conn:
        assert conn.query(
            "hosts", "SELECT RTRIM(MachineName) AS h, IsSuspended AS Suspended FROM [LabSessionHostRegistry]"
        ) == [{"h": "gp-sh01", "Suspended": None}]


@pytest.mark.parametrize("database", ["NOPE", "../DYNAMICS"])
def test_missing_database_is_sql_unavailable(lab: Path, database: str) -> None:
    with pytest.raises(SqlUnavailable) as exc:
        open_sql(_target(database), LabConnector(lab))
    assert exc.value.database == database
    assert str(exc.value) == (
        f"{database}: database {database!r} does not exist or cannot be opened: "
        "check the name and that the Windows account running gpverify has access to it"
    )
    files = ["DYNAMICS.sqlite", "GPCONFIGURATION.sqlite", "TWO.sqlite", "tempdb.sqlite"]
    assert sorted(p.name for p in lab.iterdir()) == files  # nothing created


def test_unregistered_driver_is_sql_unavailable(lab: Path) -> None:
    with pytest.raises(SqlUnavailable) as exc:
        open_sql(_target(driver="ODBC Driver 17 for SQL Server"), LabConnector(lab))
    assert str(exc.value) == (
        "DYNAMICS: ODBC driver 'ODBC Driver 17 for SQL Server' is not installed on "
        "this machine: install Microsoft ODBC Driver 18 for SQL Server"
    )


def test_sql_login_with_the_right_password_connects(lab: Path) -> None:
    with open_sql(SQL_LOGIN, LabConnector(lab, password=PASSWORD)) as conn:
        assert conn.query("one", "SELECT 1 AS one") == [{"one": 1}]


def test_failed_login_never_shows_the_password(lab: Path) -> None:
    with pytest.raises(SqlUnavailable) as exc:
        open_sql(SQL_LOGIN, LabConnector(lab, password="another"))
    assert str(exc.value) == (
        "DYNAMICS: login failed for login 'audit_ro' on gpsql01: check the account, "
        "its password and its SQL Server login"
    )
    shown = f"{exc.value!s} {exc.value!r} {exc.value.args} {exc.getrepr(showlocals=True)}"
    assert PASSWORD not in shown and "PWD" not in shown and "Driver={" not in shown
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_unreachable_server_is_sql_unavailable(lab: Path) -> None:
    with pytest.raises(SqlUnavailable) as exc:
        open_sql(WINDOWS, LabConnector(lab, unreachable=True))
    assert str(exc.value) == (
        "DYNAMICS: cannot reach SQL Server tcp:gpsql01,1433 within 15 s "
        "(SQLSTATE HYT00): check the server name, instance or port, the firewall, "
        "and that TCP/IP is enabled"
    )


@pytest.mark.parametrize(
    ("fault", "cause"),
    [("unreachable", "cannot reach SQL Server"), ("login-failed", "login failed for the Windows account")],
)
def test_lab_connector_reads_faults_from_lab_json(
    lab: Path, fault: str, cause: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODBCSYSINI", str(lab))  # lab_connector sets ODBCSYSINI; undone after the test
    (lab / "lab.json").write_text(json.dumps({"fault": fault}))
    with pytest.raises(SqlUnavailable, match=f"^DYNAMICS: {cause}"):
        open_sql(WINDOWS, lab_connector(lab))


def test_query_errors_and_unnamed_columns(lab: Path) -> None:
    with SqlConnection(WINDOWS, LabConnector(lab)) as conn:
        failed = r"^DYNAMICS: query 'q' failed: no such table: ACTIVTY \(SQLSTATE HY000\)$"
        with pytest.raises(SqlUnavailable, match=failed):
            conn.query("q", "SELECT USERID FROM ACTIVTY")
        with pytest.raises(ValueError, match="every result column needs its own name"):
            conn.query("q", "SELECT USERID AS x, CMPNYNAM AS x FROM ACTIVITY")


TRANSPILED = {
    "tempdb-dots": ("SELECT session_id FROM tempdb..DEX_LOCK", "SELECT session_id FROM tempdb.DEX_LOCK"),
    "tempdb-dbo": ("SELECT * FROM TEMPDB.dbo.DEX_SESSION", "SELECT * FROM tempdb.DEX_SESSION"),
    "catalog-dots": (
        ("SELECT TOP (1) db_verMajor FROM DYNAMICS..DB_Upgrade WITH (NOLOCK) WHERE db_name = N'TWO'"),
        "SELECT db_verMajor FROM DB_Upgrade WHERE db_name = 'TWO' LIMIT 1",
    ),
    "three-part-column": (
        "SELECT DYNAMICS.dbo.ACTIVITY.USERID FROM [DYNAMICS].[dbo].[ACTIVITY]",
        'SELECT ACTIVITY.USERID FROM "ACTIVITY"',
    ),
    "len": (
        "SELECT LEN(N'ab  ') AS n, ISNULL(x, '') AS y FROM t",
        "SELECT LENGTH(RTRIM('ab  ')) AS n, COALESCE(x, '') AS y FROM t",
    ),
    "comment-dropped": ("-- a; b\nSELECT 1 AS one", "SELECT 1 AS one"),
}


@pytest.mark.parametrize(("tsql", "sqlite"), TRANSPILED.values(), ids=TRANSPILED.keys())
def test_transpile(tsql: str, sqlite: str) -> None:
    assert transpile(tsql) == sqlite


def test_build_refuses_unknown_tables_and_columns(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^ACTIVITY: unknown column 'USERNAME' \(columns: USERID, "):
        build_database(tmp_path / "D.sqlite", "system", {"ACTIVITY": [{"USERNAME": "sa"}]})
    with pytest.raises(ValueError, match=r"^T\.sqlite: no table 'SY00100' in this lab database"):
        build_database(tmp_path / "T.sqlite", "system", {"SY00100": []})
    with pytest.raises(ValueError, match=r"^ACTIVITY\.USERID \(char\(15\)\): needs a str of at most 15"):
        build_database(tmp_path / "D.sqlite", "system", {"ACTIVITY": [{"USERID": "x" * 16}]})


def test_odbcinst_aliases_the_sqlite_driver(tmp_path: Path, odbcsysini: Path) -> None:
    ini = write_odbcinst(tmp_path, alias="Lab Alias")
    assert ini.read_text().splitlines()[::2] == ["[Lab Alias]", f"Driver={sqlite_odbc_driver()}"]
    assert (tmp_path / "odbc.ini").read_text() == ""
    assert DRIVER_ALIAS in pyodbc.drivers()
    # unixODBC read ODBCSYSINI once (module fixture): another directory is not seen, and activation says so.
    with pytest.MonkeyPatch.context() as mp, pytest.raises(RuntimeError, match="reads the variable once"):
        mp.setenv("ODBCSYSINI", str(odbcsysini))
        activate_odbcsysini(tmp_path)
