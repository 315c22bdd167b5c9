"""The lab's SQL Server: GP databases as SQLite files read through real pyodbc, unixODBC and SQLite ODBC."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import tempfile
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NoReturn

from gpverify.transport.odbc import DbApiConnection, SqlTarget, connection_string, load_pyodbc

Kind = Literal["system", "company", "config", "session2013", "discovery", "msdb"]
Column = tuple[str, str]  # (name, SQL Server type as GP declares it)

DRIVER_ALIAS = "ODBC Driver 18 for SQL Server"  # production name the lab registers the SQLite driver under
SQLITE_ODBC_PACKAGE = "libsqliteodbc"
SQLITE_ODBC_GLOB = "/usr/lib/*/odbc/libsqlite3odbc.so"  # Debian's multiarch path when dpkg cannot be asked

_ID = (
    "DEX_ROW_ID",
    "identity",
)  # every GP table ends with DEX_ROW_ID int IDENTITY(1,1) (as the GP table scripts published on GitHub declare it)

# GP tables with their real columns, in order (from the GP table scripts in the public GitHub repository
# Trackrabbit/TheLearningExperience).
GP_SCHEMA: dict[str, tuple[Column, ...]] = {
    "ACTIVITY": (
        ("USERID", "char(15)"),
        ("CMPNYNAM", "char(65)"),
        ("ClientUIType", "smallint"),
        ("LOGINDAT", "datetime"),
        ("LOGINTIM", "datetime"),
        ("SQLSESID", "int"),
        ("Language_ID", "smallint"),
        ("ClientType", "smallint"),
        ("IsOffline", "tinyint"),
        _ID,
    ),
    "DB_Upgrade": (
        ("db_name", "char(30)"),
        ("PRODID", "int"),
        ("db_verMajor", "int"),
        ("db_verMinor", "int"),
        ("db_verBuild", "int"),
        ("db_verOldMajor", "int"),
        ("db_verOldMinor", "int"),
        ("db_verOldBuild", "int"),
        ("db_status", "int"),
        ("start_time", "datetime"),
        ("stop_time", "datetime"),
        _ID,
    ),
    "DU000010": (
        ("PRODID", "smallint"),
        ("fileNumber", "smallint"),
        ("fileName", "char(255)"),
        ("fileOSName", "char(31)"),
        ("versionMajor", "smallint"),
        ("versionMinor", "smallint"),
        ("versionBuild", "smallint"),
        ("conversionScript", "char(31)"),
        ("ACTION1", "smallint"),
        ("priorityLevel", "smallint"),
        ("CODENAME", "char(11)"),
        _ID,
    ),
    "DU000020": (
        ("companyID", "smallint"),
        ("PRODID", "smallint"),
        ("versionMajor", "smallint"),
        ("versionMinor", "smallint"),
        ("versionBuild", "smallint"),
        _ID,
    ),
    "DU000030": (
        ("PRODID", "smallint"),
        ("fileNumber", "smallint"),
        ("companyID", "smallint"),
        ("errornum", "int"),
        ("errordes", "char(255)"),
        ("Status", "smallint"),
        _ID,
    ),
    "SY00800": (
        ("WINTYPE", "smallint"),
        ("USERID", "char(15)"),
        ("CMPNYNAM", "char(65)"),
        ("BCHSOURC", "char(15)"),
        ("BACHNUMB", "char(15)"),
        ("POSTING", "tinyint"),
        ("TRXSOURC", "char(25)"),
        _ID,
    ),
    "SY00801": (
        ("RULEID", "smallint"),
        ("RSRCID", "char(31)"),
        ("RSRCSBID", "char(21)"),
        ("CMPANYID", "smallint"),
        ("USERID", "char(15)"),
        ("RSCSTATE", "smallint"),
        ("RSRDESC", "char(21)"),
        ("USECT", "smallint"),
        _ID,
    ),
    "SY01500": (
        ("LSTUSRED", "char(15)"),
        ("CREATDDT", "datetime"),
        ("MODIFDT", "datetime"),
        ("CMPANYID", "smallint"),
        ("CMPNYNAM", "char(65)"),
        ("TAXEXMT1", "char(25)"),
        ("TAXEXMT2", "char(25)"),
        ("TAXREGTN", "char(25)"),
        ("COPTXSCH", "char(15)"),
        ("COSTXSCH", "char(15)"),
        ("LOCATNNM", "char(31)"),
        ("ADRCNTCT", "char(61)"),
        ("ADDRESS1", "char(61)"),
        ("ADDRESS2", "char(61)"),
        ("ADDRESS3", "char(61)"),
        ("CITY", "char(35)"),
        ("COUNTY", "char(61)"),
        ("STATE", "char(29)"),
        ("ZIPCODE", "char(11)"),
        ("PHONE1", "char(21)"),
        ("PHONE2", "char(21)"),
        ("PHONE3", "char(21)"),
        ("FAXNUMBR", "char(21)"),
        ("USESCRTY", "tinyint"),
        ("UDCOSTR1", "char(31)"),
        ("UDCOSTR2", "char(31)"),
        ("CMPCNTRY", "char(61)"),
        ("NOTEINDX", "numeric(19,5)"),
        ("PPSFRNUM", "char(25)"),
        ("PPSTAXRT", "smallint"),
        ("PPSVNDID", "char(15)"),
        ("VATMODE", "tinyint"),
        ("LOCATNID", "char(15)"),
        ("INTERID", "char(5)"),
        ("ACSEGSEP", "char(1)"),
        ("SECOPTS", "binary(4)"),
        ("DisplayRegisteredPalette", "tinyint"),
        ("Company_Options", "binary(4)"),
        ("Vets100CompanyNumber", "char(21)"),
        ("TYPEOFBUSINESS", "char(31)"),
        ("DUNS_Number", "char(21)"),
        ("SICNUMBER", "char(15)"),
        ("GOVCRPID", "char(31)"),
        ("BRNCHNMBR", "char(21)"),
        ("DFLTTXDTLID", "char(15)"),
        ("PurchasesTaxDetailID", "char(15)"),
        ("CCode", "char(7)"),
        ("IVTRFDOCFMT", "smallint"),
        ("Offline_User", "char(15)"),
        ("WORKFLOWENABLED", "tinyint"),
        ("CrmCredentialsMethod", "smallint"),
        ("CrmOrganizationName", "char(255)"),
        ("CrmServiceUrl", "char(255)"),
        ("EnableGLReporting", "tinyint"),
        ("EnableAAReporting", "tinyint"),
        ("UseDateEffectiveTax", "tinyint"),
        ("DateToUse", "smallint"),
        _ID,
    ),
    # Company databases: the lab only needs a marker table
    # (Trackrabbit/TheLearningExperience: TLECO/Tables/dbo.SY00100.sql).
    "SY00100": (("CMPANYID", "smallint"), ("DBNAME", "char(11)"), _ID),
}

# GP's tempdb tables (as GP creates them; KB 865801): no primary key, no DEX_ROW_ID; DEX_SESSION.session_id is identity.
TEMPDB_SCHEMA: dict[str, tuple[Column, ...]] = {
    "DEX_LOCK": (("session_id", "int"), ("row_id", "int"), ("table_path_name", "char(100)")),
    "DEX_SESSION": (("session_id", "identity"), ("sqlsvr_spid", "smallint")),
}

# THE LAB'S OWN NAMES, NOT GP'S SCHEMA. The web components configuration database (GPCONFIGURATION) and the GP
# 2013-era session database have no public table definitions (docs/sources.md). The lab's tables and columns
# match no name the suite ships, so the checks that need them report "not verified" until an inventory sets
# them under overrides (config_db.*), exactly as on a real farm.
CONFIG_SCHEMA: dict[str, tuple[Column, ...]] = {
    "LabSessionHostRegistry": (("MachineName", "char(128)"), ("IsSuspended", "tinyint"), ("LastStatusUtc", "datetime")),
    "LabWebSession": (
        ("SessionKey", "char(64)"),
        ("MachineName", "char(128)"),
        ("UserName", "char(64)"),
        ("GPUserId", "char(15)"),
        ("CompanyName", "char(65)"),
        ("LastHeartbeat", "datetime"),
    ),
}
# Tenant Services' DYNGPDISCOVERY (tenant-services-basics.md); its schema is not public either: a marker table.
DISCOVERY_SCHEMA: dict[str, tuple[Column, ...]] = {"LabTenant": (("TenantName", "char(64)"),)}
SESSION2013_SCHEMA: dict[str, tuple[Column, ...]] = {
    "LabSessionCentralHost": (("MachineName", "char(128)"), ("IsSuspended", "tinyint"), ("LastStatusUtc", "datetime")),
    "LabSessionCentralSession": (("SessionKey", "char(64)"), ("UserName", "char(64)"), ("StartedUtc", "datetime")),
}
# SQL Server's catalog view sys.databases, as the columns the checks read (the lab attaches it as schema sys).
CATALOG_SCHEMA: dict[str, tuple[Column, ...]] = {
    "databases": (
        ("name", "char(128)"),
        ("database_id", "int"),
        ("state_desc", "char(60)"),
        ("user_access_desc", "char(60)"),
        ("is_read_only", "tinyint"),
        ("compatibility_level", "tinyint"),
    ),
    # sys.server_principals (the columns read); a SID is varbinary(85) on SQL Server, hex text in the lab.
    "server_principals": (("name", "char(128)"), ("sid", "char(172)"), ("type_desc", "char(60)")),
    # THE LAB'S OWN: what SERVERPROPERTY(name) answers (the transpiler reads it from here).
    "server_properties": (("name", "char(128)"), ("value", "char(128)")),
    # sys.dm_exec_sessions, the columns read (one row per session; session_id is the spid GP keeps in DEX_SESSION).
    "dm_exec_sessions": (
        ("session_id", "smallint"),
        ("login_name", "char(128)"),
        ("host_name", "char(128)"),
        ("program_name", "char(128)"),
        ("is_user_process", "tinyint"),
        ("login_time", "datetime"),
    ),
    # THE LAB'S OWN: the server permissions of the login the checks use (HAS_PERMS_BY_NAME reads it).
    "lab_server_permissions": (("permission_name", "char(128)"),),
}
# Per-database catalog view sys.database_principals: a table in each GP database's own file (not in sys.sqlite),
# so a query connected to one database sees that database's users, as on SQL Server.
DATABASE_CATALOG_SCHEMA: dict[str, tuple[Column, ...]] = {
    "database_principals": (("name", "char(128)"), ("sid", "char(172)"), ("type_desc", "char(60)")),
}
# msdb.dbo.backupset, the columns read (SQL Server's backup history; backup_finish_date is local time, time_zone
# the offset from UTC in 15-minute intervals, 127 unknown).
MSDB_SCHEMA: dict[str, tuple[Column, ...]] = {
    "backupset": (
        ("database_name", "char(128)"),
        ("type", "char(1)"),
        ("backup_finish_date", "datetime"),
        ("time_zone", "smallint"),
        ("is_copy_only", "tinyint"),
    ),
}
SERVER_DATABASES = ("master", "tempdb", "model", "msdb")

KIND_TABLES: dict[Kind, tuple[str, ...]] = {
    "system": (
        "ACTIVITY",
        "SY00800",
        "SY00801",
        "SY01500",
        "DB_Upgrade",
        "DU000010",
        "DU000020",
        "DU000030",
        "database_principals",
    ),
    "company": ("SY00100", "database_principals"),
    "config": tuple(CONFIG_SCHEMA),
    "session2013": tuple(SESSION2013_SCHEMA),
    "discovery": tuple(DISCOVERY_SCHEMA),
    "msdb": tuple(MSDB_SCHEMA),
}

# Declared SQLite types, chosen for what the SQLite ODBC driver hands pyodbc (seen with libsqliteodbc 0.9998):
# DATETIME comes back as datetime.datetime like SQL Server's datetime; VARBINARY as bytes (a column declared
# BINARY comes back as the text "X'..'"); NUMERIC as float (SQL Server sends Decimal: a known gap).
# CHAR values are stored blank-padded and compared with COLLATE RTRIM, as SQL Server pads CHAR(n) and ignores
# trailing blanks in "=" (research D.4). SQL Server's CI collation also ignores case; SQLite cannot do both.
_SQLITE_TYPES = {
    "smallint": "SMALLINT",
    "int": "INT",
    "tinyint": "TINYINT",
    "datetime": "DATETIME",
    "identity": "INTEGER PRIMARY KEY AUTOINCREMENT",
}
_GP_DATE_DEFAULT = "1900-01-01 00:00:00.000"  # GPS_DATE, GP's bound default for dates
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$#@]{0,127}")


# ---- building the database files ---------------------------------------------------------------------------


def build_database(path: Path, kind: Kind, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Write a fresh SQLite file with the tables of a system, company or config database and the given rows.

    Omitted GP columns get GP's bound defaults (blank CHAR, 0, 1900-01-01); omitted config columns are NULL.
    """
    schema = {
        "config": CONFIG_SCHEMA,
        "session2013": SESSION2013_SCHEMA,
        "discovery": DISCOVERY_SCHEMA,
        "msdb": MSDB_SCHEMA,
    }.get(kind, {**GP_SCHEMA, **DATABASE_CATALOG_SCHEMA})
    _build(path, {name: schema[name] for name in KIND_TABLES[kind]}, rows, nullable=kind not in ("system", "company"))


