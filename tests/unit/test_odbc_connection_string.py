"""Connection strings for Microsoft's ODBC drivers, target validation, and one-line failure causes."""

from __future__ import annotations

import importlib.abc
import sys
from dataclasses import replace

import pytest

from gpverify.errors import ConfigError, SqlUnavailable
from gpverify.transport.odbc import (
    SqlConnection,
    SqlTarget,
    connection_string,
    driver_major,
    explain_connect,
    explain_query,
    load_pyodbc,
)

PASSWORD = "S3cr;et}pw"
D18 = "ODBC Driver 18 for SQL Server"
D17 = "ODBC Driver 17 for SQL Server"
WINDOWS = SqlTarget(D18, "tcp:GPSQL01,1433", "DYNAMICS", "windows", None, None)
SQL_LOGIN = SqlTarget(D17, "GPSQL01\\GP", "TWO", "sql", "audit_ro", PASSWORD, encrypt="no", read_only_intent=False)

CASES = {
    "18-windows": (WINDOWS, "Driver={ODBC Driver 18 for SQL Server};Server=tcp:GPSQL01,1433;Database=DYNAMICS;"
                            "Trusted_Connection=yes;Encrypt=yes;TrustServerCertificate=no;ApplicationIntent=ReadOnly;"
                            "APP=gpverify;"),
    "18-host-name-in-certificate": (
        replace(WINDOWS, host_name_in_certificate="gpsql01.corp.example", trust_server_certificate=True),
        "Driver={ODBC Driver 18 for SQL Server};Server=tcp:GPSQL01,1433;Database=DYNAMICS;Trusted_Connection=yes;"
        "Encrypt=yes;TrustServerCertificate=yes;HostnameInCertificate=gpsql01.corp.example;"
        "ApplicationIntent=ReadOnly;APP=gpverify;"),
    "18-strict": (replace(WINDOWS, encrypt="Strict"),
                  "Driver={ODBC Driver 18 for SQL Server};Server=tcp:GPSQL01,1433;Database=DYNAMICS;"
                  "Trusted_Connection=yes;Encrypt=strict;TrustServerCertificate=no;ApplicationIntent=ReadOnly;"
                  "APP=gpverify;"),
    "17-sql-login-braces": (SQL_LOGIN, "Driver={ODBC Driver 17 for SQL Server};Server=GPSQL01\\GP;Database=TWO;"
                                       "UID=audit_ro;PWD={S3cr;et}}pw};Encrypt=no;TrustServerCertificate=no;"
                                       "APP=gpverify;"),
    "odd-names-braced": (replace(SQL_LOGIN, database="odd;db", user="a}b", password="plain"),
                         "Driver={ODBC Driver 17 for SQL Server};Server=GPSQL01\\GP;Database={odd;db};UID={a}}b};"
                         "PWD={plain};Encrypt=no;TrustServerCertificate=no;APP=gpverify;"),
}


@pytest.mark.parametrize(("target", "expected"), CASES.values(), ids=CASES.keys())
def test_connection_string(target: SqlTarget, expected: str) -> None:
    assert connection_string(target) == expected


REFUSED = {
    "17-host-name": (replace(SQL_LOGIN, host_name_in_certificate="x.example"),
                     "inventory: sql.host_name_in_certificate: unset with 'ODBC Driver 17 for SQL Server' "
                     "(HostnameInCertificate needs ODBC Driver 18)"),
    "17-strict": (replace(SQL_LOGIN, encrypt="strict"),
                  "inventory: sql.encrypt: not 'strict' with 'ODBC Driver 17 for SQL Server' (TDS 8.0 needs Driver 18)"),
    "bad-encrypt": (replace(WINDOWS, encrypt="true"),
                    "inventory: sql.encrypt: one of yes, no, mandatory, optional, strict, got 'true'"),
    "sql-no-user": (replace(SQL_LOGIN, user=None), "inventory: sql.user: a login name when authentication is 'sql'"),
    "sql-no-password": (replace(SQL_LOGIN, password=None),
                        "inventory: sql.password_env: an environment variable holding the SQL login's password"),
}


