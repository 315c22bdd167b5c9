"""The audit history: every run, its results per (check, test) and its fact snapshot, in reports/history.sqlite."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

HISTORY_FILE = "history.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    farm TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'running',
    exit_code INTEGER,
    waited REAL NOT NULL DEFAULT 0,
    rounds INTEGER NOT NULL DEFAULT 0,
    reports TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS results (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    check_id TEXT NOT NULL,
    test_id TEXT NOT NULL,
    host TEXT,
    outcome TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    waiver TEXT,
    PRIMARY KEY (run_id, check_id, test_id)
);
CREATE TABLE IF NOT EXISTS facts (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    host TEXT NOT NULL,
    facts TEXT NOT NULL,
    PRIMARY KEY (run_id, host)
);
CREATE TABLE IF NOT EXISTS baselines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    captured TEXT NOT NULL,
    farm TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    facts TEXT NOT NULL
);
"""


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class RunRecord:
    id: int
    started: str
    finished: str | None
    farm: str
    source: str
    status: str
    exit_code: int | None
    waited: float
    rounds: int
    reports: dict[str, str]
    results: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (check, test) -> row
    facts: dict[str, Any] = field(default_factory=dict)  # host -> fact dump


class History:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- runs ---------------------------------------------------------------------------------------------

    def start_run(self, farm: str, source: str) -> int:
        with self.db:
            cur = self.db.execute("INSERT INTO runs (started, farm, source) VALUES (?, ?, ?)", (utcnow(), farm, source))
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, *, status: str, exit_code: int, waited: float, rounds: int,
                   reports: dict[str, str], results: list[dict[str, Any]], facts: dict[str, Any]) -> None:
        with self.db:
            self.db.execute(
                "UPDATE runs SET finished=?, status=?, exit_code=?, waited=?, rounds=?, reports=? WHERE id=?",
                (utcnow(), status, exit_code, waited, rounds, json.dumps(reports), run_id))
            self.db.executemany(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(run_id, r["check"], r["test"], r.get("host"), r["outcome"], r.get("message", ""),
                  json.dumps(r["waiver"]) if r.get("waiver") else None) for r in results])
            self.db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?)",
                                [(run_id, host, json.dumps(f, sort_keys=True)) for host, f in facts.items()])

    def _record(self, row: sqlite3.Row, *, full: bool = True) -> RunRecord:
        rec = RunRecord(row["id"], row["started"], row["finished"], row["farm"], row["source"], row["status"],
                        row["exit_code"], row["waited"], row["rounds"], json.loads(row["reports"] or "{}"))
        if full:
            for r in self.db.execute("SELECT * FROM results WHERE run_id=?", (rec.id,)):
                rec.results[(r["check_id"], r["test_id"])] = {
                    "check": r["check_id"], "test": r["test_id"], "host": r["host"], "outcome": r["outcome"],
                    "message": r["message"], "waiver": json.loads(r["waiver"]) if r["waiver"] else None}
            rec.facts = {r["host"]: json.loads(r["facts"])
                         for r in self.db.execute("SELECT host, facts FROM facts WHERE run_id=?", (rec.id,))}
        return rec

    def run(self, run_id: int) -> RunRecord | None:
        row = self.db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        return self._record(row) if row else None

    def last_finished(self, *, before: int | None = None) -> RunRecord | None:
        """The latest finished run (optionally before a given run id)."""
        row = self.db.execute(
            "SELECT * FROM runs WHERE finished IS NOT NULL AND id < ? ORDER BY id DESC LIMIT 1",
            (before if before is not None else 2**62,)).fetchone()
        return self._record(row) if row else None

    def runs(self, limit: int = 10) -> list[RunRecord]:
        rows = self.db.execute("SELECT * FROM runs WHERE finished IS NOT NULL ORDER BY id DESC LIMIT ?",
                               (limit,)).fetchall()
        return [self._record(r) for r in reversed(rows)]

    # --- baselines ----------------------------------------------------------------------------------------

    def save_baseline(self, name: str, farm: str, source: str, facts: dict[str, Any]) -> int:
        with self.db:
            cur = self.db.execute("INSERT INTO baselines (name, captured, farm, source, facts) VALUES (?, ?, ?, ?, ?)",
                                  (name, utcnow(), farm, source, json.dumps(facts, sort_keys=True)))
        return int(cur.lastrowid or 0)

    def baseline(self, name: str = "default") -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM baselines WHERE name=? ORDER BY id DESC LIMIT 1", (name,)).fetchone()
        if not row:
            return None
        return {"id": row["id"], "name": row["name"], "captured": row["captured"], "farm": row["farm"],
                "source": row["source"], "facts": json.loads(row["facts"])}
