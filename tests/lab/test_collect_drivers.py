"""The lean client's two drivers agree: blocking, one host per thread (collect_host), and on an event loop with
every host on one thread (collect_hosts) give each host of every fault scenario the same facts or sentence."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gpverify.errors import FactsUnavailable
from gpverify.facts.collect import CollectJob, HostOutcome, collect_host, collect_hosts
from gpverify.facts.farm import open_farm
from gpverify.facts.windows import build_request
from gpverify.lab.runtime import LAB_PASSWORD_ENV, temporary_lab
from gpverify.transport import transport_for

SCENARIOS = sorted(
    p.stem
    for p in (Path(__file__).resolve().parents[2] / "src" / "gpverify" / "lab" / "scenarios").glob("*.yml")
    if p.stem.startswith("fault-") or p.stem in ("healthy", "https-listeners")
)
PASSWORD = "Drivers-Pw-8831"


def _outcome(result: HostOutcome) -> str:
    if isinstance(result, FactsUnavailable):
        return f"{type(result).__name__}: {result}"
    return result.model_dump_json()


def _blocking(job: CollectJob) -> str:
    try:
        return _outcome(collect_host(job))
    except FactsUnavailable as exc:
        return _outcome(exc)


def _compare(scenario: str) -> tuple[dict[str, str], dict[str, str]]:
    with temporary_lab(scenario, prefix="gpverify-drivers-") as lab:
        farm = open_farm(lab.inventory_path)
        jobs = [
            CollectJob(spec, build_request(spec.role, farm.profile), PASSWORD)
            for spec in farm.specs.values()
            if transport_for(spec) == "lean"
        ]
        with ThreadPoolExecutor(max_workers=len(jobs) + 1) as pool:
            looped = pool.submit(collect_hosts, jobs)
            blocking = dict(zip([j.spec.name for j in jobs], pool.map(_blocking, jobs), strict=True))
            return {n: _outcome(r) for n, r in looped.result().items()}, blocking


@pytest.fixture(scope="module")
def compared() -> Iterator[dict[str, tuple[dict[str, str], dict[str, str]]]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(LAB_PASSWORD_ENV, PASSWORD)
        with ThreadPoolExecutor(max_workers=6) as pool:
            yield dict(zip(SCENARIOS, pool.map(_compare, SCENARIOS), strict=True))


def test_the_fault_scenarios_are_all_here() -> None:
    assert len(SCENARIOS) > 15 and "fault-trickle" in SCENARIOS and "fault-tls-untrusted" in SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_blocking_and_event_loop_collect_the_same(compared, scenario: str) -> None:  # type: ignore[no-untyped-def]
    looped, blocking = compared[scenario]
    assert looped.keys() == blocking.keys() and looped
    different = {n: (looped[n][:300], blocking[n][:300]) for n in looped if looped[n] != blocking[n]}
    assert not different, different


def test_a_broken_progress_callback_is_the_runs_error_at_once() -> None:
    """What on_done or then raise is the caller's error, raised as it happens, not a wait for the hosts' bound."""
    from helpers.wsman import spec

    jobs = [CollectJob(spec(_closed_port(), name=f"gp-sh0{i}"), {}, PASSWORD) for i in (1, 2)]

    def broken(name: str, outcome: HostOutcome) -> None:
        raise RuntimeError(f"the progress display broke on {name}")

    with pytest.raises(RuntimeError, match="progress display broke"):
        collect_hosts(jobs, on_done=broken)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_hosts_then_releases_go_before_those_waiting() -> None:
    """The session hosts wait on the web server: once it is in, they are next, not behind every client."""
    from helpers.wsman import spec

    port = _closed_port()
    jobs = [CollectJob(spec(port, name=name), {}, PASSWORD) for name in ("web", "c1", "c2", "c3")]
    done: list[str] = []

    def then(name: str, outcome: HostOutcome) -> list[CollectJob]:
        return [CollectJob(spec(port, name="sh1"), {}, PASSWORD)] if name == "web" else []

    found = collect_hosts(jobs, max_workers=1, on_done=lambda name, _: done.append(name), then=then, later=1)
    assert done == ["web", "sh1", "c1", "c2", "c3"]
    assert list(found) == ["web", "c1", "c2", "c3", "sh1"]  # the order the hosts were given, released ones last
