"""Comparing runs: check outcomes (newly failing, fixed, still failing) and fact drift between snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gpverify.errors import FactsUnavailable
from gpverify.outcomes import Outcome
from gpverify.results import CheckResult


def snapshot(collected: dict[str, Any]) -> dict[str, Any]:
    """Farm.collected() as JSON-ready data: host -> HostFacts.model_dump, or {"unavailable": reason}."""
    out: dict[str, Any] = {}
    for host, facts in sorted(collected.items()):
        if isinstance(facts, FactsUnavailable):
            out[host] = {"unavailable": facts.cause}
        else:
            out[host] = facts.model_dump(mode="json")
    return out


def _item_key(item: Any, index: int) -> str:
    if isinstance(item, dict):
        for k in ("name", "subject", "path", "key"):
            if item.get(k):
                return str(item[k])
    return str(index)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Flattened by path: {'services': {'session_service': [{'name': 'X', 'account': 'A'}]}} becomes
    {'services.session_service[X].account': 'A'}."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        if not value:
            out[prefix] = []
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{_item_key(item, i)}]"))
    else:
        out[prefix] = value
    return out


@dataclass(frozen=True)
class Drift:
    host: str
    fact: str
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        return "appeared" if self.before is None else "disappeared" if self.after is None else "changed"

    def as_dict(self) -> dict[str, Any]:
        return {"host": self.host, "fact": self.fact, "before": self.before, "after": self.after, "kind": self.kind}

    def text(self) -> str:
        return f"{self.host}: {self.fact}: {self.before!r} -> {self.after!r}"


def _stable(flat: dict[str, Any]) -> dict[str, Any]:
    """Facts that describe the configuration: not a process's start time, nor what Session Central and the event log
    report at the moment of reading (status times, sessions, errors), which change between any two runs."""
    return {
        k: v for k, v in flat.items() if not (k.endswith(".started") or k.startswith(("session_central", "events")))
    }


def fact_drift(before: dict[str, Any], after: dict[str, Any]) -> list[Drift]:
    """Every fact that differs between two snapshots, hosts compared only where both snapshots have them."""
    drifts: list[Drift] = []
    for host in sorted(set(before) | set(after)):
        if host not in before or host not in after:
            drifts.append(
                Drift(host, "(host)", "present" if host in before else None, "present" if host in after else None)
            )
            continue
        if "unavailable" in before[host] or "unavailable" in after[host]:
            # A host that could not be read is one line (reached -> the cause), not a line per fact it lost.
            was, now = (before[host].get("unavailable", "reached"), after[host].get("unavailable", "reached"))
            if was != now:
                drifts.append(Drift(host, "(reachability)", was, now))
            continue
        a = _stable(flatten(_shared_checks(before[host], after[host])))
        b = _stable(flatten(_shared_checks(after[host], before[host])))
        for fact in sorted(set(a) | set(b)):
            if a.get(fact) != b.get(fact):
                drifts.append(Drift(host, fact, a.get(fact), b.get(fact)))
    return drifts


def _shared_checks(facts: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """The host's facts without those a declarative check asked for (keys check:ID) that the other snapshot lacks:
    a site check added or removed between two runs changes what was read, not the farm."""
    out = {}
    for section, value in facts.items():
        if isinstance(value, dict):
            found = other.get(section)
            theirs = found if isinstance(found, dict) else {}
            value = {k: v for k, v in value.items() if not (str(k).startswith("check:") and k not in theirs)}
        out[section] = value
    return out


@dataclass
class Changes:
    previous_run: int | None
    newly_failing: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)
    still_failing: list[dict[str, Any]] = field(default_factory=list)
    now_waived: list[dict[str, Any]] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.newly_failing or self.fixed or self.now_waived or self.drift)

    def as_dict(self) -> dict[str, Any]:
        return {
            "previous_run": self.previous_run,
            "newly_failing": self.newly_failing,
            "fixed": self.fixed,
            "still_failing": self.still_failing,
            "now_waived": self.now_waived,
            "fact_drift": [d.as_dict() for d in self.drift],
        }


def compare(
    previous: dict[tuple[str, str], CheckResult] | None,
    current: list[CheckResult],
    previous_facts: dict[str, Any] | None,
    current_facts: dict[str, Any],
    previous_run: int | None,
) -> Changes:
    changes = Changes(previous_run)
    if previous is None:
        return changes
    for r in current:
        before = previous.get((r.check, r.test))
        was = before.outcome if before else None
        entry = {
            "check": r.check,
            "name": r.name,
            "host": r.host,
            "title": r.title,
            "before": was.value if was else None,
            "after": r.outcome.value,
            "message": r.message,
        }
        if r.failing:
            (changes.still_failing if was and was.fails else changes.newly_failing).append(entry)
        elif r.outcome is Outcome.WAIVED:
            if was is not Outcome.WAIVED:
                changes.now_waived.append(entry)
        elif was and was.fails:
            changes.fixed.append(entry)
    changes.drift = fact_drift(previous_facts or {}, current_facts) if previous_facts is not None else []
    return changes
