"""gpverify audit | history | baseline: the nightly audit's subcommands."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from gpverify import extension
from gpverify.cli.commands import HELP
from gpverify.config.options import count, folder, history_setting, out_file, pytest_addopts, row_id, seconds
from gpverify.errors import ConfigError, GpVerifyError
from gpverify.exitcodes import TABLE, ExitCode
from gpverify.history.target import HistoryUnavailable

EXIT_HELP = TABLE
HISTORY_HELP = (
    "postgresql://USER@HOST[:PORT]/DATABASE (password from GPVERIFY_HISTORY_PASSWORD or the keyring "
    "entry gpverify-history USER@HOST, never in the URL) or a SQLite file; default: the inventory's "
    "history:, else REPORTS/history.sqlite"
)


def _bad_input(exc: ConfigError) -> int:
    print(f"gpverify: {exc}", file=sys.stderr)
    return ExitCode.BAD_INPUT


def _no_history(exc: HistoryUnavailable) -> int:
    print(f"gpverify: {exc}", file=sys.stderr)
    return ExitCode.NOT_RECORDED


def _not_run(exc: GpVerifyError) -> int:
    print(f"gpverify: {exc}", file=sys.stderr)
    return ExitCode.NOT_RUN


def _warn(message: str) -> None:
    print(f"gpverify: {message}", file=sys.stderr)


def _open_history(ns: argparse.Namespace) -> Any:
    """The history named by --history (default REPORTS/history.sqlite); None (after a message) if there is none."""
    from gpverify.history.store import History
    from gpverify.history.target import resolve_target

    target = resolve_target(getattr(ns, "history", None), setting="--history", reports=Path(ns.reports))
    if target.sqlite_path is not None and not target.sqlite_path.exists():
        print(f"gpverify: {target.sqlite_path}: no audit history yet (run gpverify audit first)", file=sys.stderr)
        return None
    return History(target, warn=_warn)


def _one_farm(history: Any, farm: str | None, field: str = "--farm") -> str:
    """The farm asked for, or the only one in the history; several farms and none named is bad input."""
    farms = history.farms()
    if farm is not None:
        if farm not in farms:
            raise ConfigError("gpverify", field, f"a farm in the history ({_names(farms)}), got {farm!r}")
        return farm
    if len(farms) > 1:
        raise ConfigError("gpverify", field, f"the farm to use: the history holds several ({_names(farms)})")
    return farms[0] if farms else ""


def _names(farms: list[str]) -> str:
    return ", ".join(repr(f) for f in farms) or "none yet"


def cmd_audit(ns: argparse.Namespace) -> int:
    try:
        pytest_addopts()  # before anything is recorded: pytest would otherwise fail on it mid-run
        with ExitStack() as stack:
            # The lab's process starts first, so it loads and starts the lab while this one loads the audit.
            lab = (
                stack.enter_context(extension.lab().lab_process(ns.lab, prefix=extension.AUDIT_LAB_PREFIX))
                if ns.lab
                else None
            )
            return _audit(ns, lab)
    except ConfigError as exc:
        return _bad_input(exc)
    except GpVerifyError as exc:
        return _not_run(exc)


def _audit(ns: argparse.Namespace, lab: extension.RunningLab | None) -> int:
    from gpverify.audit.runner import AuditOptions, run_audit

    opts = AuditOptions(
        inventory=ns.inventory,
        lab=ns.lab,
        started_lab=lab,
        waivers=ns.waivers,
        wait=ns.wait,
        reports=Path(ns.reports),
        baseline=ns.baseline,
        notify_webhook=ns.notify_webhook,
        notify_smtp=ns.notify_smtp,
        notify_to=ns.notify_to,
        notify=ns.notify,
        quiet=not ns.verbose,
        history=ns.history,
        custom=[Path(p) for p in ns.checks],
    )
    return run_audit(opts).exit_code


def cmd_history(ns: argparse.Namespace) -> int:
    try:
        history = _open_history(ns)
        if history is None:
            return ExitCode.BAD_INPUT
        with history:
            farms = [_one_farm(history, ns.farm)] if ns.farm else history.farms()
            by_farm = {farm: runs for farm in farms if (runs := history.runs(ns.last, farm=farm))}
    except HistoryUnavailable as exc:
        return _no_history(exc)
    except ConfigError as exc:
        return _bad_input(exc)
    _print_history(ns, by_farm)
    return ExitCode.PASSED


def _print_history(ns: argparse.Namespace, by_farm: dict[str, Any]) -> None:
    from gpverify.cli.tables import table_text  # rich: only for the listing, not for every audit
    from gpverify.history.fleet import report_link
    from gpverify.report.history import history_html, history_rows, legend
    from gpverify.report.render import write_atomically

    if ns.html:
        page_dir = Path(ns.html).resolve().parent
        links = {r.id: report_link(r.reports.get("html"), page_dir) for runs in by_farm.values() for r in runs}
        write_atomically(Path(ns.html), history_html(by_farm, links))  # its folder made as for every report
        print(f"history: {sum(map(len, by_farm.values()))} run(s) of {len(by_farm)} farm(s) drawn in {ns.html}")
    for farm, runs in by_farm.items():
        print(f"farm: {farm}")
        print("runs: " + "  ".join(f"#{r.id} {r.started} {r.status}" for r in runs))
        print(
            table_text(
                ["Check", *(f"#{r.id}" for r in runs)],
                [(row.name, *(o.symbol if o else "." for o in row.outcomes)) for row in history_rows(runs)],
            )
        )
    print(legend())


def _run_of(history: Any, ref: str) -> Any:
    """RUN_ID -> the run (ConfigError if unknown); None for last and baseline[:NAME]."""
    ident = row_id(ref)
    if ident is None:
        if ref != "last" and not ref.startswith("baseline"):
            raise ConfigError(
                "gpverify baseline diff", ref, "a recorded audit run id (gpverify history), last, or baseline[:NAME]"
            )
        return None
    run = history.run(ident)
    if run is None:
        raise ConfigError(
            "gpverify baseline diff", ref, "a recorded audit run id (gpverify history), last, or baseline[:NAME]"
        )
    return run


def _diff_farm(history: Any, refs: dict[str, Any], farm: str | None) -> str:
    """Both sides of a diff come from one farm: the runs' own farm, --farm, or the history's only farm."""
    named = {ref: run.farm for ref, run in refs.items() if run is not None}
    if farm is not None:
        named.setdefault("--farm", farm)
    if len(set(named.values())) > 1:
        raise ConfigError(
            "gpverify baseline diff",
            " ".join(refs),
            "two snapshots of one farm, but " + " and ".join(f"{ref} is of farm {f!r}" for ref, f in named.items()),
        )
    return next(iter(named.values())) if named else _one_farm(history, None)


def _snapshot_of(history: Any, ref: str, run: Any, farm: str) -> tuple[str, dict[str, Any]]:
    """RUN_ID | last | baseline | baseline:NAME -> (label, facts), within one farm."""
    if ref.startswith("baseline"):
        name = ref.partition(":")[2] or "default"
        found = history.baseline(name, farm=farm)
        if not found:
            raise ConfigError(
                "gpverify baseline diff",
                ref,
                f"a captured baseline named {name!r} of farm {farm!r} (gpverify baseline capture)",
            )
        return f"baseline {name} ({found['captured']})", found["facts"]
    run = run or history.last_finished(farm=farm)
    if run is None:
        raise ConfigError("gpverify baseline diff", ref, f"a recorded audit run of farm {farm!r} (gpverify history)")
    return f"run #{run.id} ({run.started}, {run.source})", run.facts


def cmd_baseline(ns: argparse.Namespace) -> int:
    from gpverify.audit.drift import fact_drift
    from gpverify.audit.runner import capture_baseline

    try:
        if ns.baseline_command == "capture":
            info = capture_baseline(
                inventory=ns.inventory, lab=ns.lab, reports=Path(ns.reports), name=ns.name, history=ns.history
            )
            print(f"baseline {info['name']!r} captured (#{info['id']}): facts of {info['hosts']} host(s)")
            if info["unavailable"]:
                print(f"  could not read: {', '.join(info['unavailable'])}")
                return ExitCode.NOT_RUN
            return ExitCode.PASSED
        history = _open_history(ns)
        if history is None:
            return ExitCode.BAD_INPUT
        with history:
            refs = {ns.a: _run_of(history, ns.a), ns.b: _run_of(history, ns.b)}
            farm = _diff_farm(history, refs, ns.farm)
            label_a, facts_a = _snapshot_of(history, ns.a, refs[ns.a], farm)
            label_b, facts_b = _snapshot_of(history, ns.b, refs[ns.b], farm)
        drifts = fact_drift(facts_a, facts_b)
        print(f"facts changed from {label_a} to {label_b}: {len(drifts)}")
        for d in drifts:
            print(f"  {d.text()}")
        return ExitCode.PASSED
    except HistoryUnavailable as exc:
        return _no_history(exc)
    except ConfigError as exc:
        return _bad_input(exc)
    except GpVerifyError as exc:
        return _not_run(exc)


def _target(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--inventory", help="inventory YAML of the farm")
    group.add_argument(
        "--lab",
        nargs="?",
        const="healthy",
        metavar="SCENARIO|FILE",
        help="a simulated lab started for this run (default scenario: healthy)",
    )


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add audit, history and baseline."""
    _register_audit(sub)
    _register_history(sub)
    _register_baseline(sub)


