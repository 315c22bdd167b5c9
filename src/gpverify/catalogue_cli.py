"""`gpverify checks`: the catalogue read from the checks themselves, with the scenario proving each can fail."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import pytest

from gpverify import extension
from gpverify.catalogue import PHASES, CheckInfo, info_of
from gpverify.errors import GpVerifyError


class _Gather:
    def __init__(self) -> None:
        self.checks: dict[str, CheckInfo] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            info = info_of(item)
            if info:
                self.checks.setdefault(info.id, info)


def collect_catalogue(*folders: Path) -> list[CheckInfo]:
    """Every check under the folders, by ID (collected by pytest, nothing run); GpVerifyError if none or broken."""
    gather = _Gather()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ret = pytest.main([*map(str, folders), "--collect-only", "-q", "-p", "no:cacheprovider"], plugins=[gather])
    where = ", ".join(map(str, folders))
    if ret not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        tail = [ln for ln in out.getvalue().strip().splitlines() if ln.strip()][-6:]
        raise GpVerifyError(f"pytest could not collect the checks in {where} (exit {int(ret)}):\n  " + "\n  ".join(tail))
    if not gather.checks:
        raise GpVerifyError(f"no checks were collected from {where}: a check is a test function marked @check(...)")
    order: dict[str, int] = {phase: i for i, phase in enumerate(PHASES)}
    return sorted(gather.checks.values(), key=lambda c: (order.get(c.phase or "", len(order)), c.id))


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
        for c in rows:
            print(f"{c.id:12} {c.phase:8} {c.section:40} {', '.join(proof.get(c.id, [])) or '-':30} {c.title}")
    sys.stdout.flush()
    return 0
