"""Command-line values checked where they are parsed: a bad one is one argparse message, never a traceback."""

from __future__ import annotations

import argparse
import math
import os
import re
import shlex
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gpverify.config.paths import file_problem, history_problem, output_file, output_folder
from gpverify.errors import ConfigError


def seconds(maximum: float = 86400.0, *, allow_zero: bool = True, unit: str = "seconds") -> Callable[[str], float]:
    """An argparse type for a duration: a finite number of `unit` from 0 (or above 0) up to `maximum`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of {unit}, got {text!r}") from None
        lowest = "from 0" if allow_zero else "above 0"
        if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero) or value > maximum:
            raise argparse.ArgumentTypeError(f"expected {unit} {lowest} up to {maximum:g}, got {text!r}")
        return value

    parse.__name__ = unit  # argparse names the type in its message
    return parse


def hours(maximum: float = 24 * 366) -> Callable[[str], float]:
    """An argparse type for a number of hours above 0, up to `maximum` (a year by default)."""
    return seconds(maximum, allow_zero=False, unit="hours")


# A database row id (SQLite INTEGER, PostgreSQL bigint): what `RUN_ID` arguments name.
MAX_ROW_ID = 2**63 - 1


def row_id(text: str) -> int | None:
    """A run id as typed (`12`, `#12`), or None when the text is not one (the caller names what else it takes)."""
    digits = text.removeprefix("#")
    if not re.fullmatch(r"[0-9]{1,19}", digits) or not 1 <= int(digits) <= MAX_ROW_ID:
        return None
    return int(digits)


def count(minimum: int = 1, maximum: int = 10000) -> Callable[[str], int]:
    """An argparse type for a whole number from `minimum` to `maximum`."""

    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]{1,12}", text):  # int() would also take " 5", "1_000" and other scripts' digits
            raise argparse.ArgumentTypeError(f"expected a whole number (digits 0-9), got {text!r}")
        value = int(text)
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"expected a number from {minimum} to {maximum}, got {text!r}")
        return value

    parse.__name__ = "count"
    return parse


def _path(check: Callable[..., Any], what: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        try:
            check(text, "", what)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(f"expected {exc.expected}") from None
        return text

    parse.__name__ = what
    return parse


def folder(what: str = "a folder for reports") -> Callable[[str], str]:
    """An argparse type for a folder gpverify writes into (config.paths.output_folder: never a file or device)."""
    return _path(output_folder, what)


def out_file(what: str = "a file to write") -> Callable[[str], str]:
    """An argparse type for a file gpverify writes (config.paths.output_file: never a folder or a device)."""
    return _path(output_file, what)


def in_file(what: str) -> Callable[[str], str]:
    """An argparse type for a file gpverify reads (config.paths.file_problem: a regular file, size-capped)."""

    def check(text: str, _setting: str, kind: str) -> None:
        problem = file_problem(text, kind)
        if problem:
            raise ConfigError("gpverify", "", problem)

    return _path(check, what)


def pytest_addopts() -> None:
    """Refuse a PYTEST_ADDOPTS pytest could not split (an unterminated quote): pytest would raise deep inside."""
    text = os.environ.get("PYTEST_ADDOPTS", "")
    try:
        shlex.split(text)
    except ValueError as exc:
        raise ConfigError(
            "PYTEST_ADDOPTS",
            "(environment variable)",
            f"options pytest can split as a shell would ({exc}), got {text[:80]!r}",
        ) from None


def history_setting(text: str) -> str:
    """An argparse type for --history: a database URL or SQLite file gpverify can use (config.paths)."""
    problem = history_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(f"expected {problem}")
    return text


history_setting.__name__ = "history"


MAX_NAME = 200  # a person's name as the sign-off record prints it on one line


def person_name(text: str) -> str:
    """A person's name as recorded: one line of up to MAX_NAME characters, runs of spaces collapsed to one. A
    control character, tab or line break is refused (ValueError saying what was expected), never folded away."""
    from gpverify.config.schema import line_problem  # the one definition of what no name holds

    problem = line_problem(text, "the name")
    name = " ".join(text.split())
    if not problem and not name:
        problem = "a person's name, but it is blank"
    if not problem and len(name) > MAX_NAME:
        problem = f"a name of up to {MAX_NAME} characters, but it has {len(name)}"
    if problem:
        raise ValueError(f"{problem}, got {text[:80]!r}")
    return name


def person(text: str) -> str:
    """An argparse type for a person's name (--confirmed-by): config.options.person_name."""
    try:
        return person_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected {exc}") from None


person.__name__ = "name"


def utc_datetime(text: str) -> datetime:
    """An argparse type for a date-time in ISO 8601 (no zone: UTC), such as --backups-since takes."""
    from gpverify.config.inventory import utc_time

    try:
        return utc_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"expected a date-time such as 2026-11-28T22:00:00Z, got {text!r} ({exc})"
        ) from None
