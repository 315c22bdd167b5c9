"""Run a plan: steps and gates in order, the state saved after each, stopping at the first failure."""

from __future__ import annotations

import collections
import getpass
import json
import os
import shlex
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from gpverify import attestations
from gpverify.config.options import person_name
from gpverify.config.redact import Redactor
from gpverify.errors import HostUnavailable
from gpverify.exitcodes import ExitCode
from gpverify.extension import UpgradeEmulator
from gpverify.facts.farm import Farm
from gpverify.outcomes import Outcome
from gpverify.runner.gates import ATTESTATIONS, run_gate
from gpverify.runner.plan import ATTEST_STATEMENT, SERVER_ACTIONS, Item, Plan, Step
from gpverify.runner.scripts import LOG_TAIL_SCRIPT, TAIL_LINES
from gpverify.runner.state import RunState, now
from gpverify.transport.winrm import WinRMTransport, encoded_command

OK, FAILED, WAITING = ExitCode.PASSED, ExitCode.FAILED, ExitCode.NOT_RUN  # waiting for an operator: could not run


@dataclass
class Context:
    plan: Plan
    state: RunState
    inventory: Path
    checks: Path
    farm: Farm | None = None  # opened for remote steps (credentials from the environment, never stored)
    lab: UpgradeEmulator | None = None
    yes: bool = False
    confirmed_by: str | None = None  # the person who did the manual steps (--confirmed-by); asked for when unset
    out: TextIO | None = None  # None: sys.stdout at the time of printing
    ask: Callable[[str], str] = input
    is_tty: Callable[[], bool] = field(default_factory=lambda: sys.stdin.isatty)
    custom: list[Path] = field(default_factory=list)  # the site's own checks (--checks), in their phases' gates


# A step's output line is cut to this many characters while it streams: the kept tail stays small whatever runs.
LINE_CHARS = 2000
# A name typed at the terminal that is refused this many times leaves the step waiting: a bounded prompt, so a
# pasted block of text or a script feeding stdin cannot hold the run in a loop.
NAME_TRIES = 3
# Programs a plan's local step can name on any system: the Python gpverify runs on and gpverify itself (`date`,
# `python3` or a shell are not programs on the Windows server that often runs the upgrade).
PORTABLE_COMMANDS = {"python": [sys.executable], "gpverify": [sys.executable, "-m", "gpverify.cli.main"]}


def _inventory_redactor(inventory: Path) -> Redactor:
    """The inventory's passwords, read without prompting, so local steps' output is masked too (a local script
    may echo a password it was given); an inventory whose passwords cannot be read that way masks nothing more."""
    from gpverify.config.credentials import NONINTERACTIVE_ENV
    from gpverify.errors import GpVerifyError
    from gpverify.facts.farm import open_farm

    before = os.environ.get(NONINTERACTIVE_ENV)
    os.environ[NONINTERACTIVE_ENV] = "1"
    try:
        return Redactor.for_farm(open_farm(inventory))
    except (GpVerifyError, OSError):
        return Redactor.for_environment()
    finally:
        if before is None:
            os.environ.pop(NONINTERACTIVE_ENV, None)
        else:
            os.environ[NONINTERACTIVE_ENV] = before


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _stream_tail(stream: TextIO, kept: collections.deque[str]) -> None:
    """Keep the last lines of a stream, each cut to LINE_CHARS; memory stays bounded even with no newline at all."""
    cut = False  # inside a line already cut: drop the rest of it
    while piece := stream.readline(LINE_CHARS):
        if not cut:
            kept.append(piece.rstrip("\n"))
        cut = not piece.endswith("\n")


