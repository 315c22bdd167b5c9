"""One check's result, made once by the plugin and read by the gates, the audit, the reports and the tests."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from gpverify.outcomes import Outcome

# The record rides on its pytest report; the plugin turns it into a plain dict only when the report is serialised
# (pytest-xdist's workers: plugin.pytest_report_to_serializable), so every reader in one process shares it.
REPORT_ATTR = "gpverify_result"
HOST_FIXTURES = {
    "web_server": "web_server",
    "tenant_server": "tenant_services",
    "web_site": "web_server",
    "web_probe": "web_server",
    "session_central": "web_server",
}
SQL_FIXTURES = ("gp_sql", "gp_databases")


@dataclass(frozen=True)
class CheckResult:
    """What one check found on one host (or database), in the words an administrator reads."""

    check: str
    test: str  # pytest's node id: the key across runs (shown only with --gpverify-debug)
    host: str | None
    outcome: Outcome
    message: str = ""  # the check's sentence (already masked): the host or object, expected and found values
    # What the catalogue says of the check; a history row keeps only the impact of them.
    title: str = ""
    section: str = ""
    impact: str = ""
    remediation: str = ""
    phase: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)  # the facts judged, "host: section.key" -> value
    waiver: dict[str, Any] | None = None
    farm: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", Outcome(self.outcome))  # a stored word becomes the enum member

    @property
    def failing(self) -> bool:
        return self.outcome.fails

    @property
    def label(self) -> str:
        return self.outcome.label

    @property
    def name(self) -> str:
        """'GP-POST-002 gp-sh02': the check's ID and what it was run for, the words of its test id's parameters
        (what every output names a result by; the node id itself stays in --gpverify-debug and the history)."""
        params = self.test.rpartition("[")[2].removesuffix("]") if self.test.endswith("]") else ""
        words = params.removeprefix(self.check).strip("-")
        return f"{self.check} {words}".strip()

    def public_dict(self) -> dict[str, Any]:
        """as_dict for what an administrator reads (the audit's JSON, notifications): named, without the node id."""
        data = self.as_dict()
        del data["test"]
        return {"name": self.name, **data}

    def as_dict(self) -> dict[str, Any]:
        """Plain data (the outcome as its word): for JSON, YAML, history rows and xdist's report transport.

        Shallow: evidence and waiver are already plain data, and dataclasses.asdict's deep copy of every evidence
        value was a tenth of a check's reporting time (make bench)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {**data, "outcome": self.outcome.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    @classmethod
    def of(cls, report: Any) -> CheckResult | None:
        """The record the plugin attached to a pytest report, or None for a test that is not a check."""
        data = getattr(report, REPORT_ATTR, None)
        if isinstance(data, CheckResult):  # the record itself, in the process that made it
            return data
        return cls.from_dict(data) if data else None

    def at_worst(self, later: CheckResult) -> CheckResult:
        """The result a test keeps when it reports twice (its clean-up broke after it passed): the worse one, so
        every output counts the test once, at its worst."""
        return later if later.outcome.rank > self.outcome.rank else self

    def waived(self, waiver: dict[str, Any], outcome: Outcome) -> CheckResult:
        return replace(self, waiver=waiver, outcome=outcome)


def host_of(
    item: pytest.Item, hosts: Mapping[str, str], sql_server: str | None, evidence: dict[str, Any]
) -> str | None:
    """The host a check judged: its host parameter, the role its fixture reads, SQL Server, or its evidence.

    `hosts` maps each inventory host name to its role. An item may name it itself (`gpverify_host`: a
    declarative check's host, or the SQL Server of its query).
    """
    named = getattr(item, "gpverify_host", None)
    if isinstance(named, str) and (named in hosts or named == sql_server):
        return named
    callspec = getattr(item, "callspec", None)
    for value in callspec.params.values() if callspec else ():
        if isinstance(value, str) and value in hosts:
            return value
    names = getattr(item, "fixturenames", ())
    for fixture, role in HOST_FIXTURES.items():
        if fixture in names:
            return next((h for h, r in hosts.items() if r == role), None)
    if any(f in names for f in SQL_FIXTURES):
        return sql_server
    judged = {k.split(": ", 1)[0] for k in evidence if ": " in k}  # evidence keys read "host: section.key"
    return judged.pop() if len(judged) == 1 and judged <= set(hosts) else None


_EXPLANATION = re.compile(r"^assert ", re.MULTILINE)


def assertion_message(exc: BaseException) -> str:
    """The check's own sentence from an AssertionError, without pytest's rewritten `assert ... is None` line."""
    text = str(exc).strip()
    match = _EXPLANATION.search(text)
    if match and match.start() > 0:
        text = text[: match.start()].strip()
    return text or type(exc).__name__


def without_host(message: str, host: str | None) -> str:
    """'gp-sh02: X is Stopped' -> 'X is Stopped' when the host is shown beside it."""
    if host and message.lower().startswith(host.lower() + ":"):
        return message[len(host) + 1 :].strip()
    return message


def skip_sentence(reason: str) -> str:
    """pytest's 'Skipped: reason' as a sentence: no prefix, capitalised, ending with a full stop."""
    text = reason.strip().removeprefix("Skipped: ").removeprefix("not verified: ").strip()
    if not text:
        return "Does not apply."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def outcomes_of(results: list[CheckResult]) -> dict[Outcome, int]:
    """How many results ended with each outcome, worst first."""
    counts = Counter(r.outcome for r in results)
    return {o: counts[o] for o in Outcome.worst_first() if counts[o]}


def counts_text(counts: dict[Outcome, int]) -> str:
    """'2 failed, 12 passed, 9 not verified': each outcome counted on its own, in its label."""
    return ", ".join(f"{n} {o.label}" for o, n in counts.items()) or "no checks"


def grouped(results: list[CheckResult]) -> list[tuple[str, str, list[CheckResult]]]:
    """Results that say the same sentence, said once: [(subjects, sentence, results)], in first-seen order.

    A reason that holds for seven checks is one line ("GP-POST-003/004/013 on gp-sh01, gp-sh02: ..."), not the
    same paragraph seven times.
    """
    by_sentence: dict[str, list[CheckResult]] = {}
    for r in results:
        by_sentence.setdefault(without_host(r.message, r.host), []).append(r)
    return [(subjects(rs), sentence, rs) for sentence, rs in by_sentence.items()]


def subjects(results: list[CheckResult]) -> str:
    """'GP-POST-003/004/013 on gp-sh01, gp-sh02; GP-POST-005 on lab-sql': checks on the same hosts together."""
    hosts: dict[str, list[str]] = {}
    for r in results:
        on = hosts.setdefault(r.check, [])
        if r.host and r.host not in on:
            on.append(r.host)
    by_hosts: dict[tuple[str, ...], list[str]] = {}
    for check, names in hosts.items():
        by_hosts.setdefault(tuple(names), []).append(check)
    return "; ".join(
        f"{check_ids(sorted(checks))} on {', '.join(names)}" if names else check_ids(sorted(checks))
        for names, checks in by_hosts.items()
    )


def check_ids(ids: list[str]) -> str:
    """'GP-POST-003/004/013': IDs that share their prefix written once; others joined with '/'."""
    prefix = ids[0].rpartition("-")[0] + "-"
    if len(ids) > 1 and all(i.startswith(prefix) for i in ids):
        return prefix + "/".join(i[len(prefix) :] for i in ids)
    return "/".join(ids)
