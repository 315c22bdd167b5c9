"""The upgrade verification record of a run, for change management: its verdict first, then what backs it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from gpverify.outcomes import Outcome
from gpverify.report.render import page
from gpverify.results import CheckResult, counts_text, outcomes_of, without_host

RECORD = "verification-record"
# What the record's digest covers: what the run wrote about itself (not the lab's own files).
EVIDENCE = ("state.json", "summary.txt", "*.results.json", "*.html", "*.log", "lab-journal.json")
COMPLETE, NOT_COMPLETE = "COMPLETE", "NOT COMPLETE - DO NOT SIGN"
# Outcomes a signer reads one by one before signing: they pass a gate, but nothing (or a person) verified them.
TO_READ = (Outcome.NOT_VERIFIED, Outcome.ATTESTED, Outcome.WAIVED, Outcome.WARNING)
# A run's item statuses (gpverify.runner.state.ItemStatus) in a signer's words.
STATUS_WORDS = {
    "pending": "not started",
    "started": "started, not finished",
    "waiting": "waiting for its operator",
    "done": "done",
    "passed": "passed",
    "failed": "failed",
}
RUN_WORDS = {
    "complete": "complete",
    "stopped": "stopped",
    "interrupted": "interrupted (Ctrl-C)",
    "running": "running, or killed while running",
    "incomplete": "incomplete (the reports folder refused a write)",
}
# What each phase's gate checks, in the guide's order (scale-out-upgrade.md).
GATE_WORDS = {
    "pre": "Checks before the upgrade",
    "web": "Checks of the web server after its upgrade",
    "hosts": "Checks of the session host after its upgrade",
    "post": "Checks that the upgraded farm works",
    "clients": "Checks of the client machines",
}
STEP_WORDS = {"manual": "Manual step", "remote": "Remote command", "local": "Local command"}


@dataclass(frozen=True)
class PlanItem:
    """One step or gate of the run's plan, in plan order (the runner's Plan.items(), as plain data)."""

    id: str
    kind: str  # manual | remote | local | gate
    title: str  # the step's title, or the gate's checks as typed: "checks/hosts --host gp-sh01"
    phase: str
    host: str | None = None
    select: str | None = None  # a gate's -k expression of check IDs


@dataclass(frozen=True)
class EvidenceFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Line:
    """One row of the steps-and-gates table."""

    number: int
    id: str
    kind: str  # "Manual step", "Gate"...
    title: str
    status: str
    ok: bool
    who: str = ""  # the person who confirmed a manual step, or the result of a command or gate
    detail: str = ""  # the second line: the account it was entered under, and the answer given
    how: str = ""  # how it was confirmed: "--yes --confirmed-by", "typed at the terminal"
    when: str = ""


@dataclass(frozen=True)
class Gate:
    id: str
    title: str
    command: str
    status: str
    counts: dict[Outcome, int]
    results: list[CheckResult]
    report: str | None
    select: str | None = None  # the checks it was limited to (a -k expression of check IDs)

    @property
    def summary(self) -> str:
        return counts_text(self.counts) if self.results else "no results recorded (the gate did not run)"


@dataclass(frozen=True)
class ToRead:
    """Results a signer reads before signing: one check that ended the same way for the same reason, with the
    gates and hosts it ended so on (a reason is said once, not once per host)."""

    result: CheckResult  # the first of them
    gates: list[str]
    hosts: list[str]

    @classmethod
    def grouped(cls, found: list[tuple[str, CheckResult]]) -> list[ToRead]:
        groups: dict[tuple[str, str, str], ToRead] = {}
        for gate, r in found:
            group = groups.setdefault((r.outcome.value, r.check, r.message), cls(r, [], []))
            group.gates.extend([gate] if gate not in group.gates else [])
            group.hosts.extend([r.host] if r.host and r.host not in group.hosts else [])
        return list(groups.values())


@dataclass(frozen=True)
class Verdict:
    complete: bool
    reasons: list[str]  # why it is not complete (empty when it is)

    @property
    def headline(self) -> str:
        return COMPLETE if self.complete else NOT_COMPLETE


@dataclass(frozen=True)
class SignoffRecord:
    run_id: str
    status: str
    verdict: Verdict
    farm: str | None
    inventory: str
    plan_source: str
    lab: str | None
    started: str
    last_change: str
    written: str
    version: str
    message: str
    lines: list[Line]
    gates: list[Gate]
    to_read: list[ToRead]
    stopping: list[ToRead]  # what failed or could not run, for a run that is not complete
    waivers: list[dict[str, Any]]
    evidence: list[EvidenceFile]
    evidence_sha256: str
    outcomes: list[Outcome] = field(default_factory=list)  # the columns of the counts table, worst first

    def html(self) -> str:
        return page("signoff.html.j2", record=self, Outcome=Outcome)


def record_time(stamp: str | None, zone: tzinfo | None = None) -> str:
    """'2026-12-06 21:48:32 UTC+01:00': to the second, in `zone` (default: this machine's), the zone always said."""
    if not stamp:
        return ""
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(zone)
    offset = when.strftime("%z")
    name = "UTC" if offset in ("+0000", "-0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{when:%Y-%m-%d %H:%M:%S} {name}"


def evidence_files(folder: Path) -> list[EvidenceFile]:
    found: dict[str, Path] = {}
    for pattern in EVIDENCE:
        for path in folder.glob(pattern):
            if path.is_file() and not path.name.startswith(RECORD):
                found[path.name] = path
    return [
        EvidenceFile(name, p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for name, p in sorted(found.items())
    ]


def evidence_digest(files: list[EvidenceFile]) -> str:
    """SHA-256 over 'digest  name' lines (as sha256sum prints them): one value for the whole evidence."""
    return hashlib.sha256("".join(f"{f.sha256}  {f.name}\n" for f in files).encode()).hexdigest()


def build_record(
    folder: Path,
    run: Mapping[str, Any],
    plan: list[PlanItem],
    waivers: list[Any] | None = None,
    zone: tzinfo | None = None,
) -> SignoffRecord:
    """The record of the run in `folder`: `run` is its state.json, `plan` its steps and gates in order."""
    entries: dict[str, Any] = run.get("items") or {}
    items = _with_unplanned(plan, entries)
    by_id = {item.id: _gate(item, entries.get(item.id) or {}, folder) for item in items if item.kind == "gate"}
    lines = [_line(n, item, entries.get(item.id) or {}, by_id.get(item.id), zone) for n, item in enumerate(items, 1)]
    gates = list(by_id.values())
    found = [(g.id, r) for g in gates for r in g.results]
    files = evidence_files(folder)
    return SignoffRecord(
        **_about(folder, run, zone),
        verdict=_verdict(run, items, entries),
        farm=_farm(found),
        lines=lines,
        gates=gates,
        to_read=_to_read(found),
        stopping=ToRead.grouped([(g, r) for g, r in found if r.failing]),
        waivers=_waivers(found, waivers),
        evidence=files,
        evidence_sha256=evidence_digest(files),
        outcomes=[o for o in Outcome.worst_first() if any(o in g.counts for g in gates)],
    )


def _with_unplanned(plan: list[PlanItem], entries: Mapping[str, Any]) -> list[PlanItem]:
    """The plan's items, then any the state records that the plan does not name (a hand-edited state)."""
    known = {i.id for i in plan}
    return plan + [PlanItem(i, "gate" if i.startswith("gate-") else "step", i, "") for i in entries if i not in known]


def _farm(found: list[tuple[str, CheckResult]]) -> str | None:
    return next((r.farm for _, r in found if r.farm), None)


def _to_read(found: list[tuple[str, CheckResult]]) -> list[ToRead]:
    """The results to read before signing, by outcome (not verified first), each reason once."""
    return ToRead.grouped([(g, r) for o in TO_READ for g, r in found if r.outcome is o])


def _about(folder: Path, run: Mapping[str, Any], zone: tzinfo | None) -> dict[str, Any]:
    """The run's own facts: its id, status, inventory, plan, lab scenario and times."""
    history = run.get("history") or [{}]
    status = str(run.get("status", ""))
    return {
        "run_id": str(run.get("run_id", folder.name)),
        "status": RUN_WORDS.get(status, status),
        "inventory": str(run.get("inventory", "")),
        "plan_source": str(run.get("plan_source") or ""),
        "lab": (run.get("lab") or {}).get("scenario"),
        "started": record_time(run.get("created"), zone),
        "last_change": record_time(history[-1].get("at"), zone),
        "version": _version(),
        "written": record_time(datetime.now(UTC).isoformat(), zone),
        "message": str(run.get("message") or ""),
    }


def _waivers(found: list[tuple[str, CheckResult]], waivers: list[Any] | None) -> list[dict[str, Any]]:
    """The waivers given for this change, then those the gates applied that were not given."""
    given = [
        {
            "check": w.check,
            "host": w.host,
            "approver": w.approver,
            "risk": w.risk,
            "created": w.created,
            "expires": w.expires,
            "justification": w.justification,
        }
        for w in waivers or []
    ]
    return given + [r.waiver for _, r in found if r.waiver and r.waiver not in given]


def _verdict(run: Mapping[str, Any], items: list[PlanItem], entries: dict[str, Any]) -> Verdict:
    """Complete only when the run says so, every item is done and every manual step names its confirmer."""
    reasons = []
    status = run.get("status", "")
    if status != "complete":
        where = f" at {run['stopped_at']}" if run.get("stopped_at") else ""
        reasons.append(f"The run is {RUN_WORDS.get(status, status)}{where}: {run.get('message') or 'no reason given'}.")
    states = {i.id: (entries.get(i.id) or {}).get("status", "pending") for i in items}
    undone = [f"{i} ({STATUS_WORDS.get(s, s)})" for i, s in states.items() if s not in ("done", "passed")]
    if undone:
        reasons.append(f"{len(undone)} of {len(items)} steps and gates not done: {', '.join(undone)}.")
    reasons += [
        f"{i.id} was confirmed without a person's name (gpverify upgrade --confirmed-by NAME)."
        for i in items
        if i.kind == "manual"
        and states[i.id] == "done"
        and not _named(entries.get(i.id) or {})
        and _asked(entries.get(i.id) or {})
    ]
    return Verdict(not reasons, reasons)


def _asked(entry: Mapping[str, Any]) -> bool:
    """Whether a person was asked: an attestation step is not when gpverify verified the checks itself, or when no
    one could answer (its checks then stay not verified and are listed as such)."""
    return entry.get("asked") is not False


def _named(entry: Mapping[str, Any]) -> bool:
    """Whether a person's name was recorded (runs before --confirmed-by kept only the OS account)."""
    return bool(entry.get("confirmed_by") and entry.get("confirmed_account"))


def _line(number: int, item: PlanItem, entry: Mapping[str, Any], gate: Gate | None, zone: tzinfo | None) -> Line:
    state = str(entry.get("status", "pending"))
    when = record_time(entry.get("confirmed_at") or entry.get("finished_at") or entry.get("started_at"), zone)
    kind = "Gate" if item.kind == "gate" else STEP_WORDS.get(item.kind, "Step")
    kind += f" on {item.host}" if item.host and item.kind != "gate" else ""
    title = gate.title if gate else item.title
    who, detail, how = (counts_text(gate.counts) if gate.results else "", "", "") if gate else _who(entry)
    return Line(
        number,
        item.id,
        kind,
        title,
        STATUS_WORDS.get(state, state),
        state in ("done", "passed"),
        who,
        detail,
        how,
        when,
    )


def _who(entry: Mapping[str, Any]) -> tuple[str, str, str]:
    """Who confirmed a manual step (a person; the account second) and how, or what a command ended with."""
    if not _asked(entry):
        return "no one asked", str(entry.get("why") or ""), ""
    if entry.get("confirmed_by"):
        how = {"--yes": "--yes --confirmed-by"}.get(entry.get("confirmed_how") or "", entry.get("confirmed_how") or "")
        answer = f"; answered {entry['answer']!r}" if entry.get("answer") else ""
        if not _named(entry):  # an older run: the account is all that was recorded
            return "no person named", f"confirmed at the console of {entry['confirmed_by']}{answer}", how
        return str(entry["confirmed_by"]), f"entered at the console of {entry['confirmed_account']}{answer}", how
    if entry.get("exit_code") is not None:
        by = f" by {entry['run_by']}" if entry.get("run_by") else ""
        return f"ran{by}, exit {entry['exit_code']}", "", ""
    return "", "", ""


def _gate_title(item: PlanItem) -> str:
    words = GATE_WORDS.get(item.phase, f"Checks of the {item.phase} phase")
    if item.host and item.phase == "hosts":
        words = words.replace("the session host", f"the session host {item.host}")
    return words


def _gate(item: PlanItem, entry: Mapping[str, Any], folder: Path) -> Gate:
    results = sorted((_for_reading(r) for r in _results(folder, entry.get("results"))), key=lambda r: -r.outcome.rank)
    state = str(entry.get("status", "pending"))
    return Gate(
        item.id,
        _gate_title(item),
        f"pytest {item.title}",
        STATUS_WORDS.get(state, state),
        outcomes_of(results),
        results,
        entry.get("report"),
        item.select,
    )


def _for_reading(result: CheckResult) -> CheckResult:
    """The host is in its own column: the message without it."""
    return CheckResult.from_dict({**result.as_dict(), "message": without_host(result.message, result.host)})


def _results(folder: Path, name: str | None) -> list[CheckResult]:
    if not name or not (folder / name).is_file():
        return []
    try:
        rows = json.loads((folder / name).read_text(encoding="utf-8")).get("results", [])
        return [CheckResult.from_dict(r) for r in rows if isinstance(r, dict) and "check" in r]
    except (ValueError, TypeError, AttributeError):
        return []


def _version() -> str:
    try:
        return version("gpverify")
    except PackageNotFoundError:
        return "(not installed)"


def write_pdf(html_path: Path, pdf_path: Path) -> bool:
    """The record as PDF through WeasyPrint; False when WeasyPrint (`pip install 'gpverify[pdf]'`) is missing."""
    try:
        from weasyprint import HTML  # type: ignore[import-not-found,unused-ignore]  # the pdf extra
    except (ImportError, OSError):  # OSError: WeasyPrint installed without its Pango libraries
        return False
    HTML(filename=str(html_path)).write_pdf(str(pdf_path))
    return True
