"""A new history is made from the metadata and stamped at the head without Alembic: on SQLite and on PostgreSQL,
the database made so is the one Alembic's migrations make (every table, column, key and index, and the version
table), Alembic reads it at its head and finds nothing to change, and histories at older revisions still migrate."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, inspect, text

from gpverify.history.engine import HEAD_REVISION, MIGRATIONS, alembic_config
from gpverify.history.schema import metadata
from gpverify.history.store import History
from gpverify.history.target import resolve_target

_ENGINES = ["sqlite", "postgresql"]
_names = itertools.count(1)


def _database(engine: str, request: pytest.FixtureRequest, tmp_path: Path, name: str) -> str:
    """A new, empty database: a SQLite file or a PostgreSQL database on the test cluster."""
    if engine == "sqlite":
        return str(tmp_path / name / "history.sqlite")
    cluster = request.getfixturevalue("pg_cluster")
    request.getfixturevalue("pg_url")  # sets the password in the environment for gpverify's own connections
    return str(cluster.new_database(f"{name}{next(_names)}"))


def _engine(url: str) -> Engine:
    return History(resolve_target(url, setting="--history", reports=Path("."))).engine


def _raw_engine(url: str) -> Engine:
    """An engine on the database with no gpverify in between (gpverify's would create the schema on open)."""
    target = resolve_target(url, setting="--history", reports=Path("."))
    if target.sqlite_path is not None:
        target.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return create_engine(target.connect_url())


def _migrated(url: str, revision: str = "head") -> None:
    """The database brought to `revision` by Alembic's own migrations, from empty."""
    engine = _raw_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    engine.dispose()


def _normal(value: Any) -> Any:
    """A server default as the database reports it, without the sequence or table names that differ by name only."""
    return None if value is None else re.sub(r"\s+", " ", str(value))


def describe(conn: Connection) -> dict[str, Any]:
    """Everything the inspector reports of every table: columns (name, type, null, default, autoincrement),
    primary key with its name, foreign keys, indexes and unique constraints."""
    inspector = inspect(conn)
    found: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        pk = inspector.get_pk_constraint(table)
        found[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], _normal(c.get("default")), c.get("autoincrement"))
                for c in inspector.get_columns(table)
            ],
            "pk": (pk.get("name"), pk["constrained_columns"]),
            "fks": sorted(
                (f["constrained_columns"], f["referred_table"], f["referred_columns"])
                for f in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted((i["name"], i["column_names"], i["unique"]) for i in inspector.get_indexes(table)),
            "uniques": sorted((u["name"], u["column_names"]) for u in inspector.get_unique_constraints(table)),
        }
    if conn.dialect.name == "sqlite":  # AUTOINCREMENT (sqlite_autoincrement) shows only in the DDL
        rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all()
        found["autoincrement"] = sorted(name for name, sql in rows if "AUTOINCREMENT" in sql.upper())
    return found


@pytest.mark.parametrize("engine", _ENGINES)
def test_a_new_history_is_the_schema_alembics_migrations_make(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    created, migrated = (_database(engine, request, tmp_path, n) for n in ("created", "migrated"))
    _migrated(migrated)
    made = _engine(created)  # gpverify opens the empty database: it makes the schema itself
    alembics = _engine(migrated)  # at the head already: opened as it is
    with made.connect() as a, alembics.connect() as b:
        assert describe(a) == describe(b)
        assert set(describe(a)) >= {"runs", "results", "facts", "baselines", "alembic_version"}
        assert a.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD_REVISION]
        context = MigrationContext.configure(a)
        assert context.get_current_revision() == ScriptDirectory(str(MIGRATIONS)).get_current_head()
        assert compare_metadata(context, metadata) == []  # autogenerate finds nothing to change
        if engine == "sqlite":  # the version also where any SQLite tool sees it, as after a migration
            assert a.execute(text("PRAGMA user_version")).scalar_one() == int(HEAD_REVISION)
    made.dispose()
    alembics.dispose()


@pytest.mark.parametrize("engine", _ENGINES)
def test_alembic_takes_a_new_history_as_at_its_head_and_upgrades_nothing(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = _database(engine, request, tmp_path, "stamped")
    _engine(url).dispose()
    raw = _raw_engine(url)
    with raw.begin() as conn:
        before = describe(conn)
        command.upgrade(alembic_config(conn), "head")  # nothing to run: a migration here would fail on its tables
        assert describe(conn) == before
        command.downgrade(alembic_config(conn), "0001")  # and Alembic can still walk it back from the head
        assert "site" not in {c["name"] for c in inspect(conn).get_columns("runs")}
    raw.dispose()


@pytest.mark.parametrize("engine", _ENGINES)
def test_a_history_at_an_older_revision_is_still_migrated_by_alembic(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = _database(engine, request, tmp_path, "older")
    _migrated(url, "0001")
    with History(resolve_target(url, setting="--history", reports=Path("."))) as history:
        run = history.start_run("contoso", "inv.yml", "runner-1")
        with history.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD_REVISION
            assert "site" in {c["name"] for c in inspect(conn).get_columns("runs")}
    assert run == 1
