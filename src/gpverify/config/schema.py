"""The one description of each file format: pydantic models on this base (strict types, bounds, no unknown
fields, no control characters), validated through `validate()` into one ConfigError."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from gpverify.config.yamlfile import config_error
from gpverify.errors import ConfigError

# Control characters: C0, DEL and C1 (a NUL ends a string in Windows, ODBC and C APIs; ESC and its one-byte form
# CSI \x9b start terminal sequences), Unicode's line and paragraph separators, and the bidirectional embeddings,
# overrides and isolates that make printed text read other than it is (Trojan Source, CVE-2021-42574). None is
# part of a name, path or command an administrator writes. Tab and line breaks stay in text (instructions span
# lines); text that is one line (a person's name) refuses them too.
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
CONTROL = re.compile(f"[{_CONTROL}]")
ONE_LINE_CONTROL = re.compile(rf"[\t\n\r{_CONTROL}]")
MAX_DEPTH = 64  # nesting of lists and mappings a document may hold under one field

M = TypeVar("M", bound=BaseModel)


def control_problem(value: Any, where: str = "", depth: int = 0) -> str | None:
    """Where a control character sits in a value (text, or text inside lists and mappings), or None."""
    if depth > MAX_DEPTH:
        return f"at most {MAX_DEPTH} levels of nesting"
    if isinstance(value, str):
        found = CONTROL.search(value)
        return f"text without control characters, but {where or 'it'} holds {found.group()!r}" if found else None
    if isinstance(value, dict):
        for key, item in value.items():
            problem = control_problem(key, f"the key {key!r}", depth + 1) if isinstance(key, str) else None
            problem = problem or control_problem(item, f"{where}.{key}" if where else str(key), depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problem = control_problem(item, f"{where}[{i}]", depth + 1)
            if problem:
                return problem
    return None


def line_problem(text: str, where: str = "") -> str | None:
    """Where a control character, tab or line break sits in text that is one line (a person's name), or None."""
    found = ONE_LINE_CONTROL.search(text)
    return (
        f"one line of text without control characters, but {where or 'it'} holds {found.group()!r}" if found else None
    )


def one_line(value: str) -> str:
    """A field validator for text that is one line (a person's name in a file): line_problem, as a ValueError."""
    problem = line_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def trimmed(value: str) -> str:
    """Text without its surrounding spaces, refused (ValueError) if it holds a control character: Python's strip()
    also takes the separators \\x1c-\\x1f, which would pass a control character the field's check never sees."""
    problem = control_problem(value)
    if problem:
        raise ValueError(problem)
    return value.strip()


class Schema(BaseModel):
    """Base of every file format: unknown fields refused, values of the declared type only (`port: true` is no
    port, `cert_validation: "no"` no boolean), immutable once read, and no text with control characters."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    # After each field's own validation: a nested model has said where in it a control character is (and a
    # host name its pattern), so this sees text in plain fields only, where it names the place itself.
    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        problem = control_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def validate(
    model: type[M],
    data: Any,
    origin: str,
    example: str = "inventory.example.yml",
    known: Iterable[str] = (),
    what: str = "a mapping",
) -> M:
    """`data` as a `model`, or one ConfigError: FILE: FIELD: expected ... (the first problem, the others counted)."""
    if not isinstance(data, dict):
        raise ConfigError(origin, "(top level)", f"{what} (see {example})")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, origin, example, known) from None
