"""Every path gpverify reads or writes, checked here once: a regular file or a folder as expected, size-capped;
special files (named pipe, device, socket) never opened for reading, devices never written."""

from __future__ import annotations

import os
import re
import shutil
import stat
import urllib.parse
from collections.abc import Iterable
from pathlib import Path

from gpverify.errors import ConfigError

# Every YAML file gpverify reads (inventory, plan, scenario, waivers) is a few KB; a larger one is a mistake or an
# attack.
MAX_FILE_BYTES = 1024 * 1024
# A PEM bundle (web_server.ca_bundle, winrm.cert_pem...): the system's whole CA bundle is about 220 KB.
MAX_PEM_BYTES = 16 * 1024 * 1024
# state.json of an upgrade run: step output is kept as short tails, so even a long plan stays far below this.
MAX_STATE_BYTES = 64 * 1024 * 1024
# The phase folders of a checks folder (the shipped layout, gpverify.catalogue.PHASES).
PHASE_FOLDERS = ("pre", "web", "hosts", "post", "clients")
# Never O_NONBLOCK on Windows (no such flag): there a named pipe is no file path a user can give by mistake.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def kind(mode: int) -> str:
    """What a stat mode is, in a reader's words."""
    for test, name in (
        (stat.S_ISREG, "regular file"),
        (stat.S_ISDIR, "folder"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISFIFO, "named pipe"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "special file"


def _stat(path: str | os.PathLike[str]) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):  # missing, a symlink loop, a file where a folder should be; ValueError: a NUL
        return None


def _unreadable(path: str | os.PathLike[str]) -> str | None:
    """Why a path that does not stat cannot be read, when it is more than missing (a symlink loop, no access)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _shown(path: str) -> str:
    """A path as a message shows it: a very long one cut, so the message stays one line."""
    return path if len(path) <= 200 else f"{path[:100]}...({len(path)} characters)"


def file_problem(
    path: str | os.PathLike[str], what: str, max_bytes: int = MAX_FILE_BYTES, *, missing_ok: bool = False
) -> str | None:
    """Why `path` cannot be read as a `what` (phrased to follow "expected"), or None when it can."""
    if "\0" in os.fspath(path):
        return f"the {what} to be a path without a NUL character"
    info = _stat(path)
    if info is None:
        reason = _unreadable(path)
        if reason:
            return f"a readable {what} ({_shown(os.fspath(path))}: {reason})"
        return None if missing_ok else f"the {what} to exist ({_shown(os.fspath(path))} does not)"
    if not stat.S_ISREG(info.st_mode):  # /dev/zero, a FIFO or a folder: never opened, so never a hang
        return f"the {what} to be a regular file (this is a {kind(info.st_mode)})"
    if info.st_size > max_bytes:
        return f"a {what} of at most {max_bytes // 1024} KB (this one has {info.st_size:,} bytes)"
    return None


def read_file(
    path: str | os.PathLike[str],
    what: str,
    max_bytes: int = MAX_FILE_BYTES,
    *,
    origin: str | None = None,
    field: str = "(file)",
) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; anything else is one ConfigError.

    The file is opened without blocking and checked again on the open handle, so a path that is swapped for a
    named pipe between the check and the open still never blocks.
    """
    where = origin or os.fspath(path)
    problem = file_problem(path, what, max_bytes)
    if problem:
        raise ConfigError(where, field, problem)
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _BINARY)
    except OSError as exc:
        raise ConfigError(where, field, f"a readable {what} ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(where, field, f"the {what} to be a regular file (this is a {kind(info.st_mode)})")
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise ConfigError(where, field, f"a readable {what} ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise ConfigError(where, field, f"a {what} of at most {max_bytes // 1024} KB")
    return data


def _ancestor_problem(path: Path) -> str | None:
    """A folder that would have to be created where something else stands (`--reports /etc/hostname/x`)."""
    for parent in path.parents:
        info = _stat(parent)
        if info is None:
            continue
        return None if stat.S_ISDIR(info.st_mode) else f"{parent} is a {kind(info.st_mode)}, not a folder"
    return None


def _usable(
    path: str | os.PathLike[str], setting: str, what: str, origin: str
) -> tuple[str, Path, os.stat_result | None]:
    """(the text given, its path, what stands there or None): a name that can be used at all, else one ConfigError."""
    text = os.fspath(path)
    if not text.strip() or "\0" in text:
        raise ConfigError(origin, setting, f"{what}, got {text!r}")
    out = Path(text)
    unusable = _unreadable(out)  # a symlink loop, a name too long, no access
    if unusable:
        raise ConfigError(origin, setting, f"{what}, but {_shown(text)}: {unusable}")
    return text, out, _stat(out)


def output_file(
    path: str | os.PathLike[str], setting: str, what: str = "a file to write", *, origin: str = "gpverify"
) -> Path:
    """A file gpverify will (over)write: missing or a regular file, in a folder that exists or can be made."""
    text, out, info = _usable(path, setting, what, origin)
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise ConfigError(origin, setting, f"{what}: a new or regular file, but {out} is a {kind(info.st_mode)}")
    if text.endswith(("/", os.sep)):
        raise ConfigError(origin, setting, f"{what}, not a folder, got {text!r}")
    problem = _ancestor_problem(out)
    if problem:
        raise ConfigError(origin, setting, f"{what} in a folder, but {problem}")
    return out


def output_folder(
    path: str | os.PathLike[str], setting: str, what: str = "a folder for reports", *, origin: str = "gpverify"
) -> Path:
    """A folder gpverify will write into: missing (it is made) or a folder, never a file or a device."""
    _text, out, info = _usable(path, setting, what, origin)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise ConfigError(origin, setting, f"{what}, but {out} is a {kind(info.st_mode)}")
    problem = _ancestor_problem(out)
    if problem:
        raise ConfigError(origin, setting, f"{what}, but {problem}")
    return out


def checks_folder(path: str | os.PathLike[str], setting: str = "--checks", *, origin: str = "gpverify") -> Path:
    """A folder of checks given on the command line (--checks of run, checks, upgrade and audit, through
    gpverify.customchecks.check_folders): refused before anything runs, so a mistyped path is never a gate that
    collects nothing, hours into an upgrade."""
    text = os.fspath(path)
    folder = Path(text)
    info = _stat(folder) if text.strip() and "\0" not in text else None
    if info is None or not stat.S_ISDIR(info.st_mode):
        unreadable = _unreadable(folder) if info is None and "\0" not in text else None
        what = (
            "a file, not a folder"
            if info is not None and stat.S_ISREG(info.st_mode)
            else f"a {kind(info.st_mode)}, not a folder"
            if info is not None
            else f"cannot be read: {unreadable}"
            if unreadable
            else "no such folder"
        )
        raise ConfigError(origin, setting, f"a folder of your own checks, got {_shown(text)!r} ({what})")
    return folder


def claim_folder(
    path: str | os.PathLike[str], setting: str, marker: str, own: Iterable[str], *, origin: str = "gpverify"
) -> Path:
    """A working folder a command empties and fills: made new, or empty, or one it made earlier (it holds
    `marker`), and then only the entries `own` names are removed. Anything else is refused, never deleted."""
    folder = output_folder(path, setting, "a working folder", origin=origin)
    if folder.is_dir() and any(folder.iterdir()) and not (folder / marker).is_file():
        count = sum(1 for _ in folder.iterdir())
        raise ConfigError(
            origin,
            setting,
            f"a new or empty folder, or one this command made earlier, but {folder} "
            f"holds {count} entr{'y' if count == 1 else 'ies'} it did not make (nothing was deleted; "
            "give another folder)",
        )
    folder.mkdir(parents=True, exist_ok=True)
    for name in own:
        entry = folder / name
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        elif entry.exists() or entry.is_symlink():
            entry.unlink()
    (folder / marker).write_text("made by gpverify; its own entries are replaced on the next start\n", encoding="utf-8")
    return folder


# The history: a SQLite file, or a database URL whose password comes from this variable (or the keyring).
HISTORY_PASSWORD_ENV = "GPVERIFY_HISTORY_PASSWORD"
HISTORY_EXPECTED = "postgresql://USER@HOST[:PORT]/DATABASE, sqlite:///PATH or a file path"


def history_problem(value: str) -> str | None:
    """Why a history setting (--history, the inventory's `history:`) cannot be used, phrased to follow
    "expected"; None when it can. Said without opening anything: `inventory check` and the audit say the same."""
    if not value.strip():
        return f"{HISTORY_EXPECTED}, got an empty value"
    if "://" not in value:
        return file_problem(value, "history file", max_bytes=2**62, missing_ok=True)
    parts = urllib.parse.urlsplit(value)
    try:
        password, port = parts.password, parts.port
    except ValueError:
        password, port = None, -1
    keys = {k.lower() for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
    if password is not None or any("password" in k for k in keys) or parts.fragment:
        # Never echoed: what was typed holds a password; a URL shows in process lists, logs and the audit JSON.
        return (
            f"a URL without a password, but the URL holds a password (user:password@, ?password= or #...), "
            f"which would show in process lists and logs: remove it and set {HISTORY_PASSWORD_ENV} (or the "
            "keyring entry 'gpverify-history' for USER@HOST)"
        )
    if port == -1 or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme):
        return f"{HISTORY_EXPECTED}, but this is not a database URL (its scheme or port)"
    engine = parts.scheme.split("+", 1)[0].lower()
    if engine not in ("postgresql", "sqlite"):
        return f"{HISTORY_EXPECTED}, but this is an engine gpverify does not support ({engine!r})"
    if engine == "sqlite":
        path = urllib.parse.unquote(parts.path.removeprefix("/"))
        return f"{HISTORY_EXPECTED}, but a SQLite URL names a file" if not path else None
    missing = [
        n for n, v in (("user", parts.username), ("host", parts.hostname), ("database", parts.path.strip("/"))) if not v
    ]
    if missing or port == 0:
        return f"{HISTORY_EXPECTED}, but the URL has no {' and no '.join(missing) or 'port other than 0'}"
    return None
