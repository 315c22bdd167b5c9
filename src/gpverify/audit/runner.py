"""Run the audit: post-upgrade and client checks in one pytest run, reports, history, baseline drift, notify.

Its exit code is gpverify's (gpverify.exitcodes): waived failures count as passed, and 4 says the checks ran and
the local reports (HTML, JUnit, JSON) were written but the history (--history or the inventory's `history:`)
could not record the run; the message names the setting and the cause.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gpverify import extension
from gpverify.audit.drift import snapshot
from gpverify.audit.notify import notify, notify_urls, outcome_changed, parse_smtp, require_notify_urls
from gpverify.audit.plugin import AuditPlugin
from gpverify.audit.waivers import Waiver, load_waivers
from gpverify.config.credentials import NONINTERACTIVE_ENV
from gpverify.customchecks import PhaseFilter, audit_targets, check_folders
from gpverify.errors import ConfigError
from gpverify.exitcodes import ExitCode, for_outcomes
from gpverify.history.status import AuditStatus
from gpverify.history.store import History, HistoryUnavailable, site_name, utcnow
from gpverify.history.target import HistoryTarget, resolve_target
from gpverify.pytestrun import PytestRun, run_checks
from gpverify.results import CheckResult, counts_text, outcomes_of

PHASES = ("post", "clients")
# Checks of other phases that also belong in a nightly audit: Tenant Services must stay updated and running.
AUDIT_EXTRA = ("pre/test_pre_tenant_services.py",)
WAIT_INTERVAL = 5.0  # seconds between rounds under --wait


@dataclass
class AuditOptions:
    inventory: str | None = None
    lab: str | None = None  # scenario name or overlay file: the audit starts (and stops) the lab itself
    started_lab: extension.RunningLab | None = None  # that lab, started by the caller (gpverify audit) already
    waivers: str | None = None
    wait: float = 0.0
    wait_interval: float = WAIT_INTERVAL
    reports: Path = Path("reports")
    baseline: str = "default"
    notify_webhook: str | None = None
    notify_smtp: str | None = None
    notify_to: str | None = None
    notify: bool = False  # through apprise, URLs from GPVERIFY_NOTIFY_URLS or the keyring
    history: str | None = None  # database URL or SQLite file; default: the inventory's history:, else reports/
    today: dt.date | None = None
    checks: Path | None = None  # the checks folder (default: the shipped checks)
    custom: list[Path] = field(default_factory=list)  # the site's own check folders (--checks), beside them
    quiet: bool = True


@dataclass
class AuditRun:
    """One audit: what its JSON file says (as_dict) and what the history, the notification and the console read."""

    run: int | None  # its number in the history; None when it was not recorded
    farm: str
    site: str
    source: str  # the inventory, or lab:SCENARIO
    finished: str
    status: AuditStatus
    exit_code: ExitCode
    waited: float
    rounds: int
    reports: dict[str, str]  # html, junit, json
    previous_run: int | None
    results: list[CheckResult]
    collection_errors: list[str]
    waivers: dict[str, list[dict[str, Any]]]  # loaded, expired, unmatched
    changes: dict[str, Any]  # since the last run (audit.drift.Changes.as_dict())
    baseline: dict[str, Any] | None  # name, captured, drift
    not_recorded: str | None = None  # why the history has no record of this run
    notifications: list[str] = field(default_factory=list)  # "webhook: sent", ...: printed, not in the JSON

    @property
    def run_id(self) -> int:
        return self.run or 0

    @property
    def failing(self) -> set[tuple[str, str]]:
        return {(r.check, r.test) for r in self.results if r.failing}

    def as_dict(self) -> dict[str, Any]:
        """The audit's JSON document."""
        document = {
            "run": self.run,
            "farm": self.farm,
            "site": self.site,
            "source": self.source,
            "finished": self.finished,
            "status": self.status,
            "exit_code": int(self.exit_code),
            "waited_seconds": round(self.waited, 1),
            "rounds": self.rounds,
            "reports": self.reports,
            "previous_run": self.previous_run,
            "results": [r.public_dict() for r in self.results],
            "collection_errors": self.collection_errors,
            "waivers": self.waivers,
            "changes_since_last_run": self.changes,
            "baseline": self.baseline,
        }
        return document | ({"not_recorded": self.not_recorded} if self.not_recorded is not None else {})

    def write_json(self) -> None:
        Path(self.reports["json"]).write_text(json.dumps(self.as_dict(), indent=2, default=str), encoding="utf-8")


