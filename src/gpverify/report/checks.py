"""gpverify's HTML report of one run of checks: ID, host, check, result, message, remediation, facts inline."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gpverify.errors import FactsUnavailable
from gpverify.outcomes import Outcome
from gpverify.report.render import page
from gpverify.results import CheckResult, grouped, outcomes_of, skip_sentence, without_host

TITLE = "gpverify: Dynamics GP web client scale-out upgrade checks"
# Said once above the table, each with the checks and hosts it holds for; the rows point to it.
SAID_ONCE = (Outcome.NOT_VERIFIED,)


def title(is_lab: bool) -> str:
    """A lab run's report says in its first words that it checked a simulated lab."""
    return f"SIMULATED LAB \u2014 {TITLE}" if is_lab else TITLE


@dataclass(frozen=True)
class Reach:
    """One host's connectivity in this run: reached, or the one-line cause."""

    host: str
    role: str
    reached: bool
    text: str


def connectivity(collected: dict[str, Any], roles: dict[str, str]) -> list[Reach]:
    """A line per host the run contacted (hosts not contacted are left out)."""
    lines = []
    for host in sorted(collected):
        outcome = collected[host]
        if isinstance(outcome, FactsUnavailable):
            lines.append(Reach(host, roles.get(host, ""), False, f"could not be read: {outcome.cause}"))
        else:
            lines.append(Reach(host, roles.get(host, ""), True, "reached; facts collected"))
    return lines


def anchor(host: str) -> str:
    return "gpv-host-" + re.sub(r"[^A-Za-z0-9_-]", "-", host)


def _row(
    result: CheckResult, unreachable: set[str], anchored: set[str], waiver_html: str, reasons: dict[str, int]
) -> dict[str, Any]:
    text = without_host(result.message, result.host) if result.message else ""
    if result.outcome is Outcome.SKIPPED:
        text = skip_sentence(result.message)
    if result.outcome is Outcome.ERROR and result.host in unreachable:
        text = f"Not checked: {result.host} could not be read (see Connectivity above)."
    reason = reasons.get(text) if result.outcome in SAID_ONCE else None
    first = bool(result.host) and result.host not in anchored
    if first and result.host:
        anchored.add(result.host)
    return {
        **result.as_dict(),
        "label": result.outcome.label,
        "text": text,
        "anchor": anchor(result.host) if first and result.host else "",
        "facts": json.dumps(result.evidence, indent=2, default=str) if result.evidence else "",
        "remediation": result.remediation if acted_on(result.outcome) else "",
        "reason": reason,
        "waiver_html": waiver_html,
    }


def acted_on(outcome: Outcome) -> bool:
    """Whether the row shows a remediation: what fails a gate, or was found and must be reviewed or accepted."""
    return outcome.fails or outcome in (Outcome.WARNING, Outcome.WAIVED)


def render(
    results: list[CheckResult],
    *,
    title: str,
    farm: str | None = None,
    profile: str | None = None,
    lab: Any = None,
    reach: list[Reach] | None = None,
    sections: list[str] | None = None,
    waiver_cell: Any = None,
) -> str:
    """The report page; `waiver_cell(waiver dict or None) -> html` adds the Waiver column (the audit's)."""
    reach = reach or []
    unreachable = {r.host for r in reach if not r.reached}
    ordered = sorted(results, key=lambda r: (-r.outcome.rank, r.check, r.test))  # worst first
    anchored: set[str] = set()
    said_once = [
        (subjects, sentence) for subjects, sentence, _ in grouped([r for r in ordered if r.outcome in SAID_ONCE])
    ]
    reasons = {sentence: i for i, (_, sentence) in enumerate(said_once, 1)}
    rows = [_row(r, unreachable, anchored, waiver_cell(r.waiver) if waiver_cell else "", reasons) for r in ordered]
    return page(
        "checks.html.j2",
        title=title,
        farm=farm,
        profile=profile,
        lab=lab,
        connectivity=reach,
        results=rows,
        said_once=said_once,
        counts=list(outcomes_of(ordered).items()),
        sections=sections or [],
        waiver_column=waiver_cell is not None,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
    )
