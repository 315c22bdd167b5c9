"""Where the history lives: a SQLite file (the default, next to the reports) or a PostgreSQL URL, with the
password taken from the environment or the OS keyring, never from the URL, and never shown."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gpverify.config.paths import HISTORY_EXPECTED, HISTORY_PASSWORD_ENV, history_problem
from gpverify.errors import GpVerifyError

if TYPE_CHECKING:  # SQLAlchemy is imported where a URL is made, so `gpverify audit --lab` starts its lab first
    from sqlalchemy.engine import URL

HISTORY_FILE = "history.sqlite"
PASSWORD_ENV = HISTORY_PASSWORD_ENV
KEYRING_SERVICE = "gpverify-history"  # keyring entry: service gpverify-history, user USER@HOST
EXPECTED = HISTORY_EXPECTED


class HistoryUnavailable(GpVerifyError):
    """The history could not be opened, read or written; `setting` names where it was configured."""

    def __init__(self, setting: str, cause: str) -> None:
        super().__init__(setting, cause)
        self.setting = setting
        self.cause = cause

    def __str__(self) -> str:
        return f"{self.setting}: {self.cause}"


@dataclass(frozen=True)
class HistoryTarget:
    """A resolved history location; `setting` says where it came from (an option, an inventory field)."""

    setting: str
    url: URL  # never holds the password
    password: str | None = field(default=None, repr=False)

    @property
    def engine_name(self) -> str:
        return self.url.get_backend_name()

    @property
    def display(self) -> str:
        """The URL as messages show it: no password (there is none in it), PostgreSQL as postgresql://, and the
        values of query parameters masked (libpq takes key files and tokens there: sslkey=, sslpassword=...)."""
        shown = self.url.set(drivername=self.engine_name, query={key: "[redacted]" for key in self.url.query})
        return shown.render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> Path | None:
        return Path(self.url.database or "") if self.engine_name == "sqlite" else None

    def connect_url(self) -> URL:
        return self.url.set(password=self.password) if self.password else self.url

    def __str__(self) -> str:
        return self.display


def sqlite_target(path: str | Path, setting: str | None = None) -> HistoryTarget:
    from sqlalchemy.engine import URL

    path = Path(path)
    return HistoryTarget(setting or str(path), URL.create("sqlite", database=str(path)))


def resolve_target(value: str | None, *, setting: str, reports: Path) -> HistoryTarget:
    """--history / inventory `history:` value -> target; None means reports/history.sqlite (the default).

    Raises HistoryUnavailable naming the setting when the value is not a usable URL or carries a password.
    """
    if not value:
        return sqlite_target(Path(reports) / HISTORY_FILE)
    problem = history_problem(value)  # the inventory's check says the same (config.paths)
    if problem:
        raise HistoryUnavailable(setting, f"expected {problem}")
    if "://" not in value:
        return sqlite_target(value, setting)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError) as exc:
        raise HistoryUnavailable(setting, f"not a database URL ({_first_line(exc)}); expected {EXPECTED}") from None
    if url.password is not None:
        raise HistoryUnavailable(
            setting,
            "the URL holds a password, which would show in process lists and logs; "
            f"remove it and set {PASSWORD_ENV} (or the keyring entry "
            f"'{KEYRING_SERVICE}' for USER@HOST)",
        )
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database:
            raise HistoryUnavailable(setting, f"a SQLite URL names a file: expected {EXPECTED}")
        return HistoryTarget(setting, url.set(drivername="sqlite"))
    if backend != "postgresql":
        raise HistoryUnavailable(setting, f"an engine gpverify does not support ({backend!r}); expected {EXPECTED}")
    if not url.host or not url.database or not url.username:
        missing = [n for n, v in (("user", url.username), ("host", url.host), ("database", url.database)) if not v]
        raise HistoryUnavailable(setting, f"the URL has no {' and no '.join(missing)}; expected {EXPECTED}")
    url = url.set(drivername="postgresql+psycopg")  # psycopg 3 (psycopg[binary]), not SQLAlchemy's psycopg2 default
    return HistoryTarget(setting, url, _password(url))


def _password(url: URL) -> str | None:
    """GPVERIFY_HISTORY_PASSWORD, else the keyring entry gpverify-history / USER@HOST, else none (libpq may
    still find one in PGPASSWORD or ~/.pgpass)."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    try:
        import keyring
        import keyring.errors

        return keyring.get_password(KEYRING_SERVICE, f"{url.username}@{url.host}")
    except Exception:  # noqa: BLE001 - no usable keyring on a server is normal: the environment is the way there
        return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