def _validate(opts: AuditOptions) -> list[Waiver]:
    if not (opts.inventory or opts.lab):
        raise ConfigError("gpverify audit", "--inventory", "an inventory file (or --lab [SCENARIO])")
    if opts.wait < 0:
        raise ConfigError("gpverify audit", "--wait", f"a number of seconds >= 0, got {opts.wait}")
    if opts.notify_smtp:
        parse_smtp(opts.notify_smtp)
        if not opts.notify_to:
            raise ConfigError("gpverify audit", "--notify-to", "an email address (required with --notify-smtp)")
    if opts.notify:
        require_notify_urls()
    check_folders(opts.custom, "gpverify audit")
    return load_waivers(opts.waivers) if opts.waivers else []


def _exit_code(plugin: AuditPlugin, run: PytestRun) -> tuple[ExitCode, AuditStatus]:
    """The audit's exit code and status word from its (waived) results and how pytest ended."""
    status = run.pytest_status
    if status == pytest.ExitCode.INTERRUPTED:
        return ExitCode.NOT_RUN, AuditStatus.INTERRUPTED
    if status == pytest.ExitCode.USAGE_ERROR or (run.exit_code == ExitCode.BAD_INPUT and not plugin.results):
        return ExitCode.BAD_INPUT, AuditStatus.BAD_INPUT
    broken = bool(plugin.collection_errors) or status in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
    code = for_outcomes((r.outcome for r in plugin.results.values()), broken=broken)
    return code, AuditStatus.of(code)


def run_audit(opts: AuditOptions) -> AuditRun:
    """Run the audit; raises ConfigError (before any check) on bad input. It never prompts."""
    before = os.environ.get(NONINTERACTIVE_ENV)
    os.environ[NONINTERACTIVE_ENV] = "1"  # unattended: credential sources must never prompt, even at a terminal
    try:
        return _run_audit(opts)
    finally:
        if before is None:
            os.environ.pop(NONINTERACTIVE_ENV, None)
        else:
            os.environ[NONINTERACTIVE_ENV] = before


def _run_audit(opts: AuditOptions) -> AuditRun:
    from gpverify.config.shipped import checks_root
    from gpverify.facts.farm import open_farm

    waivers = _validate(opts)
    with ExitStack() as stack:
        if opts.lab:
            lab = opts.started_lab or stack.enter_context(_lab_apart(opts.lab, extension.AUDIT_LAB_PREFIX))
            inventory, source = str(lab.inventory_path), f"lab:{opts.lab}"
        else:
            inventory, source = str(opts.inventory), str(opts.inventory)
        farm = open_farm(inventory)  # bad inventory or missing credentials: ConfigError before any check
        return _run(
            opts,
            waivers,
            inventory,
            source,
            farm.inventory.farm,
            checks_root() if opts.checks is None else opts.checks,
            farm.inventory.history,
        )


def _lab_apart(scenario: str, prefix: str) -> AbstractContextManager[extension.RunningLab]:
    """The lab an audit or a baseline capture reads, in a process of its own: its imports, its start and its
    answers to the collection run on another core than the checks (issue 25: `gpverify audit --lab` < 0.8 s)."""
    return extension.lab().lab_process(scenario, prefix=prefix)


def history_setting(option: str | None, inventory_value: str | None, inventory: str) -> tuple[str | None, str]:
    """The history's URL and the name of the setting it came from: --history wins over the inventory's."""
    if option:
        return option, "--history"
    if inventory_value:
        return inventory_value, f"{inventory}: history"
    return None, "--reports"