@pytest.mark.parametrize(("target", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_unusable_targets_are_config_errors(target: SqlTarget, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        connection_string(target)
    assert str(exc.value) == message


def test_password_is_not_in_repr_or_str() -> None:
    assert PASSWORD not in repr(SQL_LOGIN) and PASSWORD not in str(SQL_LOGIN)
    assert "password" not in repr(SQL_LOGIN)


@pytest.mark.parametrize(("driver", "major"), [(D18, 18), (D17, 17), ("odbc driver 18 for sql server", 18),
                                               ("SQL Server", None), ("SQL Server Native Client 11.0", None)])
def test_driver_major(driver: str, major: int | None) -> None:
    assert driver_major(driver) == major


# Diagnostics as Microsoft's driver and unixODBC print them. The unixODBC one was seen here; the msodbcsql
# ones follow the shape of public reports (not verified against a real SQL Server).
CAUSES = {
    "driver-missing": (
        "01000", "[01000] [unixODBC][Driver Manager]Can't open lib 'ODBC Driver 17 for SQL Server' : file not found "
                 "(0) (SQLDriverConnect)",
        "ODBC driver 'ODBC Driver 17 for SQL Server' is not installed on this machine: install Microsoft ODBC "
        "Driver 18 for SQL Server"),
    "windows-no-driver": (
        "IM002", "[IM002] [Microsoft][ODBC Driver Manager] Data source name not found and no default driver "
                 "specified (0) (SQLDriverConnect)",
        "ODBC driver 'ODBC Driver 17 for SQL Server' is not installed on this machine: install Microsoft ODBC "
        "Driver 18 for SQL Server"),
    "driver-unloadable": (
        "01000", "[01000] [unixODBC][Driver Manager]Can't open lib '/opt/microsoft/msodbcsql17/lib64/libmsodbcsql-17.so'"
                 " : libssl.so.1.1: cannot open shared object file (0) (SQLDriverConnect)",
        "ODBC driver 'ODBC Driver 17 for SQL Server' is registered but cannot be loaded (Can't open lib "
        "'/opt/microsoft/msodbcsql17/lib64/libmsodbcsql-17.so' : libssl.so.1.1: cannot open shared object file): "
        "reinstall it"),
    "database-missing": (
        "42000", '[42000] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Cannot open database "TWO" requested '
                 "by the login. The login failed. (4060) (SQLDriverConnect)",
        "database 'TWO' does not exist or cannot be opened: check the name and that login 'audit_ro' has access to it"),
    "login-failed": (
        "28000", "[28000] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Login failed for user 'audit_ro'. "
                 "(18456) (SQLDriverConnect)",
        "login failed for login 'audit_ro' on GPSQL01\\GP: check the account, its password and its SQL Server "
        "login"),
    "untrusted-certificate": (
        "08001", "[08001] [Microsoft][ODBC Driver 17 for SQL Server]SSL Provider: [error:0A000086:SSL routines::"
                 "certificate verify failed:self-signed certificate] (-1) (SQLDriverConnect)",
        "SQL Server GPSQL01\\GP presented a TLS certificate this machine does not trust (ODBC Driver 18 "
        "validates it by default): install a trusted certificate or set sql.host_name_in_certificate"),
    "timeout": (
        "HYT00", "[HYT00] [Microsoft][ODBC Driver 17 for SQL Server]Login timeout expired (0) (SQLDriverConnect)",
        "cannot reach SQL Server GPSQL01\\GP within 15 s (SQLSTATE HYT00): check the server name, instance or "
        "port, the firewall, and that TCP/IP is enabled"),
    "link-failure": (
        "08S01", "[08S01] [Microsoft][ODBC Driver 17 for SQL Server]Communication link failure (0) (SQLDriverConnect)",
        "cannot reach SQL Server GPSQL01\\GP within 15 s (SQLSTATE 08S01): check the server name, instance or "
        "port, the firewall, and that TCP/IP is enabled"),
    "other-scrubbed": (
        "HY000", f"[HY000] [vendor]odd failure with PWD={{{PASSWORD.replace('}', '}}')}}};APP=x and {PASSWORD} "
                 "(5) (SQLDriverConnect); [01000] second record",
        "ODBC error HY000: odd failure with PWD=***;APP=x and ***"),
}


@pytest.mark.parametrize(("sqlstate", "message", "cause"), CAUSES.values(), ids=CAUSES.keys())
def test_connect_failures_get_one_line_causes(sqlstate: str, message: str, cause: str) -> None:
    explained = explain_connect(Exception(sqlstate, message), SQL_LOGIN)
    assert explained == cause
    assert PASSWORD not in explained and "Driver={" not in explained


@pytest.mark.parametrize(("sqlstate", "message", "cause"), [
    ("HYT00", "[HYT00] [Microsoft][ODBC Driver 17 for SQL Server]Query timeout expired (0) (SQLExecDirectW)",
     "query 'users' did not finish within 15 s"),
    ("42S02", "[42S02] [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Invalid object name 'ACTIVTY'. (208) "
              "(SQLExecDirectW)", "query 'users' failed: Invalid object name 'ACTIVTY'. (SQLSTATE 42S02)"),
    ("08S01", "[08S01] [Microsoft][ODBC Driver 17 for SQL Server]Communication link failure (0) (SQLExecDirectW)",
     "lost the connection to SQL Server GPSQL01\\GP during query 'users' (SQLSTATE 08S01)"),
])
def test_query_failures_get_one_line_causes(sqlstate: str, message: str, cause: str) -> None:
    assert explain_query(Exception(sqlstate, message), SQL_LOGIN, "users") == cause


class _NoOdbcManager(importlib.abc.MetaPathFinder):
    """Makes `import pyodbc` fail as it does on a machine without unixODBC."""

    def find_spec(self, name: str, *_: object) -> None:
        if name == "pyodbc":
            raise ImportError("libodbc.so.2: cannot open shared object file: No such file or directory")


def test_missing_unixodbc_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "pyodbc", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_NoOdbcManager(), *sys.meta_path])
    expected = "pyodbc cannot load the ODBC driver manager (libodbc.so.2): install unixODBC (apt-get install unixodbc)"
    with pytest.raises(ImportError, match=r"^pyodbc cannot load .*\(apt-get install unixodbc\)$"):
        load_pyodbc()
    with pytest.raises(SqlUnavailable) as exc:
        SqlConnection(WINDOWS).open()
    assert str(exc.value) == f"DYNAMICS: {expected}"
