"""History fixtures: a PostgreSQL cluster for the session (skipped with the reason only where it truly cannot
start, and a failure instead when CI is set), and a history target per engine."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audit"))  # audit_harness: labs and in-process audits

from pg_cluster import Cluster, ClusterUnavailable

from gpverify.history.target import PASSWORD_ENV

_names = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    try:
        cluster = Cluster()
    except ClusterUnavailable as exc:
        reason = f"PostgreSQL could not be started for the history tests: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: these tests must run there, not be skipped)")
        pytest.skip(reason)
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh database on the cluster; its password is in GPVERIFY_HISTORY_PASSWORD, as a runner would have it."""
    monkeypatch.setenv(PASSWORD_ENV, pg_cluster.password)
    return pg_cluster.new_database(f"history{next(_names)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same tests on both engines: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "reports" / "history.sqlite")
    return str(request.getfixturevalue("pg_url"))
