"""`gpverify checks`: the catalogue read from the checks themselves, with the scenario proving each can fail."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from gpverify.catalogue import PHASES, CheckInfo, info_of
from gpverify.lab.scenario import load_scenario, scenario_names


class _Gather:
    def __init__(self) -> None:
        self.checks: dict[str, CheckInfo] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            info = info_of(item)
            if info:
                self.checks.setdefault(info.id, info)


def collect_catalogue(checks: Path) -> list[CheckInfo]:
    """Every check under `checks`, by ID (collected by pytest, nothing run)."""
    gather = _Gather()
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main([str(checks), "--collect-only", "-q", "-p", "no:cacheprovider"], plugins=[gather])
    order = {phase: i for i, phase in enumerate(PHASES)}
    return sorted(gather.checks.values(), key=lambda c: (order[c.phase], c.id))


def proving_scenarios() -> dict[str, list[str]]:
    """Check ID -> the lab scenarios made to fail it."""
    proof: dict[str, list[str]] = {}
    for name in scenario_names():
        for check_id in load_scenario(name).proves:
            proof.setdefault(check_id, []).append(name)
    return proof


def print_catalogue(checks: Path, fmt: str) -> int:
    rows = collect_catalogue(checks)
    proof = proving_scenarios()
    if fmt == "json":
        print(json.dumps([{**c.__dict__, "phase": c.phase, "scenarios": proof.get(c.id, [])} for c in rows], indent=2))
    elif fmt == "markdown":
        print("| ID | Phase | Check (the guide's words) | Guide section | Fails in scenario |")
        print("|---|---|---|---|---|")
        for c in rows:
            print(f"| {c.id} | {c.phase} | {c.title} | {c.section} | {', '.join(proof.get(c.id, [])) or '-'} |")
    else:
        for c in rows:
            print(f"{c.id:12} {c.phase:8} {c.section:40} {', '.join(proof.get(c.id, [])) or '-':30} {c.title}")
    return 0
