"""`gpverify upgrade`: run the upgrade plan phase by phase, gate by gate, resumable from reports/<run-id>/."""

from __future__ import annotations

import argparse
import contextlib
import errno
import shutil
import sys
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import ValidationError

from gpverify import extension
from gpverify.cli.commands import HELP
from gpverify.config.inventory import host_specs, load_inventory
from gpverify.config.options import folder, person, pytest_addopts
from gpverify.customchecks import check_folders
from gpverify.errors import ConfigError, GpVerifyError
from gpverify.exitcodes import ExitCode
from gpverify.runner.engine import Context, Runner
from gpverify.runner.plan import FarmShape, Plan, builtin_plan, load_plan
from gpverify.runner.state import RunState
from gpverify.runner.summary import write_summary


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `gpverify upgrade`."""
    p = sub.add_parser("upgrade", help=HELP["upgrade"], description=__doc__)
    p.add_argument("--inventory", help="inventory YAML of the farm (not needed with --lab or --resume)")
    p.add_argument("--plan", help="plan YAML (default: the built-in plan for the inventory, in the guide's order)")
    p.add_argument(
        "--resume",
        nargs="?",
        const="",
        default=None,
        metavar="RUN-ID",
        help="continue a stopped run (default: the latest) after its last completed step",
    )
    p.add_argument(
        "--redo",
        action="append",
        default=[],
        metavar="STEP",
        help="with --resume: run this completed step or gate again (repeatable)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan and touch nothing")
    _operator_options(p)
    _lab_options(p)
    p.add_argument(
        "--reports", type=folder(), default="reports", help="where run folders are written (default reports)"
    )
    p.add_argument(
        "--checks",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of your own checks (Python or NAME.checks.yml), run in the gate of each check's "
        "phase beside the shipped ones (DIR/<phase>/ when it has one); repeatable",
    )
    p.set_defaults(func=cmd_upgrade)


def _operator_options(p: argparse.ArgumentParser) -> None:
    """Who confirms the manual steps, and whether they are asked."""
    p.add_argument(
        "--yes", action="store_true", help="confirm manual steps without asking (they were done); needs --confirmed-by"
    )
    p.add_argument(
        "--confirmed-by",
        metavar="NAME",
        type=person,
        help="the person who did the manual steps, named in the run record and the sign-off record "
        "(asked for at the terminal when not given)",
    )


def _lab_options(p: argparse.ArgumentParser) -> None:
    """The simulated lab to upgrade instead of a farm."""
    p.add_argument(
        "--lab",
        nargs="?",
        const="before-upgrade",
        default=None,
        metavar="SCENARIO",
        help="upgrade a simulated lab started in the run folder (default scenario before-upgrade)",
    )
    p.add_argument(
        "--lab-clear-faults",
        action="store_true",
        help="with --resume on a lab run: repair what the scenario broke, as an operator would",
    )


def _checks(ns: argparse.Namespace) -> Path:
    from gpverify.config.shipped import checks_root

    return Path(checks_root()).resolve()


def _shape(ns: argparse.Namespace) -> tuple[FarmShape, str, str]:
    """The farm's hosts and era, its configuration database name, and the inventory path (or lab)."""
    if ns.lab:
        lab = extension.lab().farm_shape(ns.lab)
        return FarmShape(lab.hosts, lab.era, lab.help_installer), lab.config_database, "(lab)"
    if not ns.inventory:
        raise ConfigError("gpverify upgrade", "--inventory", "an inventory file (or --lab, or --resume)")
    from gpverify.config.profiles import load_profile

    inv = load_inventory(ns.inventory)
    profile = load_profile(inv.profile, inv.overrides, origin=ns.inventory)
    shape = FarmShape({s.name: s.role for s in host_specs(inv)}, str(profile["era"]), str(profile["help_installer"]))
    return shape, inv.sql.config_database, ns.inventory


def print_plan(plan: Plan, inventory: str, state: RunState | None = None, out: Any = sys.stdout) -> None:
    """The plan's items in order; with a run's state, only those not done yet (what a resume would do)."""
    for n, item in enumerate(plan.items(), 1):
        if state is not None and state.done(item.id):
            continue
        status = f" [{state.item(item.id).status}]" if state else ""
        if item.step is None:
            print(f"{n:3}. {item.id}{status}: gate, pytest {item.phase.gate_args} --inventory {inventory}", file=out)
            continue
        s = item.step
        where = f" on {s.host}" if s.host else ""
        print(f"{n:3}. {s.id}{status}: {s.kind}{where}: {s.title}", file=out)
        if s.command:
            print(f"       command: {' '.join([s.command, *s.args])}", file=out)
        for line in s.instructions:
            print(f"       - {line}", file=out)