def _register_audit(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = sub.add_parser(
        "audit", help=HELP["audit"], epilog=EXIT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _target(audit)
    audit.add_argument(
        "--waivers", metavar="FILE", help="waiver YAML (check, host, justification, approver, risk, created, expires)"
    )
    audit.add_argument(
        "--wait",
        type=seconds(),
        default=0.0,
        metavar="SECONDS",
        help="re-check failing service and reachability checks until they pass or this time is up",
    )
    audit.add_argument(
        "--checks",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own checks (Python or NAME.checks.yml): its post and clients checks "
        "run beside the shipped ones (DIR/post/, DIR/clients/ when it has them); repeatable",
    )
    audit.add_argument(
        "--reports", type=folder(), default="reports", help="where reports and history.sqlite go (default reports)"
    )
    audit.add_argument("--history", type=history_setting, metavar="URL", help=HISTORY_HELP)
    audit.add_argument("--baseline", default="default", metavar="NAME", help="baseline to report drift from")
    _notify_options(audit)
    audit.add_argument("-v", "--verbose", action="store_true", help="pytest's normal (not quiet) output")
    audit.set_defaults(func=cmd_audit)


def _notify_options(audit: argparse.ArgumentParser) -> None:
    """Who hears of a change of the audit's outcome, all through apprise."""
    audit.add_argument(
        "--notify",
        action="store_true",
        help="when the outcome changes, notify Microsoft Teams, Slack, e-mail... through apprise; "
        "the URLs (they hold tokens) come from GPVERIFY_NOTIFY_URLS or the keyring entry "
        "gpverify/notify-urls, never from the command line",
    )
    audit.add_argument(
        "--notify-webhook",
        metavar="URL",
        help="when the outcome changes, POST apprise's JSON "
        "(title, message, type, the full change attached as gpverify-audit.json) to this http(s) URL "
        "through apprise's json:// (a URL with a token shows in process lists: prefer --notify)",
    )
    audit.add_argument(
        "--notify-smtp",
        metavar="HOST:PORT",
        help="when the outcome changes, send an email through "
        "this SMTP relay (no TLS, no login; apprise's mailto://) with the change attached",
    )
    audit.add_argument("--notify-to", metavar="ADDR", help="recipient of the email")


def _register_history(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    hist = sub.add_parser("history", help=HELP["history"])
    hist.add_argument("--reports", type=folder(), default="reports")
    hist.add_argument("--history", type=history_setting, metavar="URL", help=HISTORY_HELP)
    hist.add_argument("--farm", help="only this farm (default: every farm in the history)")
    hist.add_argument("--last", type=count(), default=10, help="how many runs (default 10)")
    hist.add_argument(
        "--html",
        type=out_file("an HTML page to write"),
        metavar="FILE",
        help="also draw the outcomes over runs as an SVG page",
    )
    hist.set_defaults(func=cmd_history)


def _register_baseline(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    base = sub.add_parser("baseline", help=HELP["baseline"])
    bsub = base.add_subparsers(dest="baseline_command", required=True)
    cap = bsub.add_parser("capture", help="store the facts of a known-good farm as the baseline")
    _target(cap)
    cap.add_argument("--reports", type=folder(), default="reports")
    cap.add_argument("--name", default="default")
    cap.add_argument("--history", type=history_setting, metavar="URL", help=HISTORY_HELP)
    cap.set_defaults(func=cmd_baseline)
    diff = bsub.add_parser("diff", help="facts changed between two snapshots: RUN_ID, last, baseline[:NAME]")
    diff.add_argument("a", metavar="A")
    diff.add_argument("b", metavar="B")
    diff.add_argument("--reports", type=folder(), default="reports")
    diff.add_argument("--history", type=history_setting, metavar="URL", help=HISTORY_HELP)
    diff.add_argument(
        "--farm", help="the farm whose last run or baseline to use (needed when the history holds several)"
    )
    diff.set_defaults(func=cmd_baseline)
