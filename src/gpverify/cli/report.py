"""`gpverify report RUN-ID`: write the printable upgrade verification record of a run (HTML; PDF too)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gpverify.cli.commands import HELP
from gpverify.config.options import folder
from gpverify.errors import ConfigError
from gpverify.exitcodes import TABLE, ExitCode
from gpverify.report.render import write_atomically
from gpverify.report.signoff import RECORD, PlanItem, SignoffRecord, build_record, write_pdf

NO_PDF = "WeasyPrint is not installed: pip install 'gpverify[pdf]'"


def cmd_report(ns: argparse.Namespace) -> int:
    """Exit 0 for the record of a complete run; 2 when the run is not complete (the record says DO NOT SIGN)."""
    try:
        record, folder = _record(ns)
    except ConfigError as exc:
        print(f"gpverify: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    html_path = folder / f"{RECORD}.html"
    write_atomically(html_path, record.html())
    print(f"verification record of run {record.run_id}: {record.verdict.headline}")
    for reason in record.verdict.reasons:
        print(f"  - {reason}")
    print(f"  HTML: {html_path}")
    if ns.pdf != "no":
        pdf_path = folder / f"{RECORD}.pdf"
        if write_pdf(html_path, pdf_path):
            print(f"  PDF: {pdf_path}")
        elif ns.pdf == "yes":
            print(f"gpverify: --pdf yes: {NO_PDF}", file=sys.stderr)
            return ExitCode.BAD_INPUT
        else:
            print(f"  PDF: not written ({NO_PDF}); print the HTML from a browser instead")
    print(f"  evidence SHA-256: {record.evidence_sha256} ({len(record.evidence)} file(s))")
    return ExitCode.PASSED if record.verdict.complete else ExitCode.NOT_RUN


def _record(ns: argparse.Namespace) -> tuple[SignoffRecord, Path]:
    """The run's record from its folder; ConfigError for an unknown run, a broken state file or waiver file."""
    from pydantic import ValidationError

    from gpverify.audit.waivers import load_waivers
    from gpverify.runner.plan import Plan
    from gpverify.runner.state import RunState

    state = RunState.load(Path(ns.reports), ns.run_id or None, origin="gpverify report")
    try:
        plan = Plan.model_validate(state.record.plan)
    except ValidationError:
        raise ConfigError(
            str(state.folder / "state.json"),
            "plan",
            "the plan the run started with (the state file was changed by hand?)",
        ) from None
    items = [
        PlanItem(i.id, i.step.kind, i.step.title, i.phase.phase, i.step.host)
        if i.step
        else PlanItem(i.id, "gate", i.phase.gate_args, i.phase.phase, i.phase.host, i.phase.select)
        for i in plan.items()
    ]
    waivers = load_waivers(ns.waivers) if ns.waivers else []
    return build_record(state.folder, state.data, items, waivers), state.folder


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `gpverify report`."""
    p = sub.add_parser(
        "report",
        help=HELP["report"],
        description=__doc__ + "\n\nIts first page gives the verdict: COMPLETE, or NOT COMPLETE - DO "
        "NOT SIGN (exit 2) for a run that stopped, failed, was interrupted or left a manual step "
        "without a named confirmer.",
        epilog=TABLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("run_id", nargs="?", default="", metavar="RUN-ID", help="the run (default: the latest)")
    p.add_argument("--reports", type=folder(), default="reports", help="where run folders are (default reports)")
    p.add_argument("--waivers", metavar="FILE", help="waiver YAML in force for this change, listed in the record")
    p.add_argument(
        "--pdf",
        choices=["auto", "yes", "no"],
        default="auto",
        help="write a PDF too: auto (when WeasyPrint is installed), yes (required) or no",
    )
    p.set_defaults(func=cmd_report)