def cmd_upgrade(ns: argparse.Namespace) -> int:
    # A site's checks that cannot be used are bad input now, dry run included, not at their gate hours later.
    custom = [str(p.resolve()) for p in check_folders(ns.checks, "gpverify upgrade")]
    pytest_addopts()  # every gate would fail on it: refused now, dry run included
    _check_options(ns)
    return _new_run(ns, custom) if ns.resume is None else _resume(ns)


def _check_options(ns: argparse.Namespace) -> None:
    """Options that contradict each other, before anything is read or started."""
    if ns.resume is None and (ns.redo or ns.lab_clear_faults):
        raise ConfigError("gpverify upgrade", "--redo/--lab-clear-faults", "--resume (they change a stopped run)")
    given = [
        f
        for f, v in (("--plan", ns.plan), ("--lab", ns.lab), ("--inventory", ns.inventory), ("--checks", ns.checks))
        if v
    ]
    if ns.resume is not None and given:
        raise ConfigError(
            "gpverify upgrade --resume",
            given[0],
            "none (a resumed run keeps the plan, inventory, lab and checks it started with)",
        )
    if ns.yes and not ns.confirmed_by:
        # --yes says the steps were done, not who did them; the sign-off record names a person for each.
        raise ConfigError(
            "gpverify upgrade",
            "--yes",
            "--confirmed-by NAME with it: the person who did the manual "
            "steps (the sign-off record names them; the account running gpverify is not a person)",
        )


def _new_run(ns: argparse.Namespace, custom: list[str]) -> int:
    shape, config_db, inventory = _shape(ns)
    plan = load_plan(ns.plan, shape) if ns.plan else builtin_plan(shape, lab=bool(ns.lab), config_db=config_db)
    if ns.dry_run:
        print(f"Plan ({ns.plan or 'built-in'}) for {inventory}" + (f", lab scenario {ns.lab}" if ns.lab else ""))
        _print_custom(custom)
        print_plan(plan, inventory)
        return ExitCode.PASSED
    reports = Path(ns.reports)
    try:
        state = RunState.create(
            reports,
            inventory=inventory,
            plan_source=ns.plan or "built-in",
            plan=plan.model_dump(mode="json"),
            lab={"scenario": ns.lab} if ns.lab else None,
            checks=custom,
        )
    except OSError as exc:  # read-only, full, or not a folder: nothing has run yet
        raise ReportsUnwritable(str(reports), str(exc.strerror or exc), "nothing was run") from None
    print(f"Run {state.run_id}: state in {state.folder / 'state.json'}")
    return _execute(ns, plan, state)


def _resume(ns: argparse.Namespace) -> int:
    state = RunState.load(Path(ns.reports), ns.resume or None)
    check_folders(state.record.checks, "gpverify upgrade --resume")  # still there, still usable
    plan = _saved_plan(state)
    _check_resume(ns, state, plan)
    if ns.dry_run:
        done = sum(1 for i in plan.items() if state.done(i.id))
        print(
            f"Run {state.run_id} ({state.record.status}); {done} item(s) done earlier are not repeated; "
            "would continue with:"
        )
        _print_custom(state.record.checks)
        print_plan(plan, state.record.inventory, state)
        return ExitCode.PASSED
    if state.record.status == "complete" and not ns.redo:
        if not (state.folder / "summary.txt").exists() or not (state.folder / "summary.html").exists():
            write_summary(plan, state)  # killed after "complete" was saved, before the summary was written
        print(f"Run {state.run_id} is already complete; nothing to do (see {state.folder / 'summary.txt'}).")
        return ExitCode.PASSED
    print(f"Resuming run {state.run_id} ({state.folder})")
    return _execute(ns, plan, state)


def _saved_plan(state: RunState) -> Plan:
    try:
        return Plan.model_validate(state.record.plan)
    except (KeyError, TypeError, ValidationError):
        raise ConfigError(
            str(state.folder / "state.json"),
            "plan",
            "the plan the run started with (the state file was changed by hand?)",
        ) from None


def _check_resume(ns: argparse.Namespace, state: RunState, plan: Plan) -> None:
    ids = {i.id for i in plan.items()}
    for item_id in ns.redo:
        if item_id not in ids:
            raise ConfigError("--redo", item_id, f"a step or gate of run {state.run_id} ({', '.join(ids)})")
    if ns.lab_clear_faults and not state.record.lab:
        raise ConfigError("--lab-clear-faults", state.run_id, "a run started with --lab")


def _print_custom(folders: list[str]) -> None:
    if folders:
        print(f"Your own checks, in the gate of each one's phase: {', '.join(folders)}")


def _lock(state: RunState) -> FileLock:
    """One runner per run folder. filelock takes flock (POSIX) or LockFileEx (Windows): the operating system
    drops the lock when the holder dies, even by SIGKILL, so a killed run never blocks its --resume."""
    lock = FileLock(state.folder / ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        # Not bad input: the run is busy (exit 2, could not run).
        raise GpVerifyError(
            f"{state.folder}: (run): expected a run no other gpverify upgrade is running "
            "(another process holds it; wait for it to stop)"
        ) from None
    return lock


# A reports folder that cannot be written: one message, and the run stays incomplete (resumable).
WRITE_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EFBIG}


