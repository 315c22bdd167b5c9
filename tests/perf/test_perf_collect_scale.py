"""Fact collection at scale on the lab: few WinRM requests per host, and at most one collector run per host
per pytest-xdist worker. No timings are asserted here (bench/collect.py measures them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpverify.lab.runtime import start_lab

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"
MAX_REQUESTS_PER_HOST = 7  # issue 15: Negotiate, Authenticate, Create, Command, Send, Receive, Delete


def collector_runs(lab, name: str) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for c in lab.commands(name) if c.kind == "collector")


def shells_created(lab, name: str) -> int:  # type: ignore[no-untyped-def]
    return lab.servers[name].actions().count("Create")


def test_at_most_seven_http_requests_per_host_per_run(pytester: pytest.Pytester, tmp_path: Path) -> None:
    lab = start_lab("silverlight", tmp_path / "lab", extra_clients=4)
    try:
        result = pytester.runpytest_inprocess(
            str(CHECKS / "post"),
            str(CHECKS / "clients"),
            "--inventory",
            str(lab.inventory_path),
            "-p",
            "no:cacheprovider",
        )
        assert result.ret == 0, result.stdout.str()[-3000:]
        contacted = {n: s.http_request_count for n, s in lab.servers.items() if s.http_request_count}
        clients = [h.name for h in lab.farm.hosts.values() if h.role == "client"]
        assert len(clients) == 6 and set(clients) <= set(contacted)  # gp-cl01, gp-cl02 and gp-cl003..gp-cl006
        assert all(count <= MAX_REQUESTS_PER_HOST for count in contacted.values()), contacted
        assert all(collector_runs(lab, n) == 1 and shells_created(lab, n) == 1 for n in contacted)
    finally:
        lab.stop()


def test_xdist_workers_collect_each_host_at_most_once_each(tmp_path: Path) -> None:
    # One lab for the whole run, started here: with --lab every worker would start a lab of its own.
    lab = start_lab("healthy", tmp_path / "lab")
    try:
        env = {**os.environ, "CI": "true"}  # start_lab exported GPVERIFY_LAB_PASSWORD; the workers inherit it
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            str(CHECKS / "post"),
            "-n",
            "2",
            "--inventory",
            str(lab.inventory_path),
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            "-p",
            "no:gpverify-terminal",
            "-v",
        ]
        proc = subprocess.run(cmd, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert "[gw0]" in proc.stdout and "[gw1]" in proc.stdout  # both workers ran checks
        contacted = [n for n, s in lab.servers.items() if s.http_request_count]
        assert {"gp-web01", "gp-sh01", "gp-sh02"} <= set(contacted)
        for name in contacted:
            assert 1 <= shells_created(lab, name) <= 2, (name, lab.servers[name].actions())
            assert 1 <= collector_runs(lab, name) <= 2, name
    finally:
        lab.stop()


def test_only_the_session_hosts_wait_for_the_web_server(tmp_path: Path) -> None:
    # The session hosts are asked for the runtime the web server's tenant configuration names; nothing else waits
    # on it, so a slow web server (a real one's collector takes seconds) holds up no client.
    from gpverify.facts.farm import open_farm
    from gpverify.lab.scenario import HostChange, load_scenario

    base = load_scenario("silverlight")
    slow_web = base.model_copy(update={"hosts": {**base.hosts, "gp-web01": HostChange(latency=0.3)}})
    lab = start_lab(slow_web, tmp_path / "lab")
    try:
        farm = open_farm(lab.inventory_path)
        order: list[str] = []
        farm.collect(sorted(farm.specs), on_done=lambda name, _outcome: order.append(name))
        web = order.index("gp-web01")
        assert order.index("gp-cl01") < web and order.index("gp-cl02") < web, order
        assert min(order.index("gp-sh01"), order.index("gp-sh02")) > web, order
        assert sorted(order) == sorted(farm.specs)  # every host once
    finally:
        lab.stop()
