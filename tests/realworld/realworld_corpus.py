"""The real-world corpus: reading its artifacts and manifest, and the few helpers the tests share.

Every artifact is kept exactly as published (MANIFEST.yml says how each was cut from its page). Where a test
needs what the page *shows* rather than its Markdown source, `shown_lines` derives it here, in one place, so
the stored text is never corrected.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from gpverify.facts.view import HostView
from gpverify.facts.windows import HostFacts
from gpverify.verdicts import CheckWarning, NotVerified

HERE = Path(__file__).parent
ARTIFACTS = HERE / "artifacts"
MANIFEST = HERE / "MANIFEST.yml"


def uses(*names: str) -> pytest.MarkDecorator:
    """Mark a test as exercising these artifacts (the manifest test reads these marks from the source)."""
    return pytest.mark.artifact(*names)


def text(name: str) -> str:
    """An artifact's text as stored (UTF-8, line endings untouched)."""
    with (ARTIFACTS / name).open(encoding="utf-8", newline="") as handle:
        return handle.read()


@cache
def manifest() -> dict[str, dict[str, Any]]:
    """MANIFEST.yml's entries by file name."""
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return {entry["file"]: entry for entry in data["artifacts"]}


_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|])")


def unescape(markdown: str) -> str:
    """Markdown backslash escapes as the page shows them outside code (``\\_`` is ``_``)."""
    return _ESCAPED.sub(r"\1", markdown)


def shown_lines(name: str) -> list[str]:
    """The lines a Markdown excerpt shows: indentation, block-quote markers and hard-break spaces removed."""
    lines = []
    for line in text(name).splitlines():
        shown = line.strip()
        shown = re.sub(r"^>\s?", "", shown).strip()
        if shown:
            lines.append(shown)
    return lines


def table(name: str) -> dict[str, str]:
    """A two-column Markdown table excerpt as {first cell: second cell}, cells trimmed (header rows skipped)."""
    rows = {}
    for line in shown_lines(name):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and not set(cells[0]) <= set("-: ") and cells[0] not in ("Name", "Property name"):
            rows[cells[0]] = cells[1]
    return rows


def like(value: str, pattern: str) -> bool:
    """PowerShell's -like, as collector.ps1 matches service and product names: a case-insensitive wildcard."""
    return fnmatchcase(value.lower(), pattern.lower())


def host(name: str, evidence: dict[str, Any] | None = None, **sections: Any) -> HostView:
    """A HostView over facts built from an artifact (the sections of HostFacts: texts, dictionaries, ...); what a
    check reads of it is recorded in `evidence`."""
    facts = HostFacts.model_validate({"computer": name.upper(), **sections})
    return HostView(name, facts, {} if evidence is None else evidence)


def outcome(check: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, str]:
    """Run a check function directly: ('passed' | 'warning' | 'not verified' | 'skipped' | 'failed', message)."""
    try:
        check(*args, **kwargs)
    except CheckWarning as exc:
        return "warning", exc.message
    except NotVerified as exc:
        return "not verified", exc.message
    except pytest.skip.Exception as exc:
        return "skipped", str(exc)
    except AssertionError as exc:
        return "failed", str(exc)
    return "passed", ""
