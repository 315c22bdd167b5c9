"""The history behind one interface, on SQLite and on PostgreSQL: runs kept per farm, interrupted runs never a
comparison base, concurrent writers, the schema version, newer schemas refused, damaged SQLite files set aside."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from gpverify.history.engine import HEAD_REVISION, head_revision
from gpverify.history.store import History
from gpverify.history.target import HistoryUnavailable, resolve_target
from gpverify.outcomes import Outcome
from gpverify.results import CheckResult

# history.sqlite as gpverify wrote it before the schema was versioned (gpverify 0.1.0, main before issue 16)
LEGACY_SCHEMA = """
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, started TEXT NOT NULL, finished TEXT,
    farm TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT 'running',
    exit_code INTEGER, waited REAL NOT NULL DEFAULT 0, rounds INTEGER NOT NULL DEFAULT 0,
    reports TEXT NOT NULL DEFAULT '{}');
CREATE TABLE results (run_id INTEGER NOT NULL REFERENCES runs(id), check_id TEXT NOT NULL, test_id TEXT NOT NULL,
    host TEXT, outcome TEXT NOT NULL, message TEXT NOT NULL DEFAULT '', waiver TEXT,
    PRIMARY KEY (run_id, check_id, test_id));
CREATE TABLE facts (run_id INTEGER NOT NULL REFERENCES runs(id), host TEXT NOT NULL, facts TEXT NOT NULL,
    PRIMARY KEY (run_id, host));
CREATE TABLE baselines (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, captured TEXT NOT NULL,
    farm TEXT NOT NULL DEFAULT '', source TEXT NOT NULL DEFAULT '', facts TEXT NOT NULL);
INSERT INTO runs (started, finished, farm, source, status, exit_code, rounds, reports)
    VALUES ('2026-11-01T02:00:00Z', '2026-11-01T02:01:00Z', 'contoso', 'inv.yml', 'failed', 1, 1, '{}');
