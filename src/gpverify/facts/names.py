"""Names and flags as GP's data writes them: a machine by short name or FQDN, a flag in its usual spellings."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any


def short_name(name: Any) -> str:
    """gp-sh01.contoso.com -> gp-sh01 (lower case): inventories, the snap-in and Session Central may use either."""
    return str(name).strip().split(".")[0].lower()


def truthy(value: Any) -> str:
    """A flag's value in one spelling: 'true'/'false' for booleans and their usual forms, else the text."""
    text = str(value).strip().lower()
    return {"1": "true", "yes": "true", "y": "true", "0": "false", "no": "false", "n": "false"}.get(text, text)


def like(value: str, pattern: str) -> bool:
    """PowerShell's -like, which the collector matches names with: case-insensitive, * ? and [ ] wildcards."""
    return fnmatchcase(str(value).lower(), str(pattern).lower())
