"""`gpverify checks`: the catalogue read from the checks themselves, with the scenario proving each can fail."""

from __future__ import annotations

import json
from pathlib import Path

from gpverify.catalogue import PHASES, CheckInfo
from gpverify.lab.scenario import load_scenario, scenario_names
from gpverify.pytestrun import collect_checks
from gpverify.tables import print_table


def collect_catalogue(checks: Path) -> list[CheckInfo]:
    """Every check under `checks`, by ID (collected by pytest, nothing run)."""
    found: dict[str, CheckInfo] = {}
    for info, _ in collect_checks([checks]).collected:
        found.setdefault(info.id, info)
    order = {phase: i for i, phase in enumerate(PHASES)}
    return sorted(found.values(), key=lambda c: (order.get(_phase(c), len(order)), c.id))


def _phase(info: CheckInfo) -> str:
    try:
        return info.phase
    except KeyError:  # a custom check ID without a GP phase word
        return ""


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
        print_table(["ID", "Phase", "Impact", "Guide section", "Fails in scenario", "Check (the guide's words)"],
                    [(c.id, _phase(c), c.impact, c.section, ", ".join(proof.get(c.id, [])) or "-", c.title)
                     for c in rows])
    return 0
