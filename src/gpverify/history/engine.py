"""Open a history database: connect, bring its schema to the newest Alembic revision under a lock (several
runners may start at once), and set a damaged SQLite file aside so the nightly audit keeps running."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    insert,
    inspect,
    text,
)
from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError

from gpverify.config.paths import file_problem
from gpverify.config.redact import Redactor
from gpverify.history.schema import LEGACY_COLUMNS, metadata
from gpverify.history.target import HistoryTarget, HistoryUnavailable

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
LEGACY_REVISION = "0001"
# The newest migration in migrations/versions (tests/history checks it is Alembic's head). A history already
# there needs no Alembic at all: importing it and reading its scripts is a tenth of a second of a nightly audit.
HEAD_REVISION = "0002"
MIGRATION_LOCK = 0x6770766572696679  # pg_advisory_xact_lock key ("gpverify"): one migrating runner at a time
CONNECT_TIMEOUT = 10  # seconds: an unreachable server is one message, not a hang
# Every wait on a PostgreSQL history is bounded (PostgreSQL's own settings, sent at connect: runtime-config-client):
# a lock another session holds (a long report query, a migration, an administrator's LOCK TABLE) is given up after
# LOCK_TIMEOUT, any one statement after STATEMENT_TIMEOUT; either ends as "history not recorded" (exit 4).
LOCK_TIMEOUT = 30  # seconds
STATEMENT_TIMEOUT = 120  # seconds
SQLITE_BUSY_TIMEOUT = 60  # seconds another writer may hold the file (concurrent audits into one folder)
# The only tables a history holds (besides Alembic's and SQLite's own): a file with others is someone else's.
OWN_TABLES = {"runs", "results", "facts", "baselines", "alembic_version", "sqlite_sequence"}

# Alembic's version table as Alembic itself creates it (alembic.runtime.migration: alembic_version, one
# VARCHAR(32) column version_num, primary key alembic_version_pkc), written here only for a new, empty history:
# tests/history/test_history_schema.py proves the database made so equals the one Alembic's migrations make, and
# that Alembic reads it at its head.
VERSION_TABLE = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)

Warn = Callable[[str], None]
# What SQLite says of a file that is not (or no longer) a sound database; "database is locked" or "unable to
# open" are not damage, and such a file must never be set aside.
DAMAGE = ("not a database", "malformed", "damaged", "corrupt")


class _Unrecognised(Exception):
    """Tables that are neither a versioned history nor the pre-versioning one."""


def alembic_config(connection: Any) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory(str(MIGRATIONS)).get_current_head())


def open_engine(target: HistoryTarget, warn: Warn | None = None) -> Engine:
    """A SQLAlchemy engine on a history at the newest schema; raises HistoryUnavailable naming the setting."""
    path = target.sqlite_path
    if path is None:
        return _migrated(_engine(target), target)
    problem = file_problem(path, "history file", max_bytes=2**62, missing_ok=True)  # never a FIFO or a device
    if problem:
        raise HistoryUnavailable(target.setting, f"expected {problem}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HistoryUnavailable(target.setting, f"cannot create the folder {path.parent} ({exc.strerror})") from None
    _not_foreign(path, target)
    try:
        _integrity(path)
        return _migrated(_engine(target), target)
    except (_Unrecognised, sqlite3.DatabaseError) as exc:
        if not isinstance(exc, _Unrecognised) and not any(word in str(exc).lower() for word in DAMAGE):
            raise HistoryUnavailable(target.setting, f"could not open {path}: {_cause(exc)}") from None
        try:
            moved = set_aside(path)
        except OSError as err:
            raise HistoryUnavailable(
                target.setting, f"{path} is damaged ({_cause(exc)}) and could not be set aside: {err.strerror}"
            ) from None
        (warn or (lambda _m: None))(
            f"warning: {path}: {_cause(exc)}; set aside as {moved.name} and a new history "
            "started (the old file is kept for inspection)"
        )
        return _migrated(_engine(target), target)


def set_aside(path: Path) -> Path:
    """Rename a damaged history.sqlite (and its journal files) with a timestamp; returns the new path."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while moved.exists():
        n += 1
        moved = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(moved)
    for suffix in ("-journal", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(moved.with_name(moved.name + suffix))
    return moved


def _not_foreign(path: Path, target: HistoryTarget) -> None:
    """Refuse a sound SQLite database gpverify did not make (other tables, or a user_version it never sets): it is
    never written into, migrated or set aside, since it is somebody's data. Damage is left to _integrity."""
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT)
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return  # not a database at all, or damaged: open_engine sets it aside
    others = sorted(tables - OWN_TABLES)
    # A newer gpverify's history (a user_version past HEAD_REVISION, gpverify's tables) is _upgrade's to refuse.
    if others or (version != 0 and "runs" not in tables):
        found = f"tables {', '.join(others[:5])}" if others else f"user_version {version}"
        raise HistoryUnavailable(
            target.setting,
            f"{path} is a SQLite database gpverify did not make ({found}); it "
            "was left untouched: point the history at a new file",
        )


