"""The history's tables as SQLAlchemy Core metadata: what the newest Alembic revision creates."""

from __future__ import annotations

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, MetaData, PrimaryKeyConstraint, Table, Text

metadata = MetaData()

# Timestamps are ISO 8601 UTC text ("2026-11-29T15:22:47Z"), as the SQLite history has always stored them:
# they sort as text on both engines, and a pre-Alembic file needs no conversion.
runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started", Text, nullable=False),
    Column("finished", Text),
    Column("farm", Text, nullable=False, server_default=""),
    Column("source", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False, server_default="running"),
    Column("exit_code", Integer),
    Column("waited", Float, nullable=False, server_default="0"),
    Column("rounds", Integer, nullable=False, server_default="0"),
    Column("reports", Text, nullable=False, server_default="{}"),
    Column("site", Text, nullable=False, server_default=""),  # the runner machine that made the run
    Column("summary", Text, nullable=False, server_default="{}"),  # counts, newly failing, worst impact (JSON)
    Index("ix_runs_farm_id", "farm", "id"),
    sqlite_autoincrement=True,
)

results = Table(
    "results",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("check_id", Text, nullable=False),
    Column("test_id", Text, nullable=False),
    Column("host", Text),
    Column("outcome", Text, nullable=False),
    Column("message", Text, nullable=False, server_default=""),
    Column("waiver", Text),
    Column("impact", Text),
    PrimaryKeyConstraint("run_id", "check_id", "test_id"),
)

facts = Table(
    "facts",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("host", Text, nullable=False),
    Column("facts", Text, nullable=False),
    PrimaryKeyConstraint("run_id", "host"),
)

baselines = Table(
    "baselines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("captured", Text, nullable=False),
    Column("farm", Text, nullable=False, server_default=""),
    Column("source", Text, nullable=False, server_default=""),
    Column("facts", Text, nullable=False),
    Column("site", Text, nullable=False, server_default=""),
    Index("ix_baselines_farm_name", "farm", "name"),
    sqlite_autoincrement=True,
)

# Columns of the history.sqlite written before the schema was versioned (revision 0001 recreates exactly this).
LEGACY_COLUMNS = {
    "runs": {"id", "started", "finished", "farm", "source", "status", "exit_code", "waited", "rounds", "reports"},
    "results": {"run_id", "check_id", "test_id", "host", "outcome", "message", "waiver"},
    "facts": {"run_id", "host", "facts"},
    "baselines": {"id", "name", "captured", "farm", "source", "facts"},
}