def _warn(message: str) -> None:
    print(f"gpverify audit: {message}", file=sys.stderr)


class _Recorder:
    """The history for one audit, or the reason it cannot be used: the audit runs and reports either way."""

    def __init__(self, target: HistoryTarget | None, problem: HistoryUnavailable | None) -> None:
        self.history: History | None = None
        self.problem = problem
        if problem is not None:
            _warn(f"could not record this run in the history: {problem}")
        elif target is not None:
            try:
                self.history = History(target, warn=_warn)
            except HistoryUnavailable as exc:
                self._fail(exc)

    def _fail(self, exc: HistoryUnavailable) -> None:
        self.problem = exc
        _warn(f"could not record this run in the history: {exc}")

    def call(self, fn: Callable[[History], Any], default: Any = None) -> Any:
        """fn(history) unless the history is unusable; its first failure is kept (and printed once)."""
        if self.history is None or self.problem is not None:
            return default
        try:
            return fn(self.history)
        except HistoryUnavailable as exc:
            self._fail(exc)
            return default

    def close(self) -> None:
        if self.history is not None:
            self.history.close()


@dataclass
class _Before:
    """What the history knew before this run: the run to compare with, the baseline, and this run's number."""

    previous: Any = None  # history.store.RunRecord
    baseline: dict[str, Any] | None = None
    run_id: int = 0  # 0: not recorded


@dataclass
class _Rounds:
    """The last round of checks (under --wait, the one after the services came up) and how long it took."""

    plugin: AuditPlugin
    pytest_run: PytestRun
    waited: float
    rounds: int


def _run(
    opts: AuditOptions,
    waivers: list[Waiver],
    inventory: str,
    source: str,
    farm_name: str,
    checks: Path,
    inventory_history: str | None = None,
) -> AuditRun:
    reports = Path(opts.reports)
    reports.mkdir(parents=True, exist_ok=True)
    recorder = _open_history(opts, inventory, inventory_history, reports)
    before = _Before()
    try:
        before = _start(recorder, opts, farm_name, source)
        paths = _report_paths(reports, before.run_id)
        args = _pytest_args(checks, opts.custom, inventory, paths, quiet=opts.quiet)
        rounds = _run_rounds(opts, waivers, before, args)
        audit = _audit_run(rounds, waivers, before, farm_name, source, paths)
        audit.write_json()
        _record(recorder, audit, rounds.plugin)
        audit.notifications = _notify(opts, audit, before.previous)
        _print(audit, rounds.plugin, before.baseline, checks)
        return audit
    except BaseException:  # Ctrl-C between rounds or while writing: the started run is kept as interrupted
        if before.run_id:
            recorder.call(lambda h: h.mark_interrupted(before.run_id))
        raise
    finally:
        recorder.close()


def _open_history(opts: AuditOptions, inventory: str, inventory_history: str | None, reports: Path) -> _Recorder:
    value, setting = history_setting(opts.history, inventory_history, inventory)
    try:
        return _Recorder(resolve_target(value, setting=setting, reports=reports), None)
    except HistoryUnavailable as exc:
        return _Recorder(None, exc)


def _start(recorder: _Recorder, opts: AuditOptions, farm: str, source: str) -> _Before:
    """The last finished run and the baseline to compare with, then this run started in the history."""
    previous = recorder.call(lambda h: h.last_finished(farm=farm))
    baseline = recorder.call(lambda h: h.baseline(opts.baseline, farm=farm))
    return _Before(previous, baseline, recorder.call(lambda h: h.start_run(farm, source, site_name()), 0))


def _report_paths(reports: Path, run_id: int) -> dict[str, str]:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    base = reports / (f"audit-{stamp}-run{run_id}" if run_id else f"audit-{stamp}-unrecorded")
    return {"html": f"{base}.html", "junit": f"{base}.xml", "json": f"{base}.json"}


