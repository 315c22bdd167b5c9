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
TAIL_18 = "TrustServerCertificate=no;ApplicationIntent=ReadOnly;APP=gpverify;"
HEAD_18 = "Driver={ODBC Driver 18 for SQL Server};Server=tcp:GPSQL01,1433;Database=DYNAMICS;Trusted_Connection=yes;"
HEAD_17 = "Driver={ODBC Driver 17 for SQL Server};Server=GPSQL01\\GP;"

CASES = {
    "18-windows": (WINDOWS, f"{HEAD_18}Encrypt=yes;{TAIL_18}"),
    "18-host-name-in-certificate": (
        replace(WINDOWS, host_name_in_certificate="gpsql01.corp.example", trust_server_certificate=True),
        (
            f"{HEAD_18}Encrypt=yes;TrustServerCertificate=yes;HostnameInCertificate=gpsql01.corp.example;"
            "ApplicationIntent=ReadOnly;APP=gpverify;"
        ),
    ),
    "18-strict": (replace(WINDOWS, encrypt="Strict"), f"{HEAD_18}Encrypt=strict;{TAIL_18}"),
    "17-sql-login-braces": (
        SQL_LOGIN,
        (
            f"{HEAD_17}Database=TWO;UID=audit_ro;PWD={{S3cr;et}}}}pw}};Encrypt=no;TrustServerCertificate=no;"
            "APP=gpverify;"
        ),
    ),
    "odd-names-braced": (
        replace(SQL_LOGIN, database="odd;db", user="a}b", password="plain"),
        (
            f"{HEAD_17}Database={{odd;db}};UID={{a}}}}b}};PWD={{plain}};Encrypt=no;TrustServerCertificate=no;"
            "APP=gpverify;"
        ),
    ),
}


@pytest.mark.parametrize(("target", "expected"), CASES.values(), ids=CASES.keys())
def test_connection_string(target: SqlTarget, expected: str) -> None:
    assert connection_string(target) == expected


REFUSED = {
    "17-host-name": (
        replace(SQL_LOGIN, host_name_in_certificate="x.example"),
        "sql.host_name_in_certificate",
        f"unset with '{D17}' (HostnameInCertificate needs ODBC Driver 18)",
    ),
    "17-strict": (
        replace(SQL_LOGIN, encrypt="strict"),
        "sql.encrypt",
        f"yes, no, mandatory or optional with '{D17}' (strict, TDS 8.0, needs Driver 18)",
    ),
    "bad-encrypt": (
        replace(WINDOWS, encrypt="true"),
        "sql.encrypt",
        "one of yes, no, mandatory, optional, strict, got 'true'",
    ),
    "sql-no-user": (replace(SQL_LOGIN, user=None), "sql.user", "a login name when authentication is 'sql'"),
    "sql-no-password": (
        replace(SQL_LOGIN, password=None),
        "sql.password_env",
        "an environment variable holding the SQL login's password",
    ),
}