class Runner:
    """Carries out a plan against a run state; `run()` returns the process exit code."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.redact = Redactor.for_farm(ctx.farm) if ctx.farm else _inventory_redactor(ctx.inventory)
        self.last_name: str | None = None  # the name typed for the last manual step, offered for the next

    def say(self, text: str = "") -> None:
        print(text, file=self.ctx.out or sys.stdout, flush=True)

    def run(self) -> int:
        state = self.ctx.state
        for item in self.ctx.plan.items():
            if state.done(item.id):
                self.say(f"[done]   {item.id} (completed earlier, not repeated)")
                continue
            code = self._gate(item) if item.type == "gate" else self._step(item)
            if code != OK:
                return code
        state.set(status="complete", stopped_at=None, message="every step done and every gate passed")
        return OK

    # --- steps --------------------------------------------------------------------------------------

    def _step(self, item: Item) -> int:
        step, state = item.step, self.ctx.state
        assert step is not None
        self.say(
            f"[step]   {step.id}: {step.title}" + (f" ({step.kind} on {step.host})" if step.host else f" ({step.kind})")
        )
        if step.kind == "manual":
            return self._manual(step)
        state.mark(step.id, "started", kind=step.kind, host=step.host, title=step.title)
        try:
            exit_code, output = self._remote(step) if step.kind == "remote" else self._local(step)
        except (HostUnavailable, OSError, subprocess.TimeoutExpired) as exc:
            exit_code, output = -1, str(exc)
        output = self.redact.text(tail(output))
        if exit_code != 0:
            state.mark(step.id, "failed", exit_code=exit_code, output_tail=output)
            return self._stop(step.id, f"step {step.id} ended with exit code {exit_code}", [output] if output else [])
        state.mark(step.id, "done", exit_code=exit_code, output_tail=output, run_by=getpass.getuser())
        return OK

    def _remote(self, step: Step) -> tuple[int, str]:
        farm = self.ctx.farm
        assert farm is not None and step.host and step.command
        spec = farm.specs[next(n for n in farm.specs if n.lower() == step.host.lower())]
        with WinRMTransport(spec, farm.passwords[spec.name]) as shell:
            result = shell.run(step.command, list(step.args))
            text = (result.stdout + result.stderr).decode("utf-8", errors="replace")
            if step.log:
                log = shell.run("powershell.exe", encoded_command(LOG_TAIL_SCRIPT), step.log.encode("utf-8"))
                text += "\n" + (log.stdout or log.stderr).decode("utf-8", errors="replace")
        return result.exit_code, text

    def _local(self, step: Step) -> tuple[int, str]:
        """Run a local command; only the last TAIL_LINES lines are kept while it streams (any amount of output)."""
        assert step.command
        argv = [step.command, *step.args] if step.args else shlex.split(step.command)
        argv = PORTABLE_COMMANDS.get(argv[0], argv[:1]) + argv[1:]
        kept: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        with subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as proc:
            assert proc.stdout is not None
            reader = threading.Thread(target=_stream_tail, args=(proc.stdout, kept), daemon=True)
            reader.start()
            try:
                code = proc.wait(timeout=step.timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                reader.join(timeout=5)
                raise
            reader.join(timeout=5)
        return code, "\n".join(kept)

    def _manual(self, step: Step) -> int:
        if step.attest:
            return self._attest(step)
        state = self.ctx.state
        self.say(f"         {step.title}" + (f" on {step.host}" if step.host else "") + ":")
        for n, line in enumerate(step.instructions, 1):
            self.say(f"           {n}. {line}")
        if self.ctx.yes:
            name, how = self.ctx.confirmed_by, "--yes"  # gpverify upgrade refuses --yes without --confirmed-by
        elif self.ctx.is_tty():
            state.mark(step.id, "waiting", kind="manual", host=step.host, title=step.title)
            name, how = self._ask(step), "typed at the terminal"
        else:
            state.mark(step.id, "waiting", kind="manual", host=step.host, title=step.title)
            return self._stop(
                step.id,
                f"step {step.id} is manual and needs an operator's confirmation, but there is no terminal to ask on",
                [
                    (
                        "do the step, then run again from a terminal, or add --yes "
                        "--confirmed-by NAME to confirm that NAME did it"
                    )
                ],
                code=WAITING,
            )
        if not name:
            return self._stop(step.id, f"step {step.id} was not confirmed by a named person", [], code=WAITING)
        state.mark(step.id, "started", kind="manual", host=step.host, title=step.title)
        lab_note = self._lab_carries_out(step)
        # The person is who signs for the step; the account it was typed under is kept as a second line.
        state.mark(
            step.id,
            "done",
            confirmed_by=name,
            confirmed_at=now(),
            confirmed_how=how,
            confirmed_account=getpass.getuser(),
            **({"lab": lab_note} if lab_note else {}),
        )
        return OK

    def _attest(self, step: Step) -> int:
        """Ask a named person to confirm what gpverify could not verify; skipped when the last gate verified it."""
        state = self.ctx.state
        unverified = self._unverified(step.attest)
        if not unverified:
            why = f"not needed: gpverify verified {', '.join(step.attest)} itself"
            self.say(f"         {why}")
            state.mark(step.id, "done", kind="manual", title=step.title, attested=None, asked=False, why=why)
            return OK
        self.say(f"         gpverify could not verify {', '.join(unverified)}: {step.title}:")
        for n, line in enumerate(step.instructions, 1):
            self.say(f"           {n}. {line}")
        if self.ctx.yes or not self.ctx.is_tty():
            why = (
                "not attested: a named person must answer at a terminal (--yes confirms no attestation); "
                f"{', '.join(unverified)} stay not verified"
            )
            self.say(f"         {why}")
            state.mark(step.id, "done", kind="manual", title=step.title, attested=None, asked=False, why=why)
            return OK
        state.mark(step.id, "waiting", kind="manual", title=step.title)
        name = self._attester()
        answer = (self._answer(f"Do you confirm that {ATTEST_STATEMENT}? (yes/no): ") or "").strip().lower()
        if not name or answer != "yes":
            return self._stop(
                step.id,
                f"step {step.id}: Session Management was not confirmed" + ("" if name else " (no name given)"),
                [
                    (
                        "list or resume the session hosts in Session Management (managing-web-client-sessions.md), "
                        "then resume"
                    )
                ],
                code=WAITING,
            )
        self._record_attestation(step, name, answer)
        return OK

    def _record_attestation(self, step: Step, name: str, answer: str) -> None:
        """The attestation for the checks' next run, and the step done as a manual step's confirmation."""
        state = self.ctx.state
        at = now()
        attestations.add(
            state.folder / ATTESTATIONS,
            attestations.Attestation(tuple(step.attest), name, at, ATTEST_STATEMENT, answer),
        )
        # Recorded as a manual step's confirmation is (the person, then the account it was typed under), so the
        # sign-off record names who attested and what they answered.
        state.mark(
            step.id,
            "done",
            kind="manual",
            title=step.title,
            confirmed_by=name,
            confirmed_at=at,
            confirmed_how="typed at the terminal",
            confirmed_account=getpass.getuser(),
            answer=answer,
            attested={"by": name, "at": at, "answer": answer, "checks": step.attest},
        )

    def _attester(self) -> str:
        """The person who attests: --confirmed-by's name, else typed (Enter keeps the last name typed this run)."""
        if self.ctx.confirmed_by:
            return self.ctx.confirmed_by
        return self._typed_name("Your full name (recorded as the person who confirms it)") or ""

    def _unverified(self, checks: list[str]) -> list[str]:
        """The checks among these that the latest gate which ran them did not verify (attested counts as not)."""
        state, latest = self.ctx.state, {}
        for item in self.ctx.plan.items():
            results = state.item(item.id).results if item.type == "gate" else None
            if results and (state.folder / results).exists():
                document = json.loads((state.folder / results).read_text(encoding="utf-8"))
                for r in document.get("results", []):
                    if r.get("check") in checks:
                        latest[(r["check"], r.get("test"))] = Outcome.of(r.get("outcome")) or Outcome.ERROR
        return [
            c
            for c in checks
            if not any(k[0] == c for k in latest) or any(not o.verified for k, o in latest.items() if k[0] == c)
        ]

    def _ask(self, step: Step) -> str | None:
        """'done', then the name of who did the step (--confirmed-by, else asked; Enter keeps the last one)."""
        answer = self._answer(f"Type 'done' when {step.id} is finished (anything else stops the run): ") or ""
        if answer.strip().lower() != "done":
            return None
        if self.ctx.confirmed_by:
            return self.ctx.confirmed_by
        return self._typed_name(f"Your name, recorded as who did {step.id}")

    def _answer(self, prompt: str, at_end: str | None = "") -> str | None:
        """What is typed at the terminal, or `at_end` at the end of input (Ctrl-D, Ctrl-Z on Windows): no answer
        and no traceback; the step then waits as for any answer that is not a confirmation."""
        try:
            return self.ctx.ask(prompt)
        except EOFError:
            return at_end

    def _typed_name(self, prompt: str) -> str | None:
        """A person's name typed at the terminal, checked as --confirmed-by is (config.options.person_name); Enter
        keeps the last name typed this run. A refused name is said why and asked again, never recorded or folded;
        after NAME_TRIES refusals (or the end of input) no one is named and the step waits."""
        last = self.last_name
        for _ in range(NAME_TRIES):
            typed = self._answer(prompt + (f" [{last}]" if last else "") + ": ", None)
            if typed is None:  # the end of input: no name given
                return None
            if last and not typed.strip(" "):
                return last
            try:
                self.last_name = person_name(typed)
            except ValueError as exc:
                self.say(f"         not recorded: expected {exc}")
                continue
            return self.last_name
        self.say(f"         no name recorded after {NAME_TRIES} tries")
        return None

    def _lab_carries_out(self, step: Step) -> str | None:
        if self.ctx.lab is None or not step.action or not (step.host or step.action in SERVER_ACTIONS):
            return None
        outcome = self.ctx.lab.apply(step.host, step.action)
        return f"the lab carried out {step.action} on {step.host or 'its SQL Server'} (exit {outcome.exit_code})"

    # --- gates --------------------------------------------------------------------------------------

    def _gate(self, item: Item) -> int:
        phase, state = item.phase, self.ctx.state
        self.say(f"[gate]   {item.id}: pytest {phase.gate_args}")
        state.mark(item.id, "started", phase=phase.phase, host=phase.host)
        # The pre gate requires backups finished after the upgrade started: the run's creation time.
        since = state.record.created if phase.phase == "pre" and state.record.created else None
        result = run_gate(
            self.ctx.checks,
            phase.phase,
            phase.host,
            self.ctx.inventory,
            state.folder,
            item.id,
            phase.select,
            attempt=state.item(item.id).attempts,
            backups_since=since,
            custom=self.ctx.custom,
        )
        if result.exit_code not in (ExitCode.PASSED, ExitCode.FAILED):
            state.probe()  # pytest could not write its report? then the run is incomplete, not a failed gate
        fields = {
            "exit_code": int(result.exit_code),
            "report": result.report.name,
            "results": result.results.name,
            "counts": {o.value: n for o, n in result.counts.items()},
            "failed_checks": result.lines(),
        }
        if result.passed:
            # Warnings and checks not verified pass a gate, so the operator must see that they are there.
            state.mark(item.id, "passed", **fields)
            self.say(f"         gate passed: {result.counts_text} -> {result.report}")
            return OK
        state.mark(item.id, "failed", **fields)
        what = "failed" if result.exit_code == ExitCode.FAILED else "could not run"
        return self._stop(
            item.id,
            f"gate {item.id} {what}: {result.counts_text} (report: {result.report})",
            result.lines(),
            code=result.exit_code,
        )

    def _stop(self, item_id: str, why: str, details: list[str], code: int = FAILED) -> int:
        """Stop the run at an item. `code`: FAILED (a step or check failed), NOT_RUN (a gate could not run) or
        WAITING (a manual step waits for its operator: the same code, resumed with a confirmation)."""
        state = self.ctx.state
        state.set(status="stopped", stopped_at=item_id, message=why)
        self.say(f"\nSTOPPED: {why}")
        for line in details:
            self.say(f"  - {line}")
        waiting = state.item(item_id).status == "waiting"
        lab = " --lab-clear-faults" if self.ctx.lab is not None and not waiting else ""
        self.say(
            f"Fix the cause, then continue with:  gpverify upgrade --resume {state.run_id}"
            + (' --yes --confirmed-by "YOUR NAME"' if waiting else "")
            + lab
        )
        if lab:
            self.say("  (on the lab, --lab-clear-faults repairs what the scenario broke, as an operator would)")
        self.say("Completed steps are not repeated on resume (--redo STEP runs one again).")
        return code
