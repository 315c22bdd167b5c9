"""Read-only SQL Server access over ODBC: connection strings, guarded queries, one-line failure causes."""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, Protocol, Self

from gpverify.errors import ConfigError, GpVerifyError, SqlUnavailable
from gpverify.transport.sqlguard import check_read_only

APPLICATION_NAME = "gpverify"  # shows as program_name in sys.dm_exec_sessions, so DBAs can spot the audit
ENCRYPT_VALUES = ("yes", "no", "mandatory", "optional", "strict")


@dataclass(frozen=True)
class SqlTarget:
    """One database on one SQL Server instance, and how to log in to it."""

    driver: str
    server: str
    database: str
    authentication: Literal["windows", "sql"]
    user: str | None
    password: str | None = field(repr=False)
    encrypt: str = "yes"
    trust_server_certificate: bool = False
    host_name_in_certificate: str | None = None
    read_only_intent: bool = True
    timeout: int = 15


class DbApiCursor(Protocol):
    @property
    def description(self) -> Sequence[Sequence[Any]] | None: ...

    def execute(self, sql: str, params: Sequence[object], /) -> Any: ...

    def fetchall(self) -> Sequence[Sequence[Any]]: ...

    def close(self) -> None: ...


class DbApiConnection(Protocol):
    def cursor(self) -> DbApiCursor: ...

    def close(self) -> None: ...


class Connector(Protocol):
    """Opens the DB-API connection for a target; the lab plugs in its own (gpverify.lab.sql.LabConnector)."""

    def connect(self, t: SqlTarget) -> DbApiConnection: ...

    def translate(self, sql: str) -> str: ...


def load_pyodbc() -> ModuleType:
    """Import pyodbc, or raise ImportError saying what to install."""
    try:
        import pyodbc
    except ImportError as exc:
        # The PyPI wheel links the unixODBC driver manager but does not bundle it (research D.1).
        if "libodbc" in str(exc):
            raise ImportError(
                "pyodbc cannot load the ODBC driver manager (libodbc.so.2): install unixODBC (apt-get install unixodbc)"
            ) from None
        raise ImportError(f"pyodbc cannot be imported ({exc}): pip install pyodbc") from None
    module: ModuleType = pyodbc
    return module