@pytest.mark.parametrize(("target", "field", "expected"), REFUSED.values(), ids=REFUSED.keys())
def test_unusable_targets_are_config_errors(target: SqlTarget, field: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        connection_string(target)
    assert (exc.value.file, exc.value.field, exc.value.expected) == ("inventory", field, expected)


def test_password_is_not_in_repr_or_str() -> None:
    assert PASSWORD not in repr(SQL_LOGIN) and PASSWORD not in str(SQL_LOGIN)
    assert "password" not in repr(SQL_LOGIN)


@pytest.mark.parametrize(
    ("driver", "major"),
    [
        (D18, 18),
        (D17, 17),
        ("odbc driver 18 for sql server", 18),
        ("SQL Server", None),
        ("SQL Server Native Client 11.0", None),
    ],
)
def test_driver_major(driver: str, major: int | None) -> None:
    assert driver_major(driver) == major


# Diagnostics as unixODBC (seen here) and Microsoft's driver print them; the msodbcsql texts follow the shape
# of public reports and were not checked against a real SQL Server.
MS = f"[Microsoft][{D17}]"
UNREACHABLE = "check the server name, instance or port, the firewall, and that TCP/IP is enabled"
NOT_INSTALLED = f"ODBC driver '{D17}' is not installed on this machine: install Microsoft ODBC Driver 18 for SQL Server"
UNIXODBC = "[unixODBC][Driver Manager]Can't open lib"
CAUSES = {
    "driver-missing": ("01000", f"[01000] {UNIXODBC} '{D17}' : file not found (0) (SQLDriverConnect)", NOT_INSTALLED),
    "windows-no-driver": (
        "IM002",
        (
            "[IM002] [Microsoft][ODBC Driver Manager] Data source name not found and no default driver "
            "specified (0) (SQLDriverConnect)"
        ),
        NOT_INSTALLED,
    ),
    "driver-unloadable": (
        "01000",
        (
            f"[01000] {UNIXODBC} '/opt/ms/odbc.so' : libssl.so.1.1: cannot open shared object file "
            "(0) (SQLDriverConnect)"
        ),
        (
            f"ODBC driver '{D17}' is registered but cannot be loaded (Can't open lib '/opt/ms/odbc.so' : "
            "libssl.so.1.1: cannot open shared object file): reinstall it"
        ),
    ),
    "database-missing": (
        "42000",
        (
            f'[42000] {MS}[SQL Server]Cannot open database "TWO" requested by the login. '
            "The login failed. (4060) (SQLDriverConnect)"
        ),
        (
            "database 'TWO' does not exist or cannot be opened: check the name and that login 'audit_ro' has "
            "access to it"
        ),
    ),
    "login-failed": (
        "28000",
        f"[28000] {MS}[SQL Server]Login failed for user 'audit_ro'. (18456) (SQLDriverConnect)",
        ("login failed for login 'audit_ro' on GPSQL01\\GP: check the account, its password and its SQL Server login"),
    ),
    "untrusted-certificate": (
        "08001",
        (
            f"[08001] {MS}SSL Provider: [error:0A000086:SSL routines::certificate verify failed:"
            "self-signed certificate] (-1) (SQLDriverConnect)"
        ),
        (
            "SQL Server GPSQL01\\GP presented a TLS certificate this machine does not trust (ODBC Driver 18 "
            "validates it by default): install a trusted certificate or set sql.host_name_in_certificate"
        ),
    ),
    "timeout": (
        "HYT00",
        f"[HYT00] {MS}Login timeout expired (0) (SQLDriverConnect)",
        f"cannot reach SQL Server GPSQL01\\GP within 15 s (SQLSTATE HYT00): {UNREACHABLE}",
    ),
    "link-failure": (
        "08S01",
        f"[08S01] {MS}Communication link failure (0) (SQLDriverConnect)",
        f"cannot reach SQL Server GPSQL01\\GP within 15 s (SQLSTATE 08S01): {UNREACHABLE}",
    ),
    "other-scrubbed": (
        "HY000",
        (
            f"[HY000] [vendor]odd: PWD={{{PASSWORD.replace('}', '}}')}}};APP=x and {PASSWORD} (5) "
            "(SQLDriverConnect); [01000] second record"
        ),
        "ODBC error HY000: odd: PWD=***;APP=x and ***",
    ),
}


@pytest.mark.parametrize(("sqlstate", "message", "cause"), CAUSES.values(), ids=CAUSES.keys())
def test_connect_failures_get_one_line_causes(sqlstate: str, message: str, cause: str) -> None:
    explained = explain_connect(Exception(sqlstate, message), SQL_LOGIN)
    assert explained == cause
    assert PASSWORD not in explained and "Driver={" not in explained


@pytest.mark.parametrize(
    ("sqlstate", "message", "cause"),
    [
        (
            "HYT00",
            f"[HYT00] {MS}Query timeout expired (0) (SQLExecDirectW)",
            "query 'users' did not finish within 15 s",
        ),
        (
            "42S02",
            f"[42S02] {MS}[SQL Server]Invalid object name 'ACTIVTY'. (208) (SQLExecDirectW)",
            "query 'users' failed: Invalid object name 'ACTIVTY'. (SQLSTATE 42S02)",
        ),
        (
            "08S01",
            f"[08S01] {MS}Communication link failure (0) (SQLExecDirectW)",
            "lost the connection to SQL Server GPSQL01\\GP during query 'users' (SQLSTATE 08S01)",
        ),
    ],
)
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
    with pytest.raises(ImportError) as imported:
        load_pyodbc()
    assert str(imported.value) == expected
    with pytest.raises(SqlUnavailable) as exc:
        SqlConnection(WINDOWS).open()
    assert str(exc.value) == f"DYNAMICS: {expected}"