class ReportsUnwritable(GpVerifyError):
    """The reports folder refused a write: the run could not go on (exit 2), it did not fail."""

    def __init__(self, folder: str, reason: str, after: str) -> None:
        super().__init__(folder, reason, after)
        self.folder, self.reason, self.after = folder, reason, after

    def __str__(self) -> str:
        return f"{self.folder}: the reports folder cannot be written ({self.reason}); {self.after}"


def _unwritable(state: RunState, exc: OSError) -> ReportsUnwritable:
    message = (
        f"incomplete: the reports folder cannot be written ({exc.strerror or exc}); free space or make it "
        f"writable, then resume with --resume {state.run_id}"
    )
    state.record.status, state.record.message = "incomplete", message  # in memory first: the disk may refuse
    with contextlib.suppress(OSError):
        state.save()
    return ReportsUnwritable(
        str(state.folder),
        str(exc.strerror or exc),
        "the run is incomplete, not failed: free "
        f"space or make it writable, then resume it with --resume {state.run_id}",
    )


def _execute(ns: argparse.Namespace, plan: Plan, state: RunState) -> int:
    try:
        return _execute_run(ns, plan, state)
    except OSError as exc:
        if exc.errno not in WRITE_ERRORS:
            raise
        raise _unwritable(state, exc) from None


def _execute_run(ns: argparse.Namespace, plan: Plan, state: RunState) -> int:
    lab = emulator = None
    lock = _lock(state)
    try:
        for item_id in ns.redo:
            state.mark(item_id, "pending", redo=True)
        if state.record.lab:
            lab, emulator = _start_lab(state, clear=ns.lab_clear_faults)
        inventory = Path(state.record.inventory)
        farm = None
        if any(s.kind == "remote" for p in plan.phases for s in p.steps):
            from gpverify.facts.farm import open_farm

            farm = open_farm(inventory)
        state.set(status="running", message=None)
        ctx = Context(
            plan,
            state,
            inventory,
            _checks(ns),
            farm=farm,
            lab=emulator,
            yes=ns.yes,
            confirmed_by=ns.confirmed_by,  # one line already (config.options.person)
            custom=[Path(p) for p in state.record.checks],
        )
        code = Runner(ctx).run()
    except KeyboardInterrupt:
        state.set(status="interrupted", message="interrupted (Ctrl-C); resume with --resume " + state.run_id)
        code = ExitCode.NOT_RUN  # could not run to its end; --resume continues it
    except GpVerifyError as exc:  # e.g. a password variable not set: nothing ran; fix it and --resume
        state.set(status="stopped", message=str(exc))
        raise
    finally:
        lock.release()
        if lab is not None:
            lab.stop()
            extension.lab().detach_upgrade(lab)
    write_summary(plan, state)
    print(f"\n{state.status_line()}\nSummary: {state.folder / 'summary.html'} and {state.folder / 'summary.txt'}")
    return code


def _start_lab(state: RunState, *, clear: bool) -> tuple[Any, Any]:
    """Start the run's lab in its folder and replay what earlier invocations of this run did to it."""
    workdir = state.folder / "lab"
    shutil.rmtree(workdir, ignore_errors=True)  # rebuilt from the scenario; lab-journal.json holds the changes
    lab = extension.lab().start_lab(str((state.record.lab or {})["scenario"]), workdir, idle_timeout=3600.0)
    emulator = extension.lab().attach_upgrade(lab, workdir / "sql", state.folder / "lab-journal.json")
    if clear:
        for line in emulator.clear_faults() or ["nothing to repair"]:
            print(f"lab: {line}")
    state.set(inventory=str(lab.inventory_path))
    return lab, emulator


# Who confirms the demo's manual steps: the lab carries them out, and its records say it is a simulation.
DEMO_OPERATOR = "gpverify demo (simulated lab)"


def run_demo(reports: Path, scenario: str = "before-upgrade") -> int:
    """`make demo`: the built-in plan on a lab, manual confirmations given (--yes); prints where the reports are."""
    ns = argparse.Namespace(
        inventory=None,
        plan=None,
        resume=None,
        redo=[],
        dry_run=False,
        yes=True,
        lab=scenario,
        confirmed_by=DEMO_OPERATOR,
        lab_clear_faults=False,
        reports=str(reports),
        checks=[],
    )
    code = cmd_upgrade(ns)
    latest = RunState.load(reports, None)
    print(f"\nReports of the upgrade on the lab: {latest.folder.resolve()}/")
    links = {"summary": "summary.html"} | {i: e.report for i, e in latest.record.items.items() if e.report}
    width = max(map(len, links)) + 2
    for name, report in links.items():
        print(f"  {name + ':':{width}}{(latest.folder / report).resolve()}")
    return code