def build_catalog(
    sqldir: Path,
    databases: Sequence[str],
    state: Mapping[str, Mapping[str, Any]],
    logins: Sequence[Mapping[str, Any]] = (),
    properties: Mapping[str, str] | None = None,
    sessions: Sequence[Mapping[str, Any]] = (),
    permissions: Sequence[str] = ("VIEW SERVER STATE",),
) -> None:
    """Write sys.sqlite: sys.databases listing the lab's databases (tempdb and msdb as SQL Server has them),
    sys.server_principals with the given logins, what SERVERPROPERTY answers, sys.dm_exec_sessions and the
    permissions HAS_PERMS_BY_NAME answers for."""
    names = [*SERVER_DATABASES, *(n for n in databases if n.lower() not in SERVER_DATABASES)]
    rows = [
        {
            "name": n,
            "database_id": i,
            "state_desc": "ONLINE",
            "user_access_desc": "MULTI_USER",
            "is_read_only": 0,
            "compatibility_level": 150,
            **state.get(n, {}),
        }
        for i, n in enumerate(names, 1)
    ]
    props = [{"name": k, "value": v} for k, v in (properties or {}).items()]
    _build(
        sqldir / "sys.sqlite",
        CATALOG_SCHEMA,
        {
            "databases": rows,
            "server_principals": list(logins),
            "server_properties": props,
            "dm_exec_sessions": list(sessions),
            "lab_server_permissions": [{"permission_name": p} for p in permissions],
        },
        nullable=False,
    )


