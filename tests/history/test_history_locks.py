"""Issue 23: every wait on a PostgreSQL history is bounded. Another session holds a lock on the history's runs;
`audit`, `fleet` and `history` each end with exit 4 and one message (the audit with its reports written),
within the lock timeout, instead of waiting forever."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_harness import Labs
from pg_cluster import Cluster
from sqlalchemy import create_engine, text

from gpverify.cli.main import main
from gpverify.history import engine as history_engine
from gpverify.history.store import History
from gpverify.history.target import resolve_target


@pytest.fixture
def locked(pg_cluster: Cluster, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A history with one run whose `runs` table another session holds locked (ACCESS EXCLUSIVE: no reader or
    writer gets past it) until the test ends; the timeouts shortened so the test is quick."""
    with History(resolve_target(pg_url, setting="--history", reports=Path("."))) as history:
        history.start_run("farm", "inv.yml")
    monkeypatch.setattr(history_engine, "LOCK_TIMEOUT", 1)
    monkeypatch.setattr(history_engine, "STATEMENT_TIMEOUT", 5)
    holder = create_engine(resolve_target(pg_url, setting="--history", reports=Path(".")).connect_url())
    conn = holder.connect()
    transaction = conn.begin()
    conn.execute(text("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE"))
    try:
        yield pg_url
    finally:
        transaction.rollback()
        conn.close()
        holder.dispose()


def _within(seconds: float, argv: list[str]) -> int:
    """main(argv), failing the test (not hanging the suite) when it takes longer than `seconds`."""
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert result, f"gpverify {' '.join(argv[:2])} still waits on the lock after {seconds} s"
    return result[0]


@pytest.mark.parametrize("command", [["fleet", "--format", "json"], ["history"]])
def test_a_locked_history_is_exit_4_and_one_message(
    command: list[str], locked: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert _within(120, [*command, "--history", locked, "--reports", str(tmp_path)]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lock timeout" in err[0] and "could not read the history" in err[0], err


def test_an_audit_on_a_locked_history_is_exit_4_with_its_reports(
    locked: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labs = Labs(tmp_path / "labs")
    try:
        inventory = labs.start("healthy").inventory_path
        capsys.readouterr()
        # In the main thread: pytest runs the checks there (a lock held forever would hang here, as it did).
        code = main(["audit", "--inventory", str(inventory), "--history", locked, "--reports", str(tmp_path / "r")])
    finally:
        labs.stop()
    assert code == 4
    err = capsys.readouterr().err
    problems = [line for line in err.splitlines() if "could not record this run in the history" in line]
    assert len(problems) == 1 and "lock timeout" in problems[0], err
    assert list((tmp_path / "r").glob("audit-*-unrecorded.html"))
