"""gpverify audit | history | baseline: the nightly audit's subcommands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gpverify.errors import ConfigError, GpVerifyError
from gpverify.exitcodes import TABLE

EXIT_HELP = TABLE


def _bad_input(exc: ConfigError) -> int:
    print(f"gpverify: {exc}", file=sys.stderr)
    return 3


def cmd_audit(ns: argparse.Namespace) -> int:
    from gpverify.audit.runner import AuditOptions, run_audit

    opts = AuditOptions(inventory=ns.inventory, lab=ns.lab, waivers=ns.waivers, wait=ns.wait, reports=Path(ns.reports),
                        baseline=ns.baseline, notify_webhook=ns.notify_webhook, notify_smtp=ns.notify_smtp,
                        notify_to=ns.notify_to, notify=ns.notify, quiet=not ns.verbose)
    try:
        return run_audit(opts).exit_code
    except ConfigError as exc:
        return _bad_input(exc)
    except GpVerifyError as exc:
        print(f"gpverify: {exc}", file=sys.stderr)
        return 2


def cmd_history(ns: argparse.Namespace) -> int:
    from gpverify.audit.render import SYMBOL, history_html, history_rows
    from gpverify.audit.store import HISTORY_FILE, History

    path = Path(ns.reports) / HISTORY_FILE
    if not path.exists():
        print(f"gpverify: {path}: no audit history yet (run gpverify audit first)", file=sys.stderr)
        return 3
    with History(path) as history:
        runs = history.runs(ns.last)
    if ns.html:
        Path(ns.html).write_text(history_html(runs), encoding="utf-8")
        print(f"history: {len(runs)} run(s) drawn in {ns.html}")
    print("runs: " + "  ".join(f"#{r.id} {r.started} {r.status}" for r in runs))
    print(f"{'check':14} {'test':60} " + " ".join(f"#{r.id:<3}" for r in runs))
    for check, test, outcomes in history_rows(runs):
        print(f"{check:14} {test.split('::')[-1]:60} " + " ".join(f"{SYMBOL.get(o or '', '.'):4}" for o in outcomes))
    print("P passed  F failed  E could not run  W waived  S skipped  . not run")
    return 0


def _snapshot_of(history: Any, ref: str) -> tuple[str, dict[str, Any]]:
    """RUN_ID | last | baseline | baseline:NAME -> (label, facts)."""
    if ref.startswith("baseline"):
        name = ref.partition(":")[2] or "default"
        found = history.baseline(name)
        if not found:
            raise ConfigError("gpverify baseline diff", ref, f"a captured baseline named {name!r} (gpverify baseline capture)")
        return f"baseline {name} ({found['captured']})", found["facts"]
    run = history.last_finished() if ref == "last" else (history.run(int(ref.lstrip("#"))) if ref.lstrip("#").isdigit()
                                                         else None)
    if run is None:
        raise ConfigError("gpverify baseline diff", ref, "a recorded audit run id (gpverify history), last, or baseline[:NAME]")
    return f"run #{run.id} ({run.started}, {run.source})", run.facts


def cmd_baseline(ns: argparse.Namespace) -> int:
    from gpverify.audit.drift import fact_drift
    from gpverify.audit.runner import capture_baseline
    from gpverify.audit.store import HISTORY_FILE, History

    try:
        if ns.baseline_command == "capture":
            info = capture_baseline(inventory=ns.inventory, lab=ns.lab, reports=Path(ns.reports), name=ns.name)
            print(f"baseline {info['name']!r} captured (#{info['id']}): facts of {info['hosts']} host(s)")
            if info["unavailable"]:
                print(f"  could not read: {', '.join(info['unavailable'])}")
                return 2
            return 0
        with History(Path(ns.reports) / HISTORY_FILE) as history:
            label_a, facts_a = _snapshot_of(history, ns.a)
            label_b, facts_b = _snapshot_of(history, ns.b)
        drifts = fact_drift(facts_a, facts_b)
        print(f"facts changed from {label_a} to {label_b}: {len(drifts)}")
        for d in drifts:
            print(f"  {d.text()}")
        return 0
    except ConfigError as exc:
        return _bad_input(exc)
    except GpVerifyError as exc:
        print(f"gpverify: {exc}", file=sys.stderr)
        return 2


def _target(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--inventory", help="inventory YAML of the farm")
    group.add_argument("--lab", nargs="?", const="healthy", metavar="SCENARIO|FILE",
                       help="a simulated lab started for this run (default scenario: healthy)")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add audit, history and baseline."""
    audit = sub.add_parser("audit", help="run the post-upgrade and client checks unattended (nightly audit)",
                           epilog=EXIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _target(audit)
    audit.add_argument("--waivers", metavar="FILE", help="waiver YAML (check, host, justification, approver, risk, "
                                                         "created, expires)")
    audit.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                       help="re-check failing service and reachability checks until they pass or this time is up")
    audit.add_argument("--reports", default="reports", help="where reports and history.sqlite go (default reports)")
    audit.add_argument("--baseline", default="default", metavar="NAME", help="baseline to report drift from")
    audit.add_argument("--notify", action="store_true",
                       help="when the outcome changes, notify Microsoft Teams, Slack, e-mail... through apprise; "
                       "the URLs (they hold tokens) come from GPVERIFY_NOTIFY_URLS or the keyring entry "
                       "gpverify/notify-urls, never from the command line")
    audit.add_argument("--notify-webhook", metavar="URL", help="POST a JSON summary here when the outcome changes "
                       "(a URL with a token shows in process lists: prefer --notify)")
    audit.add_argument("--notify-smtp", metavar="HOST:PORT", help="send an email through this SMTP server "
                                                                  "when the outcome changes")
    audit.add_argument("--notify-to", metavar="ADDR", help="recipient of the email")
    audit.add_argument("-v", "--verbose", action="store_true", help="pytest's normal (not quiet) output")
    audit.set_defaults(func=cmd_audit)

    hist = sub.add_parser("history", help="outcome of each check over the recorded audit runs")
    hist.add_argument("--reports", default="reports")
    hist.add_argument("--last", type=int, default=10, help="how many runs (default 10)")
    hist.add_argument("--html", metavar="FILE", help="also draw the outcomes over runs as an SVG page")
    hist.set_defaults(func=cmd_history)

    base = sub.add_parser("baseline", help="capture a known-good farm's facts, or compare two snapshots")
    bsub = base.add_subparsers(dest="baseline_command", required=True)
    cap = bsub.add_parser("capture", help="store the facts of a known-good farm as the baseline")
    _target(cap)
    cap.add_argument("--reports", default="reports")
    cap.add_argument("--name", default="default")
    cap.set_defaults(func=cmd_baseline)
    diff = bsub.add_parser("diff", help="facts changed between two snapshots: RUN_ID, last, baseline[:NAME]")
    diff.add_argument("a", metavar="A")
    diff.add_argument("b", metavar="B")
    diff.add_argument("--reports", default="reports")
    diff.set_defaults(func=cmd_baseline)