def build_empty(path: Path) -> None:
    """Write a database file with no table in it (a database created by hand and never configured)."""
    _build(path, {}, {}, nullable=True)


def build_tempdb(path: Path, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Write a fresh tempdb.sqlite holding GP's DEX_LOCK and DEX_SESSION tables and the given rows."""
    _build(path, TEMPDB_SCHEMA, rows, nullable=False)


def create_table_sql(table: str, columns: Sequence[Column], *, nullable: bool = False) -> str:
    """The SQLite CREATE TABLE for one table of the lab."""
    null = "" if nullable else " NOT NULL"
    defs = [f'"{name}" {_declared_type(sqltype)}{"" if sqltype == "identity" else null}' for name, sqltype in columns]
    return f'CREATE TABLE "{table}" ({", ".join(defs)})'


def _declared_type(sqltype: str) -> str:
    if sqltype.startswith("char("):
        return f"CHAR({_size(sqltype)}) COLLATE RTRIM"
    if sqltype.startswith("binary("):
        return f"VARBINARY({_size(sqltype)})"
    if sqltype.startswith("numeric("):
        return sqltype.upper()
    return _SQLITE_TYPES[sqltype]


def _size(sqltype: str) -> int:
    return int(sqltype[sqltype.index("(") + 1 : sqltype.index(")")])


def _build(
    path: Path,
    tables: Mapping[str, Sequence[Column]],
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    nullable: bool,
) -> None:
    unknown = sorted(set(rows) - set(tables))
    if unknown:
        raise ValueError(f"{path.name}: no table {unknown[0]!r} in this lab database (tables: {', '.join(tables)})")
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        # A lab's file is built whole before anything reads it, and built again at the next start: no journal and
        # no fsync per statement, which otherwise cost a lab start more than its servers (sqlite.org/pragma.html).
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        for table, columns in tables.items():
            db.execute(create_table_sql(table, columns, nullable=nullable))
            for row in rows.get(table, ()):
                values = _row_values(table, columns, row, nullable)
                marks = ", ".join("?" for _ in values)
                names = ", ".join(f'"{name}"' for name in values)
                db.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', list(values.values()))
        db.commit()
    finally:
        db.close()


def _row_values(table: str, columns: Sequence[Column], row: Mapping[str, Any], nullable: bool) -> dict[str, Any]:
    types = dict(columns)
    for name in row:
        if name not in types:
            raise ValueError(f"{table}: unknown column {name!r} (columns: {', '.join(types)})")
    values: dict[str, Any] = {}
    for name, sqltype in columns:
        if name in row:
            values[name] = _stored(table, name, sqltype, row[name], nullable)
        elif sqltype != "identity":
            values[name] = None if nullable else _default(sqltype)
    return values


def _default(sqltype: str) -> Any:
    if sqltype.startswith("char("):
        return " " * _size(sqltype)
    if sqltype.startswith("binary("):
        return bytes(_size(sqltype))
    return _GP_DATE_DEFAULT if sqltype == "datetime" else 0


def _stored(table: str, column: str, sqltype: str, value: Any, nullable: bool) -> Any:
    """A fixture value as SQL Server stores it: CHAR blank-padded, BINARY zero-padded, dates normalised."""
    where = f"{table}.{column} ({sqltype})"
    if value is None:
        if nullable:
            return None
        raise ValueError(f"{where}: GP columns are NOT NULL")
    if sqltype.startswith(("char(", "binary(")):
        size, text = _size(sqltype), sqltype.startswith("char(")
        if not isinstance(value, str if text else bytes) or len(value) > size:
            kind = "str" if text else "bytes"
            raise ValueError(f"{where}: needs a {kind} of at most {size}, got {value!r}")
        return value.ljust(size, " " if text else b"\0")  # type: ignore[arg-type]
    if sqltype == "datetime":
        return _datetime_text(where, value)
    if sqltype.startswith("numeric("):
        return float(value) if isinstance(value, (int, float, Decimal, str)) else _bad(where, value)
    return int(value) if isinstance(value, int) else _bad(where, value)  # smallint, int, tinyint, identity


def _datetime_text(where: str, value: Any) -> str:
    try:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
    except ValueError:
        pass
    if not isinstance(value, datetime):
        return _bad(where, value)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]  # SQL Server datetime keeps milliseconds