def _integrity(path: Path) -> None:
    """Raise sqlite3.DatabaseError for a file that is not a database or is damaged (truncated, overwritten)."""
    if not path.exists():
        return
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=SQLITE_BUSY_TIMEOUT)
    try:
        verdict = db.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        db.close()
    if verdict != "ok":
        raise sqlite3.DatabaseError(f"damaged ({verdict})")


def _engine(target: HistoryTarget) -> Engine:
    if target.engine_name == "sqlite":
        engine = create_engine(target.connect_url(), connect_args={"timeout": SQLITE_BUSY_TIMEOUT})

        # pysqlite's own transaction handling defers BEGIN and skips it for DDL; take the write lock at BEGIN
        # so that concurrent writers queue instead of failing (SQLAlchemy's documented SQLite recipe).
        @event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    try:
        options = f"-c lock_timeout={LOCK_TIMEOUT * 1000} -c statement_timeout={STATEMENT_TIMEOUT * 1000}"
        return create_engine(
            target.connect_url(),
            pool_pre_ping=True,
            connect_args={"connect_timeout": CONNECT_TIMEOUT, "application_name": "gpverify", "options": options},
        )
    except (NoSuchModuleError, ImportError):
        raise HistoryUnavailable(
            target.setting,
            "the PostgreSQL driver is not installed (pip install 'gpverify[postgresql]', which brings psycopg)",
        ) from None


def _migrated(engine: Engine, target: HistoryTarget) -> Engine:
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            _upgrade(conn, target)
    except HistoryUnavailable:
        engine.dispose()
        raise
    except _Unrecognised:
        engine.dispose()
        if target.engine_name == "sqlite":
            raise
        raise HistoryUnavailable(
            target.setting,
            "the database holds tables gpverify did not create (runs, "
            "results, facts or baselines in another shape); point the history "
            "at an empty database",
        ) from None
    except (SQLAlchemyError, OSError) as exc:
        engine.dispose()
        if target.engine_name == "sqlite" and isinstance(getattr(exc, "orig", None), sqlite3.DatabaseError):
            raise sqlite3.DatabaseError(_cause(exc)) from None  # damage or not: open_engine tells
        raise unavailable(target, exc, "could not open the history") from None
    return engine


def _at_head(conn: Any, tables: set[str]) -> bool:
    """True when the history is at HEAD_REVISION already (the nightly case), read without Alembic."""
    if "alembic_version" not in tables:
        return False
    versions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all())
    return versions == [HEAD_REVISION]


def _create_at_head(conn: Any) -> None:
    """A new history: the newest schema made at once from the metadata, and its version recorded as Alembic
    records it. Importing Alembic (about 150 modules, its dialect support and Mako) is a sixth of a second of CPU
    against a fiftieth for the migrations themselves, and the first audit into an empty folder paid it."""
    metadata.create_all(conn)
    VERSION_TABLE.create(conn)
    conn.execute(insert(VERSION_TABLE).values(version_num=HEAD_REVISION))
    _stamp_user_version(conn, HEAD_REVISION)


def _stamp_user_version(conn: Any, revision: str | None) -> None:
    if conn.dialect.name == "sqlite":  # the version also where any SQLite tool sees it
        conn.exec_driver_sql(f"PRAGMA user_version = {int(revision or 0)}")


def _upgrade(conn: Any, target: HistoryTarget) -> None:
    tables = set(inspect(conn).get_table_names())
    if _at_head(conn, tables):
        return
    if not tables:  # an empty database (a new file): nothing to migrate
        _create_at_head(conn)
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    current = MigrationContext.configure(conn).get_current_revision()
    if current is None and tables & set(LEGACY_COLUMNS):
        _check_legacy(conn, tables)
        command.stamp(alembic_config(conn), LEGACY_REVISION)
        current = LEGACY_REVISION
    if current is not None and current not in {s.revision for s in script.walk_revisions()}:
        raise HistoryUnavailable(
            target.setting,
            f"the history's schema is version {current}, newer than this "
            f"gpverify knows (up to {script.get_current_head()}): upgrade "
            "gpverify on this runner; the history was left untouched",
        )
    if current != script.get_current_head():
        command.upgrade(alembic_config(conn), "head")
    _stamp_user_version(conn, script.get_current_head())


def _check_legacy(conn: Any, tables: set[str]) -> None:
    inspector = inspect(conn)
    for table, columns in LEGACY_COLUMNS.items():
        found = {c["name"] for c in inspector.get_columns(table)} if table in tables else set()
        if found != columns:
            raise _Unrecognised(f"table {table!r} is not the history's (columns {sorted(found) or 'missing'})")


def unavailable(target: HistoryTarget, exc: BaseException, doing: str) -> HistoryUnavailable:
    """One line for a database error: what failed and the driver's cause, the password masked."""
    return HistoryUnavailable(
        target.setting, f"{doing} at {target.display}: {Redactor([target.password]).text(_cause(exc))}"
    )


def _cause(exc: BaseException) -> str:
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    text_ = " ".join(lines[:2]) if lines else type(orig).__name__
    return text_.removeprefix("connection failed: ")