def _pytest_args(checks: Path, custom: list[Path], inventory: str, paths: dict[str, str], *, quiet: bool) -> list[str]:
    targets = [str(checks / p) for p in PHASES if (checks / p).is_dir()]
    targets += [str(checks / p) for p in AUDIT_EXTRA if (checks / p).is_file()]
    targets += audit_targets(PHASES, custom)  # the site's own checks of the audit's phases (--checks)
    return [
        *targets,
        "--inventory",
        inventory,
        f"--gpverify-html={paths['html']}",
        f"--junitxml={paths['junit']}",
        "-o",
        "junit_family=xunit2",
        "-rfEs",
        "--continue-on-collection-errors",
        *(["-q"] if quiet else []),
    ]


def _run_rounds(opts: AuditOptions, waivers: list[Waiver], before: _Before, args: list[str]) -> _Rounds:
    """Run the checks; under --wait, again while service and reachability checks fail, until the time is up."""
    first_end: float | None = None
    waited, rounds = 0.0, 0
    while True:
        rounds += 1
        plugin = AuditPlugin(
            waivers=waivers,
            today=opts.today,
            previous=before.previous,
            baseline=before.baseline,
            run_id=before.run_id or None,
            round_no=rounds,
            waited=waited,
        )
        run = run_checks(args, [plugin, PhaseFilter(opts.custom, PHASES)])
        plugin.finalize()
        first_end = first_end or time.monotonic()
        pending = plugin.pending()
        remaining = opts.wait - (time.monotonic() - first_end)  # the wait starts after the first round
        stopped = run.pytest_status in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED)
        if not pending or remaining <= 0 or stopped:
            return _Rounds(plugin, run, waited, rounds)
        print(
            f"gpverify audit: {len(pending)} service/reachability check(s) failing; "
            f"waiting (up to {remaining:.0f} s more) and checking again"
        )
        time.sleep(min(opts.wait_interval, remaining))
        waited = time.monotonic() - first_end


def _audit_run(
    rounds: _Rounds, waivers: list[Waiver], before: _Before, farm: str, source: str, paths: dict[str, str]
) -> AuditRun:
    plugin, baseline = rounds.plugin, before.baseline
    exit_code, status = _exit_code(plugin, rounds.pytest_run)
    return AuditRun(
        run=before.run_id or None,
        farm=farm,
        site=site_name(),
        source=source,
        finished=utcnow(),
        status=status,
        exit_code=exit_code,
        waited=rounds.waited,
        rounds=rounds.rounds,
        reports=paths,
        previous_run=before.previous.id if before.previous else None,
        results=plugin.result_list(),
        collection_errors=plugin.collection_errors,
        waivers={
            "loaded": [w.as_dict() for w in waivers],
            "expired": [w.as_dict() for w in plugin.expired_waivers()],
            "unmatched": [w.as_dict() for w in plugin.unmatched_waivers()],
        },
        changes=plugin.changes.as_dict() if plugin.changes else {},
        baseline=(
            {
                "name": baseline["name"],
                "captured": baseline["captured"],
                "drift": [d.as_dict() for d in plugin.baseline_drift or []],
            }
            if baseline
            else None
        ),
    )


def _record(recorder: _Recorder, audit: AuditRun, plugin: AuditPlugin) -> None:
    """The run's results and facts into the history; when that fails, exit 4 and the JSON says why."""
    if audit.run:
        run_id = audit.run
        recorder.call(
            lambda h: h.finish_run(
                run_id,
                status=audit.status,
                exit_code=audit.exit_code,
                waited=audit.waited,
                rounds=audit.rounds,
                results=audit.results,
                facts=plugin.facts,
                reports={k: str(Path(v).resolve()) for k, v in audit.reports.items()},
                newly_failing=len(audit.changes.get("newly_failing", [])),
            )
        )
    if recorder.problem is not None:  # the JSON says so too: the run is in no history
        audit.exit_code, audit.not_recorded = ExitCode.NOT_RECORDED, str(recorder.problem)
        audit.write_json()


