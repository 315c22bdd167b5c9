"""Bad input, said once: reading YAML files and turning validation errors into one ConfigError line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gpverify.errors import ConfigError


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps a timestamp which is no real date (2026-02-30) as its text, for the field to name."""


def _timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return loader.construct_yaml_timestamp(node)  # type: ignore[no-untyped-call]
    except (ValueError, OverflowError):  # PyYAML raises a bare ValueError: it would escape as a traceback
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def parse_yaml(text: str, origin: str) -> Any:
    """Parsed YAML, or a ConfigError naming the line that is not valid YAML."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise ConfigError(origin, where, f"valid YAML ({getattr(exc, 'problem', None) or exc})") from None


def read_yaml(path: str | os.PathLike[str], what: str) -> Any:
    """Parsed YAML of a file; `what` names the file's kind in the message when it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(str(path), "(file)", f"a readable {what} ({reason})") from None
    return parse_yaml(text, str(path))


def field_path(loc: tuple[int | str, ...]) -> str:
    """('session_hosts', 1, 'name') -> 'session_hosts[1].name'."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def expected(error: Any, example: str = "inventory.example.yml") -> str:
    """A pydantic error phrased as what was expected (ConfigError prefixes 'expected')."""
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return f"a known field (there is no field of this name; see {example})"
    if kind == "missing":
        return "a value (this field is required)"
    if kind == "too_short":
        return f"at least {error.get('ctx', {}).get('min_length', 1)} entry"
    for prefix in ("Value error, ", "Input should be "):
        msg = msg.removeprefix(prefix)
    got = error.get("input")
    return msg if isinstance(got, (dict, list)) or kind == "value_error" else f"{msg}, got {got!r}"


def config_error(exc: ValidationError, origin: str, example: str = "inventory.example.yml") -> ConfigError:
    """The first validation problem as one ConfigError, counting the others."""
    first = exc.errors()[0]
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return ConfigError(origin, field_path(first["loc"]), expected(first, example) + more)
