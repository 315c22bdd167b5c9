"""`gpverify checks`: the catalogue read from the checks themselves, with the scenario proving each can fail."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gpverify import extension
from gpverify.catalogue import PHASES, CheckInfo
from gpverify.cli.tables import print_table
from gpverify.customchecks import ChecksRefused
from gpverify.errors import GpVerifyError
from gpverify.exitcodes import ExitCode
from gpverify.pytestrun import collect_checks


def collect_catalogue(*folders: Path) -> list[CheckInfo]:
    """Every check under the folders, by ID (collected by pytest, nothing run); GpVerifyError if none or broken."""
    run = collect_checks(list(folders))
    where = ", ".join(map(str, folders))
    if run.exit_code == ExitCode.BAD_INPUT:  # a check file or ID refused by gpverify's plugin: its message, exit 3
        said = [line for line in run.output.splitlines() if "gpverify: " in line]
        raise ChecksRefused(said[0].strip(" !").split("gpverify: ", 1)[1] if said else f"bad input in {where}")
    if run.collection_errors or run.pytest_status not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        detail = run.collection_errors or [ln for ln in run.output.strip().splitlines() if ln.strip()][-6:]
        raise GpVerifyError(
            f"pytest could not collect the checks in {where} (exit {run.exit_code}):\n  " + "\n  ".join(detail)
        )
    found: dict[str, CheckInfo] = {}
    for info, _ in run.collected:
        found.setdefault(info.id, info)
    if not found:
        raise GpVerifyError(f"no checks were collected from {where}: a check is a test function marked @check(...)")
    order: dict[str, int] = {phase: i for i, phase in enumerate(PHASES)}
    return sorted(found.values(), key=lambda c: (order.get(c.phase or "", len(order)), c.id))


def proving_scenarios() -> dict[str, list[str]]:
    """Check ID -> the lab scenarios made to fail it."""
    proof: dict[str, list[str]] = {}
    for name, _description, proves in extension.lab().scenarios():
        for check_id in proves:
            proof.setdefault(check_id, []).append(name)
    return proof


def print_catalogue(checks: Path, fmt: str, *custom: Path) -> int:
    rows = collect_catalogue(checks, *custom)
    proof = proving_scenarios()
    if fmt == "json":
        print(json.dumps([{**c.__dict__, "scenarios": proof.get(c.id, [])} for c in rows], indent=2))
    elif fmt == "markdown":
        print("| ID | Phase | Check (the guide's words) | Guide section | Fails in scenario |")
        print("|---|---|---|---|---|")
        for c in rows:
            print(f"| {c.id} | {c.phase} | {c.title} | {c.section} | {', '.join(proof.get(c.id, [])) or '-'} |")
    else:
        print_table(
            ["ID", "Phase", "Impact", "Guide section", "Fails in scenario", "Check (the guide's words)"],
            [(c.id, c.phase or "", c.impact, c.section, ", ".join(proof.get(c.id, [])) or "-", c.title) for c in rows],
        )
    sys.stdout.flush()
    return ExitCode.PASSED
