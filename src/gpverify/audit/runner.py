"""Run the audit: post-upgrade and client checks in one pytest run, reports, history, baseline drift, notify.

Exit codes:
  0  every check passed (waived failures count as passed)
  1  at least one check failed (not waived, or its waiver expired)
  2  no check failed, but at least one could not run (host or database unreadable), or pytest itself broke
  3  bad input: inventory, waiver file, scenario or option (ConfigError), nothing was checked
  4  the run could not be recorded in the history (--history or the inventory's `history:`): the checks ran and
     the local reports (HTML, JUnit, JSON) were written; the message names the setting and the cause
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
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
from gpverify.history.store import History, HistoryUnavailable, site_name, utcnow
from gpverify.history.target import HistoryTarget, resolve_target
from gpverify.pytestrun import run_checks

PHASES = ("post", "clients")
# Checks of other phases that also belong in a nightly audit: Tenant Services must stay updated and running.
AUDIT_EXTRA = ("pre/test_pre_tenant_services.py",)
WAIT_INTERVAL = 5.0  # seconds between rounds under --wait


@dataclass
class AuditOptions:
    inventory: str | None = None
    lab: str | None = None  # scenario name or overlay file: the audit starts (and stops) the lab itself
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
class AuditResult:
    exit_code: int
    status: str
    run_id: int
    reports: dict[str, str]
    results: list[dict[str, Any]]
    waited: float
    rounds: int
    document: dict[str, Any] = field(default_factory=dict)
    notifications: list[str] = field(default_factory=list)


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


def _exit_code(plugin: AuditPlugin, ret: int) -> int:
    if ret == pytest.ExitCode.USAGE_ERROR or (ret == ExitCode.BAD_INPUT and not plugin.results):
        return ExitCode.BAD_INPUT
    broken = bool(plugin.collection_errors) or ret in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
    return for_outcomes((r.outcome for r in plugin.results.values()), broken=broken)


def run_audit(opts: AuditOptions) -> AuditResult:
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


def _run_audit(opts: AuditOptions) -> AuditResult:
    from gpverify.config.shipped import checks_root
    from gpverify.facts.farm import open_farm

    waivers = _validate(opts)
    with ExitStack() as stack:
        if opts.lab:
            lab = stack.enter_context(extension.lab().temporary_lab(opts.lab, prefix="gpverify-audit-lab-"))
            inventory, source = str(lab.inventory_path), f"lab:{opts.lab}"
        else:
            inventory, source = str(opts.inventory), str(opts.inventory)
        farm = open_farm(inventory)  # bad inventory or missing credentials: ConfigError before any check
        return _run(opts, waivers, inventory, source, farm.inventory.farm, checks_root() if opts.checks is None
                    else opts.checks, farm.inventory.history)


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


def _run(opts: AuditOptions, waivers: list[Waiver], inventory: str, source: str, farm_name: str,
         checks: Path, inventory_history: str | None = None) -> AuditResult:
    reports = Path(opts.reports)
    reports.mkdir(parents=True, exist_ok=True)
    value, setting = history_setting(opts.history, inventory_history, inventory)
    try:
        target, problem = resolve_target(value, setting=setting, reports=reports), None
    except HistoryUnavailable as exc:
        target, problem = None, exc
    recorder = _Recorder(target, problem)
    run_id = 0
    try:
        previous = recorder.call(lambda h: h.last_finished(farm=farm_name))
        baseline = recorder.call(lambda h: h.baseline(opts.baseline, farm=farm_name))
        run_id = recorder.call(lambda h: h.start_run(farm_name, source, site_name()), 0)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        base = reports / (f"audit-{stamp}-run{run_id}" if run_id else f"audit-{stamp}-unrecorded")
        paths = {"html": f"{base}.html", "junit": f"{base}.xml", "json": f"{base}.json"}
        targets = [str(checks / p) for p in PHASES if (checks / p).is_dir()]
        targets += [str(checks / p) for p in AUDIT_EXTRA if (checks / p).is_file()]
        targets += audit_targets(PHASES, opts.custom)
        args = [*targets, "--inventory", inventory, f"--gpverify-html={paths['html']}",
                f"--junitxml={paths['junit']}", "-o", "junit_family=xunit2", "-rfEs", "--continue-on-collection-errors",
                *(["-q"] if opts.quiet else [])]
        first_end: float | None = None
        waited, rounds = 0.0, 0
        while True:
            rounds += 1
            plugin = AuditPlugin(waivers=waivers, today=opts.today, previous=previous, baseline=baseline,
                                 run_id=run_id or None, round_no=rounds, waited=waited)
            ret = run_checks(args, [plugin, PhaseFilter(opts.custom, PHASES)]).exit_code
            plugin.finalize()
            first_end = first_end or time.monotonic()
            pending = plugin.pending()
            remaining = opts.wait - (time.monotonic() - first_end)  # the wait starts after the first round
            if not pending or remaining <= 0 or ret in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED):
                break
            print(f"gpverify audit: {len(pending)} service/reachability check(s) failing; "
                  f"waiting (up to {remaining:.0f} s more) and checking again")
            time.sleep(min(opts.wait_interval, remaining))
            waited = time.monotonic() - first_end
        exit_code = _exit_code(plugin, ret)
        status = {ExitCode.PASSED: "passed", ExitCode.FAILED: "failed", ExitCode.NOT_RUN: "error",
                  ExitCode.BAD_INPUT: "bad-input"}[exit_code]
        if ret == pytest.ExitCode.INTERRUPTED:  # Ctrl-C: recorded, but never the base of a later comparison
            exit_code, status = ExitCode.NOT_RUN, "interrupted"
        records = plugin.result_list()
        results = [r.as_dict() for r in records]
        changes = plugin.changes.as_dict() if plugin.changes else {}
        document = {
            "run": run_id or None, "farm": farm_name, "site": site_name(), "source": source, "finished": utcnow(),
            "status": status,
            "exit_code": exit_code, "waited_seconds": round(waited, 1), "rounds": rounds, "reports": paths,
            "previous_run": previous.id if previous else None, "results": results,
            "collection_errors": plugin.collection_errors,
            "waivers": {"loaded": [w.as_dict() for w in waivers],
                        "expired": [w.as_dict() for w in plugin.expired_waivers()],
                        "unmatched": [w.as_dict() for w in plugin.unmatched_waivers()]},
            "changes_since_last_run": changes,
            "baseline": ({"name": baseline["name"], "captured": baseline["captured"],
                          "drift": [d.as_dict() for d in plugin.baseline_drift or []]} if baseline else None),
        }
        Path(paths["json"]).write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
        if run_id:
            recorder.call(lambda h: h.finish_run(
                run_id, status=status, exit_code=exit_code, waited=waited, rounds=rounds, results=records,
                facts=plugin.facts, reports={k: str(Path(v).resolve()) for k, v in paths.items()},
                newly_failing=len(changes.get("newly_failing", []))))
        if recorder.problem is not None:  # the JSON says so too: the run is in no history
            exit_code = document["exit_code"] = ExitCode.NOT_RECORDED
            document["not_recorded"] = str(recorder.problem)
            Path(paths["json"]).write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
        failing = {(r.check, r.test) for r in records if r.failing}
        notes: list[str] = []
        if (opts.notify_webhook or opts.notify_smtp or opts.notify) and status != "interrupted" \
                and outcome_changed(previous, status, failing):
            payload = {"run": run_id, "farm": farm_name, "status": status, "exit_code": exit_code,
                       "previous_run": previous.id if previous else None,
                       "previous_status": previous.status if previous else None,
                       "newly_failing": changes.get("newly_failing", []), "fixed": changes.get("fixed", []),
                       "still_failing": changes.get("still_failing", []), "report": paths["html"]}
            notes = notify(payload, webhook=opts.notify_webhook, smtp=opts.notify_smtp, to=opts.notify_to,
                           urls=notify_urls() if opts.notify else None)
        if baseline is not None:
            print(f"drift from baseline {baseline['name']!r} ({baseline['captured']}): "
                  f"{len(plugin.baseline_drift or [])} fact(s)")
        if not results and not plugin.collection_errors:
            print(f"gpverify audit: no checks were collected from {checks} ({', '.join(PHASES)}): nothing was audited")
        for line in [*_change_lines(changes),
                     (f"gpverify audit #{run_id or '-'}: {status.upper()} (exit {exit_code}); "
                      f"{len(results)} result(s), waited {waited:.1f} s over {rounds} round(s)"),
                     *([f"  NOT recorded in the history: {recorder.problem}"] if recorder.problem else []),
                     *(f"  {k}: {v}" for k, v in paths.items()), *(f"  notify {n}" for n in notes)]:
            print(line)
        return AuditResult(exit_code, status, run_id, paths, results, waited, rounds, document, notes)
    except BaseException:  # Ctrl-C between rounds or while writing: the started run is kept as interrupted
        if run_id:
            recorder.call(lambda h: h.mark_interrupted(run_id))
        raise
    finally:
        recorder.close()


def _change_lines(changes: dict[str, Any]) -> list[str]:
    if not changes or changes.get("previous_run") is None:
        return ["changed since the last run: nothing to compare with (first recorded audit)"]
    lines = [(f"changed since run #{changes['previous_run']}: {len(changes['newly_failing'])} newly failing, "
              f"{len(changes['fixed'])} fixed, {len(changes['still_failing'])} still failing, "
              f"{len(changes['fact_drift'])} fact(s) drifted")]
    for title, key in (("newly failing", "newly_failing"), ("fixed", "fixed")):
        lines += [f"  {title}: {e['check']} {e['test'].split('::')[-1]}" for e in changes[key]]
    lines += [f"  drift: {d['host']}: {d['fact']}: {d['before']!r} -> {d['after']!r}" for d in changes["fact_drift"]]
    return lines


def capture_baseline(*, inventory: str | None, lab: str | None, reports: Path, name: str = "default",
                     history: str | None = None) -> dict[str, Any]:
    """Collect every host's facts (read-only collector) and store them as the named baseline."""
    from gpverify.facts.farm import open_farm

    if not (inventory or lab):
        raise ConfigError("gpverify baseline capture", "--inventory", "an inventory file (or --lab [SCENARIO])")
    with ExitStack() as stack:
        if lab:
            running = stack.enter_context(extension.lab().temporary_lab(lab, prefix="gpverify-baseline-lab-"))
            inventory, source = str(running.inventory_path), f"lab:{lab}"
        else:
            source = str(inventory)
        farm = open_farm(str(inventory))
        farm.collect(sorted(farm.specs))
        facts = snapshot(farm.collected())
        value, setting = history_setting(history, farm.inventory.history, str(inventory))
        with History(resolve_target(value, setting=setting, reports=Path(reports)), warn=_warn) as store:
            ident = store.save_baseline(name, farm.inventory.farm, source, facts)
        return {"id": ident, "name": name, "hosts": len(facts),
                "unavailable": sorted(h for h, f in facts.items() if "unavailable" in f)}
