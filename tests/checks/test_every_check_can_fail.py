"""Proof that every check can fail: each check ID has a lab scenario made to fail it, and every scenario's
`proves` names checks that exist. (Whether the scenario really fails the check is tested per phase.)"""

from __future__ import annotations

import pytest

from gpverify.catalogue import CheckInfo
from gpverify.cli.checks import collect_catalogue, proving_scenarios
from gpverify.lab.scenario import load_scenario, scenario_names
from helpers.checks import CHECKS


@pytest.fixture(scope="module")
def catalogue() -> list[CheckInfo]:
    checks = collect_catalogue(CHECKS)
    assert checks, f"no checks collected under {CHECKS}"
    return checks


# Checks that only advise, by the guide's own words: a session host's desktop client is updated at its own step 2
# ("If you haven't already done so"), where GP-HOST-012 fails it; at the pre gate they warn (issue 21).
ADVICE = {"GP-PRE-005", "GP-PRE-006", "GP-PRE-007", "GP-PRE-010"}


def test_every_check_has_a_scenario_that_fails_it(catalogue: list[CheckInfo]) -> None:
    proof = proving_scenarios()
    missing = [f"{c.id} ({c.title[:60]})" for c in catalogue if not proof.get(c.id) and c.id not in ADVICE]
    assert not missing, "checks no lab scenario `proves` can fail:\n  " + "\n  ".join(missing)


def test_every_advice_check_has_a_scenario_that_warns_it() -> None:
    warned = {cid for name in scenario_names() for cid in load_scenario(name).warns}
    assert ADVICE <= warned, sorted(ADVICE - warned)


def test_every_scenario_proves_existing_checks(catalogue: list[CheckInfo]) -> None:
    known = {c.id for c in catalogue}
    unknown = {
        name: sorted((set(load_scenario(name).proves) | set(load_scenario(name).warns)) - known)
        for name in scenario_names()
    }
    unknown = {name: ids for name, ids in unknown.items() if ids}
    assert not unknown, f"scenarios prove check IDs that no check carries: {unknown}"


def test_every_check_has_its_metadata(catalogue: list[CheckInfo]) -> None:
    incomplete = [c.id for c in catalogue if not (c.title and c.section and c.impact and c.remediation)]
    assert not incomplete, f"checks without title, section, impact or remediation: {incomplete}"
