"""Gates: the very same checks as `pytest checks/<phase>`, run through gpverify's one pytest runner."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gpverify.customchecks import phase_targets
from gpverify.exitcodes import ExitCode
from gpverify.outcomes import Outcome
from gpverify.pytestrun import PytestRun, run_checks
from gpverify.results import CheckResult, counts_text, outcomes_of, without_host


@dataclass(frozen=True)
class GateResult:
    """What one attempt at a gate found: its checks' records and, when it could not run, why."""

    exit_code: ExitCode  # gpverify's code: passed, a check failed, could not run, bad input
    report: Path
    results: Path  # the records as JSON beside the report
    records: list[CheckResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why the gate could not run besides its checks

    @property
    def passed(self) -> bool:
        # No checks collected is not a pass: a mistyped `select` or host would otherwise wave the gate through.
        return self.exit_code == ExitCode.PASSED

    @property
    def counts(self) -> dict[Outcome, int]:
        return outcomes_of(self.records)

    @property
    def counts_text(self) -> str:
        """'12 passed, 9 not verified': each outcome counted on its own."""
        return counts_text(self.counts)

    @property
    def failing(self) -> list[CheckResult]:
        return [r for r in self.records if r.failing]

    def lines(self) -> list[str]:
        """What stopped the gate, one line each: "GP-HOST-003 gp-sh02 (failed): what was found -- Remediation: what
        to do", then problems."""
        checks = [
            f"{r.check}{f' {r.host}' if r.host else ''} ({r.label}): {without_host(r.message, r.host)}"
            + (f" -- Remediation: {r.remediation}" if r.remediation else "")
            for r in self.failing
        ]
        return checks + self.problems


def select_expression(check_ids: list[str] | None, exclude: list[str] | None = None) -> str | None:
    """A -k expression of check IDs (IDs are keywords of every check's test)."""
    parts = []
    if check_ids:
        parts.append("(" + " or ".join(check_ids) + ")")
    if exclude:
        parts += [f"not {c}" for c in exclude]
    return " and ".join(parts) or None


ATTESTATIONS = "attestations.json"  # in the run folder: what named people confirmed (gpverify.attestations)


def gate_args(
    checks: Path,
    phase: str,
    host: str | None,
    inventory: Path,
    report: Path,
    select: str | None = None,
    backups_since: str | None = None,
    custom: Sequence[Path] = (),
    attestations: Path | None = None,
) -> list[str]:
    args = [str(checks / phase), "--inventory", str(inventory), f"--gpverify-html={report}", "-q"]
    if custom:  # the site's own checks of this phase (--checks), the other phases' left out
        args += [*phase_targets(phase, custom), "--check-phase", phase]
    args += ["--attestations", str(attestations)] if attestations else []
    args += ["--backups-since", backups_since] if backups_since else []  # GP-PRE-014: backups after the run began
    return args + (["--host", host] if host else []) + (["-k", select] if select else [])


def run_gate(
    checks: Path,
    phase: str,
    host: str | None,
    inventory: Path,
    folder: Path,
    gate_id: str,
    select: str | None = None,
    attempt: int = 1,
    backups_since: str | None = None,
    custom: Sequence[Path] = (),
) -> GateResult:
    """Run the gate's checks; its report, results and log are attempt-numbered after the first attempt, so a
    resumed run keeps the reports of the earlier ones."""
    stem = gate_id if attempt <= 1 else f"{gate_id}.attempt{attempt}"
    report, results, log = folder / f"{stem}.html", folder / f"{stem}.results.json", folder / f"{stem}.log"
    attested = folder / ATTESTATIONS
    with open(log, "w", encoding="utf-8") as out:
        run = run_checks(
            gate_args(
                checks,
                phase,
                host,
                inventory,
                report,
                select,
                backups_since,
                custom,
                attested if attested.exists() else None,
            ),
            output=out,
        )
    _write_results(run, results)
    limits = ", ".join(f"{k} {v!r}" for k, v in (("host", host), ("select", select)) if v) or "no limits"
    return GateResult(
        ExitCode.of(run.exit_code), report, results, run.results, _problems(run, f"checks/{phase} ({limits})", log)
    )


def _problems(run: PytestRun, where: str, log: Path) -> list[str]:
    """Why a gate could not run besides its checks' own outcomes (their lines come from the records)."""
    problems = [f"checks could not be loaded: {e}" for e in run.collection_errors]
    if run.nothing_collected:
        problems.insert(0, f"no checks were collected from {where}: check the gate's select and host")
    elif run.exit_code != ExitCode.PASSED and not any(r.failing for r in run.results) and not problems:
        problems.append(f"pytest ended ({ExitCode.of(run.exit_code).meaning}) before any check failed: see {log}")
    return problems


def _write_results(run: PytestRun, path: Path) -> None:
    document = {"exit_status": run.exit_code, "results": [r.as_dict() for r in run.results]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)