INSERT INTO results VALUES (1, 'GP-POST-002', 't[gp-sh02]', 'gp-sh02', 'failed', 'Stopped', NULL);
INSERT INTO facts VALUES (1, 'gp-sh02', '{"a": 1}');
"""


def _open(url: str) -> History:
    return History(resolve_target(url, setting="--history", reports=Path(".")))


def _result(check: str, test: str, outcome: str, impact: str = "high") -> CheckResult:
    return CheckResult(check=check, test=test, host="gp-sh01", outcome=Outcome(outcome), impact=impact)


def _record(history: History, farm: str, outcomes: list[str], *, status: str = "passed", newly: int = 0) -> int:
    run = history.start_run(farm, f"{farm}.yml", "runner-1")
    history.finish_run(
        run,
        status=status,
        exit_code=0,
        waited=0.0,
        rounds=1,
        reports={"html": f"/r/{farm}.html"},
        results=[_result(f"GP-POST-{i:03}", f"t{i}", o) for i, o in enumerate(outcomes)],
        facts={"gp-sh01": {"farm": farm}},
        newly_failing=newly,
    )
    return run


def test_runs_baselines_and_comparisons_stay_within_one_farm(history_url: str) -> None:
    with _open(history_url) as history:
        a1 = _record(history, "contoso", ["passed", "failed"])
        b1 = _record(history, "fabrikam", ["passed"])
        interrupted = history.start_run("contoso", "contoso.yml")
        history.mark_interrupted(interrupted)
        unfinished = history.start_run("contoso", "contoso.yml")  # a runner killed mid-run: never finished
        history.save_baseline("default", "fabrikam", "f.yml", {"gp-sh01": {"x": 1}})

        last = history.last_finished(farm="contoso")
        assert last is not None and last.id == a1 and last.farm == "contoso" and last.site == "runner-1"
        assert last.facts == {"gp-sh01": {"farm": "contoso"}}
        assert {k: r.outcome for k, r in last.results.items()} == {
            ("GP-POST-000", "t0"): "passed",
            ("GP-POST-001", "t1"): "failed",
        }
        assert history.last_finished(farm="fabrikam").id == b1  # type: ignore[union-attr]
        assert history.last_finished(farm="nobody") is None
        assert history.baseline("default", farm="contoso") is None
        assert history.baseline("default", farm="fabrikam")["facts"] == {"gp-sh01": {"x": 1}}  # type: ignore[index]
        assert history.farms() == ["contoso", "fabrikam"]
        latest = {r.farm: r for r in history.latest_per_farm()}
        assert {f: r.id for f, r in latest.items()} == {"contoso": a1, "fabrikam": b1}
        assert latest["contoso"].summary.model_dump() == {
            "counts": {"passed": 1, "failed": 1},
            "newly_failing": 0,
            "worst_impact": "high",
        }
        statuses = {r.id: r.status for r in history.runs(10, farm="contoso")}
        assert statuses == {a1: "passed", interrupted: "interrupted"} and unfinished not in statuses


def test_concurrent_writers_lose_and_mix_nothing(history_url: str) -> None:
    """Eight runners at once, each with its own engine (its own connections), five runs each."""
    _open(history_url).close()  # created and migrated once, as the first nightly run would
    errors: list[BaseException] = []

    def runner(n: int) -> None:
        try:
            with _open(history_url) as history:
                for _ in range(5):
                    _record(history, f"farm-{n}", ["passed"] * n + ["failed"])
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with _open(history_url) as history:
        for n in range(1, 9):
            runs = history.runs(100, farm=f"farm-{n}")
            assert len(runs) == 5 and len({r.id for r in runs}) == 5
            for run in runs:
                assert run.facts == {"gp-sh01": {"farm": f"farm-{n}"}}
                assert sorted(r.outcome for r in run.results.values()) == ["failed"] + ["passed"] * n


def test_the_schema_carries_its_version(history_url: str) -> None:
    with _open(history_url) as history, history.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision()
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA user_version")).scalar_one() == int(head_revision())


def test_head_revision_is_alembics_head_and_a_history_is_made_and_opened_without_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    assert HEAD_REVISION == head_revision()  # a new migration must move HEAD_REVISION with it
    path = tmp_path / "history.sqlite"
    code = (
        "import sys; from pathlib import Path; from gpverify.history.store import History; "
        "from gpverify.history.target import resolve_target; "
        f"History(resolve_target({str(path)!r}, setting='--history', reports=Path('.'))).close(); "
        "print('alembic' in sys.modules)"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
        for _ in range(2)
    ]
    # created from the metadata (tests/history/test_history_schema.py), then opened at the head: no Alembic
    assert [r.stdout.strip() for r in runs] == ["False", "False"]


def test_a_schema_from_a_newer_gpverify_is_refused_and_left_untouched(history_url: str) -> None:
    with _open(history_url) as history, history.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(HistoryUnavailable) as raised:
        _open(history_url)
    message = str(raised.value)
    assert message.startswith("--history: ") and "version 9999, newer than this gpverify knows" in message
    assert "upgrade gpverify" in message
    if "://" not in history_url:
        assert [p.name for p in Path(history_url).parent.iterdir()] == ["history.sqlite"]  # not set aside


def test_a_pre_versioning_history_sqlite_is_migrated_with_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(LEGACY_SCHEMA)
    with History(path) as history:
        old = history.last_finished(farm="contoso")
        assert old is not None and old.id == 1 and old.status == "failed" and old.site == ""
        assert old.results[("GP-POST-002", "t[gp-sh02]")].outcome == "failed"
        assert history.start_run("contoso", "inv.yml") == 2
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (int(head_revision()),)


def test_a_locked_history_sqlite_is_one_message_and_never_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gpverify.history import engine

    path = tmp_path / "history.sqlite"
    History(path).close()
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT", 0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another writer that holds the file
    try:
        with pytest.raises(HistoryUnavailable) as raised:
            History(path, warn=pytest.fail)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert str(raised.value).startswith(f"{path}: could not open {path}: database is locked")
    assert [p.name for p in tmp_path.iterdir()] == ["history.sqlite"]


def _truncated(path: Path) -> None:
    with History(path) as history:
        for n in range(30):
            _record(history, f"farm-{n}", ["passed"] * 20)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign-tables"])
def test_a_damaged_history_sqlite_is_set_aside_and_a_new_one_started(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "reports" / "history.sqlite"
    path.parent.mkdir()
    if damage == "garbage":
        path.write_bytes(b"this is not a database\n" * 200)
    elif damage == "truncated":
        _truncated(path)
    else:  # a table called runs that is not the history's
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE runs (name TEXT)")
    before = path.read_bytes()
    warnings: list[str] = []
    with History(path, warn=warnings.append) as history:
        assert history.farms() == []
        _record(history, "contoso", ["passed"])
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: {path}: ") and "set aside as" in warnings[0]
    kept = [p for p in path.parent.iterdir() if p.name.startswith("history.sqlite.damaged-")]
    assert len(kept) == 1 and kept[0].read_bytes() == before and kept[0].name in warnings[0]
    with History(path, warn=warnings.append) as history:
        assert history.farms() == ["contoso"] and len(warnings) == 1
