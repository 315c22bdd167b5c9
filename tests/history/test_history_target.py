"""Where the history lives: URL checks, the password from the environment or the keyring (never the URL), and
messages that name the setting without showing a secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_cluster import Cluster

from gpverify.history.store import History
from gpverify.history.target import KEYRING_SERVICE, PASSWORD_ENV, HistoryUnavailable, resolve_target


def _resolve(value: str | None) -> object:
    return resolve_target(value, setting="--history", reports=Path("reports"))


@pytest.mark.parametrize(
    ("value", "cause"),
    [
        ("postgresql://gpverify@db:port/history", "not a database URL"),
        ("postgres ql://x", "not a database URL"),
        ("mysql://gpverify@db/history", "an engine gpverify does not support ('mysql')"),
        ("postgresql://db/history", "the URL has no user"),
        ("postgresql://gpverify@/history", "the URL has no host"),
        ("postgresql://gpverify@db", "the URL has no database"),
        ("sqlite://", "a SQLite URL names a file"),
    ],
)
def test_a_url_gpverify_cannot_use_is_one_message_naming_the_setting(value: str, cause: str) -> None:
    with pytest.raises(HistoryUnavailable) as raised:
        _resolve(value)
    assert str(raised.value).startswith("--history: ") and cause in str(raised.value)
    assert "expected postgresql://USER@HOST[:PORT]/DATABASE" in str(raised.value) or "holds" in str(raised.value)


def test_a_password_in_the_url_is_refused_without_being_shown() -> None:
    with pytest.raises(HistoryUnavailable) as raised:
        _resolve("postgresql://gpverify:S3cret-Pass@db.example.com/history")
    assert "holds a password" in str(raised.value) and PASSWORD_ENV in str(raised.value)
    assert "S3cret-Pass" not in str(raised.value) and "S3cret-Pass" not in repr(raised.value)


def test_the_default_is_history_sqlite_in_the_reports_folder_and_paths_are_sqlite_files() -> None:
    assert _resolve(None).sqlite_path == Path("reports") / "history.sqlite"  # type: ignore[attr-defined]
    assert _resolve("/srv/h.sqlite").sqlite_path == Path("/srv/h.sqlite")  # type: ignore[attr-defined]
    assert _resolve("sqlite:////srv/h.sqlite").sqlite_path == Path("/srv/h.sqlite")  # type: ignore[attr-defined]
    assert _resolve("sqlite:///h.sqlite").sqlite_path == Path("h.sqlite")  # type: ignore[attr-defined]


def test_the_password_comes_from_the_environment_and_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "Env-Secret-1")
    target = _resolve("postgresql://gpverify@db.example.com:5433/history")
    assert target.password == "Env-Secret-1"  # type: ignore[attr-defined]
    assert target.connect_url().password == "Env-Secret-1"  # type: ignore[attr-defined]
    shown = f"{target} {target!r} {target.display}"  # type: ignore[attr-defined]
    assert "Env-Secret-1" not in shown and "postgresql://gpverify@db.example.com:5433/history" in shown


@pytest.fixture
def memory_keyring() -> Iterator[dict[tuple[str, str], str]]:
    """A keyring backend in memory, so the test never touches the machine's keyring."""
    import keyring
    import keyring.backend

    entries: dict[tuple[str, str], str] = {}

    class Memory(keyring.backend.KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return entries.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            entries[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            entries.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(Memory())
    yield entries
    keyring.set_keyring(previous)


def test_the_password_comes_from_the_keyring_when_the_environment_has_none(
    memory_keyring: dict[tuple[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    memory_keyring[(KEYRING_SERVICE, "gpverify@db.example.com")] = "Keyring-Secret-1"
    assert _resolve("postgresql://gpverify@db.example.com/history").password == "Keyring-Secret-1"  # type: ignore[attr-defined]
    assert _resolve("postgresql://other@db.example.com/history").password is None  # type: ignore[attr-defined]


def test_a_database_that_does_not_exist_is_named(pg_cluster: Cluster, pg_url: str) -> None:
    target = _resolve(pg_url.rsplit("/", 1)[0] + "/nosuchdb")
    with pytest.raises(HistoryUnavailable) as raised:
        History(target)  # type: ignore[arg-type]
    assert 'database "nosuchdb" does not exist' in str(raised.value)
    assert pg_cluster.password not in str(raised.value)


def test_tables_gpverify_did_not_create_are_refused_on_postgresql(pg_cluster: Cluster, pg_url: str) -> None:
    from sqlalchemy import create_engine, text

    target = _resolve(pg_url)
    engine = create_engine(target.connect_url())  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE runs (name TEXT)"))
    engine.dispose()
    with pytest.raises(HistoryUnavailable) as raised:
        History(target)  # type: ignore[arg-type]
    assert "tables gpverify did not create" in str(raised.value)
