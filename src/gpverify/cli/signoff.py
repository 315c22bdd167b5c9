"""`gpverify report RUN-ID`: a printable upgrade verification record for change management (HTML; PDF too)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from gpverify.config.options import folder
from gpverify.errors import ConfigError
from gpverify.exitcodes import BAD_INPUT, PASSED, TABLE
from gpverify.report.render import page, write_atomically
from gpverify.results import CheckResult, outcomes_of, without_host

RECORD = "verification-record"
# What the record's digest covers: what the run wrote about itself (not the lab's own files).
EVIDENCE = ("state.json", "summary.txt", "*.results.json", "*.html", "*.log", "lab-journal.json")


@dataclass(frozen=True)
class EvidenceFile:
    name: str
    size: int
    sha256: str


def evidence_files(folder: Path) -> list[EvidenceFile]:
    found: dict[str, Path] = {}
    for pattern in EVIDENCE:
        for path in folder.glob(pattern):
            if path.is_file() and not path.name.startswith(RECORD):
                found[path.name] = path
    return [EvidenceFile(name, p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
            for name, p in sorted(found.items())]


def evidence_digest(files: list[EvidenceFile]) -> str:
    """SHA-256 over 'digest  name' lines (as sha256sum prints them): one value for the whole evidence."""
    return hashlib.sha256("".join(f"{f.sha256}  {f.name}\n" for f in files).encode()).hexdigest()


def _who(entry: dict[str, Any]) -> str:
    if entry.get("confirmed_by"):
        return f"confirmed by {entry['confirmed_by']} ({entry.get('confirmed_how', '')})"
    if entry.get("run_by"):
        return f"run by {entry['run_by']} (exit {entry.get('exit_code')})"
    return ""


def _gate_results(folder: Path, entry: dict[str, Any]) -> list[CheckResult]:
    name = entry.get("results")
    if not name or not (folder / name).is_file():
        return []
    try:
        rows = json.loads((folder / name).read_text(encoding="utf-8")).get("results", [])
        return [CheckResult.from_dict(r) for r in rows if isinstance(r, dict) and "check" in r]
    except (ValueError, TypeError):
        return []


def build_record(folder: Path, waivers: list[Any] | None = None) -> dict[str, Any]:
    """What the record shows, from the run folder (state.json and each gate's results)."""
    from gpverify.runner.state import RunState

    state = RunState.load(folder.parent, folder.name)
    d = state.data
    plan_items = [i.get("id") for p in d.get("plan", {}).get("phases", []) for i in _items(p)]
    order = [i for i in plan_items if i] + [i for i in d.get("items", {}) if i not in plan_items]
    steps, gates, applied, farm = [], [], [], None
    for item_id in order:
        entry = d.get("items", {}).get(item_id, {"status": "pending"})
        is_gate = "counts" in entry or item_id.startswith("gate-")
        what = entry.get("title") or (f"checks of the {entry.get('phase')} phase" if entry.get("phase") else "")
        steps.append({"id": item_id, "what": what, "status": entry.get("status", "pending"), "who": _who(entry),
                      "when": entry.get("confirmed_at") or entry.get("finished_at") or entry.get("started_at") or ""})
        if is_gate:
            results = _gate_results(state.folder, entry)
            farm = farm or next((r.farm for r in results if r.farm), None)
            applied += [r.waiver for r in results if r.waiver]
            counts = outcomes_of(results)
            gates.append({"id": item_id, "status": entry.get("status", "pending"),
                          "summary": ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "not run",
                          "results": [{**r.as_dict(), "message": without_host(r.message, r.host)} for r in results]})
    given = [{"check": w.check, "host": w.host, "approver": w.approver, "risk": w.risk, "created": w.created,
              "expires": w.expires, "justification": w.justification} for w in waivers or []]
    files = evidence_files(state.folder)
    history = d.get("history") or [{}]
    return {"run_id": state.run_id, "status": d.get("status", ""), "farm": farm, "inventory": d.get("inventory", ""),
            "plan_source": d.get("plan_source", ""), "created": d.get("created", ""),
            "updated": history[-1].get("at", ""), "message": d.get("message") or "",
            "lab": (d.get("lab") or {}).get("scenario"), "steps": steps, "gates": gates,
            "waivers": given + [w for w in applied if w not in given], "evidence": files,
            "evidence_sha256": evidence_digest(files), "written": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
            "version": _version()}


def _items(phase: dict[str, Any]) -> list[dict[str, Any]]:
    """A plan phase's steps then its gate, with the ids the runner gives them."""
    items = [{"id": s.get("id")} for s in phase.get("steps", [])]
    if phase.get("gate", True):
        name = phase.get("name") or phase.get("phase")
        items.append({"id": f"gate-{name}" + (f"-{phase['host']}" if phase.get("host") else "")})
    return items


def _version() -> str:
    try:
        return version("gpverify")
    except PackageNotFoundError:
        return "(not installed)"


def render_record(record: dict[str, Any]) -> str:
    return page("signoff.html.j2", **record)


def write_pdf(html_path: Path, pdf_path: Path) -> bool:
    """The record as PDF through WeasyPrint; False when WeasyPrint (`pip install 'gpverify[pdf]'`) is missing."""
    try:
        from weasyprint import HTML  # type: ignore[import-not-found]
    except (ImportError, OSError):  # OSError: WeasyPrint installed without its Pango libraries
        return False
    HTML(filename=str(html_path)).write_pdf(str(pdf_path))
    return True


def cmd_report(ns: argparse.Namespace) -> int:
    from gpverify.audit.waivers import load_waivers
    from gpverify.runner.state import RunState

    try:
        state = RunState.load(Path(ns.reports), ns.run_id or None)
        waivers = load_waivers(ns.waivers) if ns.waivers else []
        record = build_record(state.folder, waivers)
    except ConfigError as exc:
        print(f"gpverify: {exc}", file=sys.stderr)
        return BAD_INPUT
    html_path = state.folder / f"{RECORD}.html"
    write_atomically(html_path, render_record(record))
    print(f"verification record of run {record['run_id']} ({record['status']}): {html_path}")
    print(f"  evidence SHA-256: {record['evidence_sha256']} ({len(record['evidence'])} file(s))")
    if ns.pdf != "no":
        pdf_path = state.folder / f"{RECORD}.pdf"
        if write_pdf(html_path, pdf_path):
            print(f"  PDF: {pdf_path}")
        elif ns.pdf == "yes":
            print("gpverify: --pdf yes: WeasyPrint is not installed (pip install 'gpverify[pdf]')", file=sys.stderr)
            return BAD_INPUT
        else:
            print("  PDF: not written (WeasyPrint is not installed: pip install 'gpverify[pdf]'); print the HTML "
                  "from a browser instead")
    return PASSED


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `gpverify report`."""
    p = sub.add_parser("report", help="write the printable upgrade verification record of a run (HTML, PDF)",
                       description=__doc__, epilog=TABLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_id", nargs="?", default="", metavar="RUN-ID", help="the run (default: the latest)")
    p.add_argument("--reports", type=folder(), default="reports", help="where run folders are (default reports)")
    p.add_argument("--waivers", metavar="FILE", help="waiver YAML in force for this change, listed in the record")
    p.add_argument("--pdf", choices=["auto", "yes", "no"], default="auto",
                   help="write a PDF too: auto (when WeasyPrint is installed), yes (required) or no")
    p.set_defaults(func=cmd_report)
