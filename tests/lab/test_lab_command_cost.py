"""The lab's command cost (powershell.exe's start-up on a real host, bench/collect.py's host cost) is paid once per
command, whether the host is served by the lab's loop thread (a timer) or by a thread of its own (a sleep)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from gpverify.facts.collect import CollectJob, collect_host
from gpverify.facts.farm import open_farm
from gpverify.facts.windows import build_request
from gpverify.lab.runtime import LAB_PASSWORD_ENV, RunningLab, temporary_lab

COST = 0.6
PASSWORD = "Command-Cost-Pw-5150"


@pytest.fixture(scope="module")
def lab() -> Iterator[RunningLab]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(LAB_PASSWORD_ENV, PASSWORD)
        with temporary_lab("healthy", prefix="gpverify-cost-", command_cost=COST) as running:
            yield running


@pytest.mark.parametrize("loop_served", [True, False])
def test_a_command_costs_its_time_once(lab: RunningLab, loop_served: bool) -> None:
    farm = open_farm(lab.inventory_path)
    spec = farm.specs["gp-sh01"]
    server = lab.servers["gp-sh01"]
    assert server.serve_in_loop  # a healthy host is loop-served
    server.serve_in_loop = loop_served  # or the same host served by a thread of its own
    try:
        start = time.monotonic()
        facts = collect_host(CollectJob(spec, build_request(spec.role, farm.profile), PASSWORD))
        took = time.monotonic() - start
    finally:
        server.serve_in_loop = True
    assert facts.computer == "GP-SH01"
    assert COST <= took < 2 * COST + 1.0  # paid, and once: the collector is one command