def _bad(where: str, value: Any) -> NoReturn:
    raise ValueError(f"{where}: cannot store {value!r}")


# ---- unixODBC registration ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def sqlite_odbc_driver() -> Path:
    """Path of Debian's SQLite3 ODBC driver library (package libsqliteodbc)."""
    try:
        listing = subprocess.run(
            ["dpkg", "-L", SQLITE_ODBC_PACKAGE], capture_output=True, text=True, check=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        listing = ""
    found = [line for line in listing.splitlines() if line.endswith("/libsqlite3odbc.so")]
    found += sorted(str(p) for p in Path("/").glob(SQLITE_ODBC_GLOB.lstrip("/")))
    for candidate in found:
        if Path(candidate).exists():
            return Path(candidate)
    raise FileNotFoundError("the SQLite3 ODBC driver is not installed: apt-get install libsqliteodbc")


def write_odbcinst(dir: Path, alias: str = DRIVER_ALIAS) -> Path:
    """Write dir/odbcinst.ini registering the SQLite3 ODBC driver under alias, and an empty dir/odbc.ini.

    With ODBCSYSINI=dir, the production connection string (Driver={ODBC Driver 18 for SQL Server}) reaches
    the SQLite driver through unixODBC unchanged but for Database= (research D.2).
    """
    if not alias or any(c in alias for c in "[]\r\n"):
        raise ValueError(f"not usable as an odbcinst.ini section name: {alias!r}")
    dir.mkdir(parents=True, exist_ok=True)
    ini = dir / "odbcinst.ini"
    ini.write_text(
        f"[{alias}]\n"
        "Description=gpverify lab: the SQLite3 ODBC driver under a production driver name\n"
        f"Driver={sqlite_odbc_driver()}\n",
        encoding="utf-8",
    )
    # unixODBC creates odbc.ini beside odbcinst.ini when it is missing; an empty one keeps any DSN out.
    (dir / "odbc.ini").write_text("", encoding="utf-8")
    return ini


def activate_odbcsysini(dir: Path) -> None:
    """Make unixODBC read dir/odbcinst.ini, and check the drivers it registers are visible.

    ODBCSYSINI is process-global, and unixODBC reads it only once: its first configuration lookup in the
    process stores the directory in a static variable (odbcinst_system_file_path in unixODBC 2.3.x; seen here
    with 2.3.11), and later changes of the variable are ignored. Set it before anything touches ODBC and keep
    one directory per process; this raises RuntimeError when unixODBC is already bound to a directory that
    lacks dir's drivers.
    """
    os.environ["ODBCSYSINI"] = str(dir.resolve())
    ini = (dir / "odbcinst.ini").read_text(encoding="utf-8")
    wanted = re.findall(r"^\[([^\]]+)\]", ini, flags=re.MULTILINE)
    missing = [name for name in wanted if name not in load_pyodbc().drivers()]
    if missing:
        raise RuntimeError(
            f"unixODBC does not see driver {missing[0]!r} from {dir}/odbcinst.ini: it already "
            "read its configuration from another ODBCSYSINI in this process (it reads the "
            "variable once); set ODBCSYSINI before the first ODBC call and use one directory "
            "per process"
        )


# ---- the connector ---------------------------------------------------------------------------------------


class LabConnector:
    """Connector (gpverify.transport.odbc) that opens lab SQLite files through real pyodbc and unixODBC.

    Database NAME is <lab_dir>/<NAME>.sqlite (name matched case-insensitively, like SQL Server), opened
    read-only; <lab_dir>/tempdb.sqlite is attached read-only as schema tempdb.

    Lab fault knobs (emulation, not SQL Server behaviour): password - SQL-login targets must present it;
    reject_logins - every login fails; unreachable - the server never answers. They raise the SQLSTATEs
    Microsoft's driver reports, so the production error mapping is what turns them into SqlUnavailable.
    """

    def __init__(
        self, lab_dir: Path, *, password: str | None = None, reject_logins: bool = False, unreachable: bool = False
    ) -> None:
        self.lab_dir = lab_dir
        self.password = password
        self.reject_logins = reject_logins
        self.unreachable = unreachable

    def connect(self, t: SqlTarget) -> DbApiConnection:
        pyodbc = load_pyodbc()
        self._emulate_faults(t, pyodbc)
        self._refuse_offline(t.database, pyodbc)
        # The production connection string with only Database= changed (research F.4): Server, Encrypt,
        # Trusted_Connection, APP... go through unixODBC and are ignored by the SQLite driver.
        lab_target = replace(t, database=_read_only_uri(self.database_file(t.database, pyodbc)))
        conn = pyodbc.connect(connection_string(lab_target), timeout=t.timeout, readonly=True, autocommit=True)
        try:
            if t.database.lower() != "tempdb":
                self._attach_tempdb(conn)
            self._attach_catalog(conn)
        except BaseException:
            conn.close()
            raise
        return conn  # type: ignore[no-any-return]

    def translate(self, sql: str) -> str:
        # sqlglot is loaded with the first query the lab translates, not by every command that starts a lab
        # (80 ms and 38 modules of an audit of the lab).
        from gpverify.lab.tsql import transpile

        return transpile(sql)

    def database_file(self, database: str, pyodbc: Any = None) -> Path:
        """The SQLite file standing for a database; if missing, the driver fails as SQL Server would."""
        if not _NAME.fullmatch(database):  # never let a database name become a path outside lab_dir
            raise (pyodbc or load_pyodbc()).ProgrammingError("42000", _cannot_open(database))
        for path in self.lab_dir.glob("*.sqlite"):
            if path.stem.lower() == database.lower():
                return path
        return self.lab_dir / f"{database}.sqlite"

    def _emulate_faults(self, t: SqlTarget, pyodbc: Any) -> None:
        origin = f"[Microsoft][{t.driver}]"
        if self.unreachable:
            raise pyodbc.OperationalError("HYT00", f"[HYT00] {origin}Login timeout expired (0) (SQLDriverConnect)")
        wrong_password = self.password is not None and t.authentication == "sql" and t.password != self.password
        if self.reject_logins or wrong_password:
            user = t.user if t.authentication == "sql" else "LAB\\gpverify"
            raise pyodbc.InterfaceError(
                "28000", f"[28000] {origin}[SQL Server]Login failed for user '{user}'. (18456) (SQLDriverConnect)"
            )

    def _refuse_offline(self, database: str, pyodbc: Any) -> None:
        """SQL Server opens no database whose sys.databases state is not ONLINE (error 942 for OFFLINE)."""
        catalog = self.lab_dir / "sys.sqlite"
        if not catalog.exists() or not _NAME.fullmatch(database):
            return
        db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
        try:
            row = db.execute(
                "SELECT RTRIM(state_desc) FROM databases WHERE RTRIM(name) = ? COLLATE NOCASE", (database,)
            ).fetchone()
        finally:
            db.close()
        if row and row[0] != "ONLINE":
            raise pyodbc.ProgrammingError(
                "42000",
                f"[42000] [Microsoft][SQL Server]Database '{database}' cannot be "
                f"opened because it is {row[0].lower()}. (942) (SQLDriverConnect)",
            )

    def _attach_catalog(self, conn: Any) -> None:
        # SQL Server's catalog views (sys.databases) from sys.sqlite, read-only like the rest.
        _attach_read_only(conn, self.lab_dir / "sys.sqlite", "sys")

    def _attach_tempdb(self, conn: Any) -> None:
        # ATTACH takes the URI as a bound parameter: the driver opens the main database with URI filenames
        # enabled, so mode=ro holds for tempdb too. Without tempdb.sqlite an empty in-memory schema stands in,
        # as after a SQL Server restart before GP recreated DEX_LOCK/DEX_SESSION (KB 865801).
        tempdb = self.lab_dir / "tempdb.sqlite"
        cursor = conn.cursor()
        try:
            source = _read_only_uri(tempdb) if tempdb.exists() else ":memory:"
            cursor.execute("ATTACH DATABASE ? AS tempdb", (source,))
        finally:
            cursor.close()


def _attach_read_only(conn: Any, path: Path, schema: str) -> None:
    cursor = conn.cursor()
    try:
        cursor.execute(f"ATTACH DATABASE ? AS {schema}", (_read_only_uri(path) if path.exists() else ":memory:",))
    finally:
        cursor.close()


def shared_odbc_dir() -> Path:
    """One odbcinst.ini directory for every lab of this machine: unixODBC reads ODBCSYSINI once per process."""
    return Path(tempfile.gettempdir()) / f"gpverify-odbc-{os.getuid()}"


def lab_connector(lab_dir: Path) -> LabConnector:
    """The connector for an inventory with sql.lab_dir: registers the driver alias, reads lab.json faults."""
    ini_dir = shared_odbc_dir()
    if not (ini_dir / "odbcinst.ini").exists():
        write_odbcinst(ini_dir)
    activate_odbcsysini(ini_dir)
    settings = lab_dir / "lab.json"
    fault = json.loads(settings.read_text(encoding="utf-8")).get("fault") if settings.exists() else None
    if fault not in (None, "unreachable", "login-failed"):
        raise ValueError(f"{settings}: unknown SQL fault {fault!r} (unreachable, login-failed)")
    return LabConnector(lab_dir, unreachable=fault == "unreachable", reject_logins=fault == "login-failed")


def _read_only_uri(path: Path) -> str:
    # Percent-encoding keeps ; { } out of the connection string: the SQLite driver does not accept a braced
    # Database value (verified: "connect failed (14)"), so it must not need braces.
    return f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"


def _cannot_open(database: str) -> str:
    return (
        f'[42000] [Microsoft][SQL Server]Cannot open database "{database}" requested by the login. '
        "The login failed. (4060) (SQLDriverConnect)"
    )
