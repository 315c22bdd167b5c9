"""Remediations link pages an administrator opens (issue 22 item 5): every source a remediation names is a
learn.microsoft.com page (or a KB article's URL), never a docs file name such as troubleshooting.md."""

from __future__ import annotations

import re

import pytest

from gpverify.catalogue import CheckInfo
from gpverify.config.shipped import checks_root
from gpverify.pytestrun import collect_checks

URL = re.compile(r"https?://[^\s),;]+")
# Where a remediation may send an administrator: Microsoft's GP and SQL Server documentation, GP's support articles.
OPENABLE = re.compile(
    r"https://learn\.microsoft\.com/(dynamics-gp|troubleshoot/dynamics/gp|sql)/[\w/.-]+[\w](#[\w-]+)?"
    r"|https://support\.microsoft\.com/help/\d{6,7}"
)
DOC_FILE = re.compile(r"(?<![\w/.-])[\w/-]+\.md\b")  # a page of the docs repository by its file name
BARE_KB = re.compile(r"\bKB ?\d{6,7}\b(?! \(https://)")  # a KB number without its article's URL beside it


def remediations() -> dict[str, str]:
    run = collect_checks([checks_root()])
    return {info.id: info.remediation for info, _ in run.collected if isinstance(info, CheckInfo)}


def unopenable(text: str) -> list[str]:
    """What in a remediation names a source an administrator cannot open."""
    return [
        *DOC_FILE.findall(text),
        *BARE_KB.findall(text),
        *(url for url in URL.findall(text) if not OPENABLE.fullmatch(url.rstrip("."))),
    ]


def test_every_shipped_remediation_names_its_sources_as_links() -> None:
    found = remediations()
    assert len(found) >= 40, sorted(found)
    bad = {check: problems for check, text in found.items() if (problems := unopenable(text))}
    assert not bad, bad
    linked = [check for check, text in found.items() if URL.search(text)]
    assert len(linked) >= 30  # most name the guide's page they follow


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("run the wizard again (troubleshooting.md).", "troubleshooting.md"),
        ("see upgrade/system-preparation.md, Backups", "upgrade/system-preparation.md"),
        ("as KB 850662 describes", "KB 850662"),
        ("see http://example.com/gp", "http://example.com/gp"),
    ],
)
def test_the_rule_finds_what_an_administrator_cannot_open(text: str, problem: str) -> None:
    assert unopenable(text) == [problem]


def test_a_remediation_without_a_source_is_fine() -> None:
    assert unopenable("Start the service on this host.") == []
    assert unopenable("as KB 850662 (https://support.microsoft.com/help/850662) describes") == []