def _notify(opts: AuditOptions, audit: AuditRun, previous: Any) -> list[str]:
    """Tell the configured channels when the outcome changed since the last run (never for an interrupted one)."""
    wanted = opts.notify_webhook or opts.notify_smtp or opts.notify
    if (
        not wanted
        or audit.status == AuditStatus.INTERRUPTED
        or not outcome_changed(previous, audit.status, audit.failing)
    ):
        return []
    changes = audit.changes
    payload = {
        "run": audit.run_id,
        "farm": audit.farm,
        "status": audit.status,
        "exit_code": int(audit.exit_code),
        "previous_run": previous.id if previous else None,
        "previous_status": previous.status if previous else None,
        "newly_failing": changes.get("newly_failing", []),
        "fixed": changes.get("fixed", []),
        "still_failing": changes.get("still_failing", []),
        "report": audit.reports["html"],
    }
    return notify(
        payload,
        webhook=opts.notify_webhook,
        smtp=opts.notify_smtp,
        to=opts.notify_to,
        urls=notify_urls() if opts.notify else None,
    )


def _print(audit: AuditRun, plugin: AuditPlugin, baseline: dict[str, Any] | None, checks: Path) -> None:
    if baseline is not None:
        print(
            f"drift from baseline {baseline['name']!r} ({baseline['captured']}): "
            f"{len(plugin.baseline_drift or [])} fact(s)"
        )
    if not audit.results and not audit.collection_errors:
        print(f"gpverify audit: no checks were collected from {checks} ({', '.join(PHASES)}): nothing was audited")
    lines = [
        *_change_lines(audit.changes),
        (
            f"gpverify audit #{audit.run or '-'}: {audit.status.upper()} (exit {int(audit.exit_code)}); "
            f"{counts_text(outcomes_of(audit.results))}, waited {audit.waited:.1f} s over {audit.rounds} round(s)"
        ),
        *([f"  NOT recorded in the history: {audit.not_recorded}"] if audit.not_recorded else []),
        *(f"  {k}: {v}" for k, v in audit.reports.items()),
        *(f"  notify {n}" for n in audit.notifications),
    ]
    for line in lines:
        print(line)


def _change_lines(changes: dict[str, Any]) -> list[str]:
    if not changes or changes.get("previous_run") is None:
        return ["changed since the last run: nothing to compare with (first recorded audit)"]
    lines = [
        (
            f"changed since run #{changes['previous_run']}: {len(changes['newly_failing'])} newly failing, "
            f"{len(changes['fixed'])} fixed, {len(changes['still_failing'])} still failing, "
            f"{len(changes['fact_drift'])} fact(s) drifted"
        )
    ]
    for title, key in (("newly failing", "newly_failing"), ("fixed", "fixed")):
        lines += [f"  {title}: {e['name']}: {e['title']}" for e in changes[key]]
    lines += [f"  drift: {d['host']}: {d['fact']}: {d['before']!r} -> {d['after']!r}" for d in changes["fact_drift"]]
    return lines


def capture_baseline(
    *, inventory: str | None, lab: str | None, reports: Path, name: str = "default", history: str | None = None
) -> dict[str, Any]:
    """Collect every host's facts (read-only collector) and store them as the named baseline."""
    from gpverify.facts.farm import open_farm

    if not (inventory or lab):
        raise ConfigError("gpverify baseline capture", "--inventory", "an inventory file (or --lab [SCENARIO])")
    with ExitStack() as stack:
        if lab:
            running = stack.enter_context(_lab_apart(lab, "gpverify-baseline-lab-"))
            inventory, source = str(running.inventory_path), f"lab:{lab}"
        else:
            source = str(inventory)
        farm = open_farm(str(inventory))
        farm.collect(sorted(farm.specs))
        facts = snapshot(farm.collected())
        value, setting = history_setting(history, farm.inventory.history, str(inventory))
        with History(resolve_target(value, setting=setting, reports=Path(reports)), warn=_warn) as store:
            ident = store.save_baseline(name, farm.inventory.farm, source, facts)
        return {
            "id": ident,
            "name": name,
            "hosts": len(facts),
            "unavailable": sorted(h for h, f in facts.items() if "unavailable" in f),
        }
