"""Gates: the very same checks as `pytest checks/<phase>`, run through gpverify's one pytest runner."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gpverify.pytestrun import PytestRun, run_checks
from gpverify.results import CheckResult, without_host

NO_TESTS_COLLECTED = 5  # pytest.ExitCode.NO_TESTS_COLLECTED


@dataclass
class GateResult:
    exit_code: int
    report: Path
    results: Path
    failed: list[str] = field(default_factory=list)  # "GP-HOST-003 gp-sh02 (failed): what was found"
    counts: dict[str, int] = field(default_factory=dict)
    records: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        # No checks collected is not a pass: a mistyped `select` or host would otherwise wave the gate through.
        return self.exit_code == 0


def select_expression(check_ids: list[str] | None, exclude: list[str] | None = None) -> str | None:
    """A -k expression of check IDs (IDs are keywords of every check's test)."""
    parts = []
    if check_ids:
        parts.append("(" + " or ".join(check_ids) + ")")
    if exclude:
        parts += [f"not {c}" for c in exclude]
    return " and ".join(parts) or None


ATTESTATIONS = "attestations.json"  # in the run folder: what named people confirmed (gpverify.attestations)


def gate_args(checks: Path, phase: str, host: str | None, inventory: Path, report: Path,
              select: str | None = None, backups_since: str | None = None,
              attestations: Path | None = None) -> list[str]:
    args = [str(checks / phase), "--inventory", str(inventory), f"--gpverify-html={report}", "-q"]
    args += ["--attestations", str(attestations)] if attestations else []
    args += ["--backups-since", backups_since] if backups_since else []  # GP-PRE-014: backups after the run began
    return args + (["--host", host] if host else []) + (["-k", select] if select else [])


def run_gate(checks: Path, phase: str, host: str | None, inventory: Path, folder: Path, gate_id: str,
             select: str | None = None, attempt: int = 1, backups_since: str | None = None) -> GateResult:
    """Run the gate's checks; its report, results and log are attempt-numbered after the first attempt, so a
    resumed run keeps the reports of the earlier ones."""
    stem = gate_id if attempt <= 1 else f"{gate_id}.attempt{attempt}"
    report, results = folder / f"{stem}.html", folder / f"{stem}.results.json"
    with open(folder / f"{stem}.log", "w", encoding="utf-8") as log:
        attested = folder / ATTESTATIONS
        run = run_checks(gate_args(checks, phase, host, inventory, report, select, backups_since,
                                   attested if attested.exists() else None), output=log)
    result = GateResult(run.exit_code, report, results, records=run.results)
    _write_results(run, results)
    _summarise(result, run)
    if run.exit_code == NO_TESTS_COLLECTED or (run.exit_code == 0 and not run.collected):
        limits = ", ".join(f"{k} {v!r}" for k, v in (("host", host), ("select", select)) if v) or "no limits"
        result.exit_code = result.exit_code or NO_TESTS_COLLECTED
        result.failed.append(f"no checks were collected from checks/{phase} ({limits}): check the gate's select "
                             "and host")
    elif not result.passed and not result.failed:
        result.failed.append(f"pytest ended with exit code {run.exit_code} before any check failed: see "
                             f"{folder / (stem + '.log')}")
    result.failed += [f"checks could not be loaded: {e}" for e in run.collection_errors]
    return result


def _write_results(run: PytestRun, path: Path) -> None:
    document = {"exit_status": run.exit_code, "results": [r.as_dict() for r in run.results]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
    tmp.replace(path)


def _summarise(result: GateResult, run: PytestRun) -> None:
    outcomes = ("passed", "failed", "error", "skipped", "warning", "not verified", "attested")
    result.counts = {k: sum(1 for r in run.results if r.outcome == k) for k in outcomes}
    result.counts["tests"] = len(run.results)
    for r in run.results:
        if r.failing:
            where = f" {r.host}" if r.host else ""
            result.failed.append(f"{r.check}{where} ({r.label}): {without_host(r.message, r.host)}")