def driver_major(driver: str) -> int | None:
    """17 for "ODBC Driver 17 for SQL Server", 18 for 18; None for others (e.g. the legacy "SQL Server")."""
    match = re.fullmatch(r"ODBC Driver (\d+) for SQL Server", driver.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def _braced(value: str) -> str:
    # ODBC connection-string syntax: a value in braces may hold ; and =; a } inside is doubled.
    return "{" + value.replace("}", "}}") + "}"


def _value(value: str) -> str:
    needs_braces = any(c in value for c in ";{}") or value != value.strip()
    return _braced(value) if needs_braces else value


def _check_target(t: SqlTarget, major: int | None) -> None:
    if t.authentication == "sql" and not t.user:
        raise ConfigError("inventory", "sql.user", "a login name when authentication is 'sql'")
    if t.authentication == "sql" and not t.password:
        raise ConfigError("inventory", "sql.password_env", "an environment variable holding the SQL login's password")
    if t.encrypt.lower() not in ENCRYPT_VALUES:
        raise ConfigError("inventory", "sql.encrypt", f"one of {', '.join(ENCRYPT_VALUES)}, got {t.encrypt!r}")
    if (major or 0) < 18 and t.encrypt.lower() == "strict":
        raise ConfigError(
            "inventory",
            "sql.encrypt",
            f"yes, no, mandatory or optional with {t.driver!r} (strict, TDS 8.0, needs Driver 18)",
        )
    if (major or 0) < 18 and t.host_name_in_certificate:
        raise ConfigError(
            "inventory",
            "sql.host_name_in_certificate",
            f"unset with {t.driver!r} (HostnameInCertificate needs ODBC Driver 18)",
        )


def connection_string(t: SqlTarget) -> str:
    """The connection string for Microsoft's ODBC Driver 17/18 for SQL Server; ConfigError if unusable."""
    major = driver_major(t.driver)
    _check_target(t, major)
    parts = [("Driver", _braced(t.driver)), ("Server", _value(t.server)), ("Database", _value(t.database))]
    if t.authentication == "windows":
        # Integrated auth: SSPI on Windows; on Linux the Microsoft driver needs a Kerberos ticket (kinit).
        parts.append(("Trusted_Connection", "yes"))
    else:
        parts += [("UID", _value(t.user or "")), ("PWD", _braced(t.password or ""))]
    # Always sent explicitly. Driver 18 defaults to Encrypt=yes and validates the server certificate,
    # Driver 17 defaults to Encrypt=no, so a self-signed certificate that worked with 17 fails with 18
    # as a TLS error, not a login error (research D.5). Fixes, best first: a trusted certificate;
    # host_name_in_certificate (18 only); trust_server_certificate (keeps encryption, drops validation);
    # encrypt: no.
    parts.append(("Encrypt", t.encrypt.lower()))
    parts.append(("TrustServerCertificate", "yes" if t.trust_server_certificate else "no"))
    if t.host_name_in_certificate:
        parts.append(("HostnameInCertificate", _value(t.host_name_in_certificate)))
    if t.read_only_intent:
        # Only routes to a readable secondary behind an AG listener; it does not make a session read-only
        # (research D.5). Read-only comes from the login's rights and from check_read_only.
        parts.append(("ApplicationIntent", "ReadOnly"))
    # "APP" is the ODBC keyword; "Application Name" is the ADO.NET/OLE DB spelling, not in the ODBC driver's
    # keyword table. The login timeout is set through pyodbc.connect(timeout=) = SQL_ATTR_LOGIN_TIMEOUT, which
    # every driver version honours; the ConnectTimeout keyword exists only from Driver 18.7.
    parts.append(("APP", APPLICATION_NAME))
    return "".join(f"{key}={value};" for key, value in parts)


class OdbcConnector:
    """The production connector: pyodbc and Microsoft's ODBC driver, queries sent as written."""

    def connect(self, t: SqlTarget) -> DbApiConnection:
        pyodbc = load_pyodbc()
        # autocommit: a read never needs a transaction, and none is left open on the server between queries.
        conn = pyodbc.connect(connection_string(t), timeout=t.timeout, readonly=True, autocommit=True)
        conn.timeout = t.timeout  # query timeout (SQL_ATTR_QUERY_TIMEOUT): a blocked read ends as HYT00
        return conn  # type: ignore[no-any-return]

    def translate(self, sql: str) -> str:
        return sql


class SqlConnection:
    """An open read-only connection to one database; every failure becomes SqlUnavailable naming it."""

    def __init__(self, target: SqlTarget, connector: Connector | None = None) -> None:
        self.target = target
        self._connector: Connector = connector or OdbcConnector()
        self._conn: DbApiConnection | None = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect now (queries connect on first use otherwise)."""
        if self._conn is None:
            self._conn = self._guard(lambda: self._connector.connect(self.target), explain_connect)

    def query(self, name: str, sql: str, params: Sequence[object] = ()) -> list[dict[str, object]]:
        """Rows of one guarded read-only query as dicts; CHAR values stay blank-padded as SQL Server sends."""
        check_read_only(sql, source=name)  # every time: cheap, and the SQL may not come from a checked file
        self.open()
        assert self._conn is not None
        cursor = self._guard(self._conn.cursor, explain_connect)
        try:
            text = self._connector.translate(sql)
            explain = functools.partial(explain_query, name=name)
            self._guard(lambda: cursor.execute(text, tuple(params)), explain)
            rows = self._guard(cursor.fetchall, explain)
            return _as_dicts(name, cursor.description, rows)
        finally:
            _close_quietly(cursor)

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            _close_quietly(conn)

    def _guard(self, action: Any, explain: Any) -> Any:
        try:
            return action()
        except ImportError as exc:
            raise SqlUnavailable(self.target.database, str(exc)) from None
        except GpVerifyError:
            raise
        except Exception as exc:
            if not _is_driver_error(exc):
                raise
            # "from None": the driver's exception and the frames that held the connection string stay out of
            # tracebacks and reports; the cause line says all an operator needs.
            raise SqlUnavailable(self.target.database, explain(exc, self.target)) from None


def open_sql(t: SqlTarget, connector: Connector | None = None) -> SqlConnection:
    """Connect to one database now, so an unreachable server or missing database surfaces here."""
    conn = SqlConnection(t, connector)
    conn.open()
    return conn


def _as_dicts(
    name: str, description: Sequence[Sequence[Any]] | None, rows: Sequence[Sequence[Any]]
) -> list[dict[str, object]]:
    columns = [str(d[0]) for d in description or ()]
    if len(set(columns)) != len(columns) or "" in columns:
        raise ValueError(f"query {name!r}: every result column needs its own name (use AS): {columns}")
    return [dict(zip(columns, row)) for row in rows]


def _close_quietly(thing: Any) -> None:
    with contextlib.suppress(Exception):  # closing after a failure must not hide the failure
        thing.close()


def _is_driver_error(exc: BaseException) -> bool:
    # No import needed: if pyodbc was never imported, exc cannot be one of its errors.
    error = getattr(sys.modules.get("pyodbc"), "Error", None)
    return isinstance(error, type) and isinstance(exc, error)


def _sqlstate_and_message(exc: BaseException) -> tuple[str, str]:
    # pyodbc errors carry (sqlstate, "[sqlstate] [vendor][driver]text (native) (SQLFunction); [..] ...").
    args = exc.args
    if len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        return args[0], args[1]
    return "", str(exc)


def _login(t: SqlTarget) -> str:
    return f"login {t.user!r}" if t.authentication == "sql" else "the Windows account running gpverify"


def _short(message: str, t: SqlTarget) -> str:
    """The first diagnostic record without bracketed origin tags, call names or secrets; at most 300 chars."""
    first = _scrub(message, t).split("; [", 1)[0]
    first = re.sub(r"^(\s*\[[^\]]*\])+\s*", "", first)
    first = re.sub(r"(\s*\(\d+\))*\s*\(SQL\w+\)\s*$", "", first)
    return first[:300]


def _scrub(text: str, t: SqlTarget) -> str:
    text = re.sub(r"PWD=(\{(?:[^}]|\}\})*\}|[^;]*)", "PWD=***", text, flags=re.IGNORECASE)
    if t.password:
        text = text.replace(t.password, "***")
    return text


def _driver_missing(t: SqlTarget, message: str, sqlstate: str) -> str | None:
    # unixODBC: "[01000] ...Can't open lib 'NAME' : file not found"; Windows: "[IM002] Data source name not
    # found and no default driver specified".
    if ("Can't open lib" in message and "file not found" in message) or sqlstate == "IM002":
        return (
            f"ODBC driver {t.driver!r} is not installed on this machine: "
            "install Microsoft ODBC Driver 18 for SQL Server"
        )
    if "Can't open lib" in message:  # registered, but the library or one of its dependencies cannot be loaded
        return f"ODBC driver {t.driver!r} is registered but cannot be loaded ({_short(message, t)}): reinstall it"
    return None


def explain_connect(exc: BaseException, t: SqlTarget) -> str:
    """One line saying why a connection failed and what to do; never the password or the connection string."""
    sqlstate, message = _sqlstate_and_message(exc)
    missing = _driver_missing(t, message, sqlstate)
    if missing:
        return missing
    # 4060 "Cannot open database ... requested by the login" comes with 18456 too, so test it before 28000.
    # The SQLite driver of the lab says "unable to open database" / "connect failed (14)" (SQLITE_CANTOPEN).
    if "(4060)" in message or "unable to open database" in message or "connect failed (14)" in message:
        return (
            f"database {t.database!r} does not exist or cannot be opened: check the name and that "
            f"{_login(t)} has access to it"
        )
    if sqlstate == "28000" or "(18456)" in message:
        return f"login failed for {_login(t)} on {t.server}: check the account, its password and its SQL Server login"
    if "certificate" in message.lower():
        return (
            f"SQL Server {t.server} presented a TLS certificate this machine does not trust (ODBC "
            "Driver 18 validates it by default): install a trusted certificate or set "
            "sql.host_name_in_certificate"
        )
    if sqlstate.startswith("08") or sqlstate in ("HYT00", "HYT01"):
        return (
            f"cannot reach SQL Server {t.server} within {t.timeout} s (SQLSTATE {sqlstate}): check the "
            "server name, instance or port, the firewall, and that TCP/IP is enabled"
        )
    return f"ODBC error {sqlstate or type(exc).__name__}: {_short(message, t)}"


def explain_query(exc: BaseException, t: SqlTarget, name: str) -> str:
    """One line saying why a query failed."""
    sqlstate, message = _sqlstate_and_message(exc)
    if sqlstate in ("HYT00", "HYT01"):
        return f"query {name!r} did not finish within {t.timeout} s"
    if sqlstate.startswith("08"):
        return f"lost the connection to SQL Server {t.server} during query {name!r} (SQLSTATE {sqlstate})"
    return f"query {name!r} failed: {_short(message, t)} (SQLSTATE {sqlstate or '?'})"
