"""Gates: the very same checks as `pytest checks/<phase>`, run through pytest in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

NO_TESTS_COLLECTED = 5  # pytest.ExitCode.NO_TESTS_COLLECTED


@dataclass
class GateResult:
    exit_code: int
    report: Path
    results: Path
    failed: list[str] = field(default_factory=list)  # "GP-HOST-003 test_x[gp-sh02]: what was found"
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        # No checks collected is not a pass: a mistyped `select` or host would otherwise wave the gate through.
        return self.exit_code == 0


def gate_command(checks: Path, phase: str, host: str | None, inventory: Path, report: Path, results: Path,
                 select: str | None = None, backups_since: str | None = None) -> list[str]:
    # Outcomes come from gateplugin rather than --junitxml: pytest's JUnit writer fails on skipped checks
    # once the gpverify plugin has redacted their longrepr to text (see the runner's report to the lead).
    cmd = [sys.executable, "-m", "pytest", str(checks / phase), "--inventory", str(inventory),
           f"--html={report}", "--self-contained-html", "-p", "gpverify.runner.gateplugin",
           f"--gate-results={results}", "-q", "-p", "no:cacheprovider"]
    cmd += ["--backups-since", backups_since] if backups_since else []  # GP-PRE-014: backups after the run began
    return cmd + (["--host", host] if host else []) + (["-k", select] if select else [])


def run_gate(checks: Path, phase: str, host: str | None, inventory: Path, folder: Path, gate_id: str,
             select: str | None = None, backups_since: str | None = None) -> GateResult:
    report, results = folder / f"{gate_id}.html", folder / f"{gate_id}.results.json"
    cmd = gate_command(checks, phase, host, inventory, report, results, select, backups_since)
    proc = subprocess.run(cmd, check=False,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    (folder / f"{gate_id}.log").write_text(proc.stdout, encoding="utf-8")
    result = GateResult(proc.returncode, report, results)
    if results.exists():
        _read_results(result)
    if proc.returncode == NO_TESTS_COLLECTED:
        limits = ", ".join(f"{k} {v!r}" for k, v in (("host", host), ("select", select)) if v) or "no limits"
        result.failed.append(f"no checks were collected from checks/{phase} ({limits}): check the gate's select "
                             "and host")
    elif not result.passed and not result.failed:
        tail = proc.stdout.strip().splitlines()[-3:]
        result.failed.append(f"pytest ended with exit code {proc.returncode}: {' / '.join(tail)}")
    return result


def _read_results(result: GateResult) -> None:
    rows = json.loads(result.results.read_text(encoding="utf-8"))["results"]
    result.counts = {k: sum(1 for r in rows if r["outcome"] == k) for k in ("passed", "failed", "error", "skipped", "warning", "not verified")}
    result.counts["tests"] = len(rows)
    for row in rows:
        if row["outcome"] in ("failed", "error"):
            name = row["nodeid"].split("::", 1)[-1]
            result.failed.append(f"{row['check_id']} {name} ({row['outcome']}): {row['message']}".strip())
