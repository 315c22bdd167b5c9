"""Differential test: the lean WinRM client and pywinrm collect the same facts from every lab scenario.

Each scenario's lab starts once; both clients collect every host of it at the same time, and each host's facts
(the collector's parsed answer, as JSON) or error sentence must be the same bytes from both; every host's stand-in
must have received the same command line and stdin from both. pypsrp, written independently of both, runs the
collector on the healthy lab's hosts as a third opinion on the raw output. Nothing is timed here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gpverify.errors import FactsUnavailable
from gpverify.facts.farm import Farm, open_farm
from gpverify.facts.windows import HostFacts
from gpverify.lab.runtime import LAB_PASSWORD_ENV, temporary_lab
from gpverify.transport import transport_for

SCENARIOS = sorted(
    p.stem for p in (Path(__file__).resolve().parents[2] / "src" / "gpverify" / "lab" / "scenarios").glob("*.yml")
)
LABS_AT_ONCE = 6  # most of a scenario's time is waiting (slow, timed-out and trickling hosts): labs overlap
PASSWORD = "Differential-Pw-4417"


def _outcome(result: HostFacts | FactsUnavailable) -> str:
    """What a host gave: its facts as JSON, or its error's type and sentence."""
    if isinstance(result, FactsUnavailable):
        return f"{type(result).__name__}: {result}"
    return result.model_dump_json()


def _pinned(farm: Farm, client: str) -> Farm:
    """The farm with every host's winrm.client set, as an inventory would set it."""
    for name, spec in list(farm.specs.items()):
        farm.specs[name] = dataclasses.replace(spec, winrm=spec.winrm.model_copy(update={"client": client}))
    return farm


@dataclasses.dataclass
class Compared:
    lean: dict[str, str]
    pywinrm: dict[str, str]
    clients: dict[str, set[str]]  # host -> the transports the lean run chose
    received: dict[str, list[tuple[str, str | None]]]  # host -> (command line, script) per command received


def _compare(scenario: str) -> Compared:
    with temporary_lab(scenario, prefix="gpverify-differential-") as lab:
        lean = _pinned(open_farm(lab.inventory_path), "lean")
        reference = _pinned(open_farm(lab.inventory_path), "pywinrm")
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda farm: farm.collect(list(farm.specs)), (lean, reference)))
        return Compared(
            {n: _outcome(r) for n, r in lean.collected().items()},
            {n: _outcome(r) for n, r in reference.collected().items()},
            {n: {transport_for(s)} for n, s in lean.specs.items()},
            {n: [(c.command_line, c.script) for c in lab.commands(n)] for n in lab.hosts},
        )


@pytest.fixture(scope="module")
def compared() -> Iterator[dict[str, Compared]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(LAB_PASSWORD_ENV, PASSWORD)  # one password for labs started at once (lab_password reads it)
        with ThreadPoolExecutor(max_workers=LABS_AT_ONCE) as pool:
            yield dict(zip(SCENARIOS, pool.map(_compare, SCENARIOS), strict=True))


def test_every_scenario_is_compared() -> None:
    assert len(SCENARIOS) > 80 and "healthy" in SCENARIOS and "fault-trickle" in SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_lean_and_pywinrm_collect_the_same_facts(compared: dict[str, Compared], scenario: str) -> None:
    result = compared[scenario]
    assert set(result.lean) == set(result.pywinrm)
    different = {
        n: (result.lean[n][:300], result.pywinrm[n][:300]) for n in result.lean if result.lean[n] != result.pywinrm[n]
    }
    assert not different, different
    # The lean client did the talking wherever it can (the lab's hosts are NTLM without a proxy).
    assert all(chosen == {"lean"} for chosen in result.clients.values()), result.clients
    for host, commands in result.received.items():
        assert len(set(commands)) <= 1, (host, "the clients sent different commands")


def test_pypsrp_reads_the_same_collector_output_as_both() -> None:
    """A third, independent client: pypsrp's WinRS Process with the same command line and stdin."""
    pytest.importorskip("pypsrp")
    from pypsrp.shell import Process, WinRS
    from pypsrp.wsman import WSMan

    from gpverify.facts.collect import CollectJob
    from gpverify.facts.windows import BOOTSTRAP, build_request, collector_stdin
    from gpverify.lab.wsman import WsmanServer
    from gpverify.transport import get_transport_class
    from gpverify.transport.base import encoded_command

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(LAB_PASSWORD_ENV, PASSWORD)
        with temporary_lab("healthy", prefix="gpverify-differential-") as lab:
            farm = open_farm(lab.inventory_path)
            for name, spec in farm.specs.items():
                job = CollectJob(spec, build_request(spec.role, farm.profile), PASSWORD)
                stdin = collector_stdin(job.request)
                outputs: dict[str, Any] = {}
                for client in ("lean", "winrm"):
                    with get_transport_class(client)(spec, PASSWORD) as transport:
                        result = transport.run("powershell", encoded_command(BOOTSTRAP), stdin)
                    outputs[client] = (result.exit_code, result.stdout, result.stderr)
                server: WsmanServer = lab.servers[name]
                wsman = WSMan(
                    "127.0.0.1",
                    port=server.port,
                    username=spec.winrm.user,
                    password=PASSWORD,
                    ssl=False,
                    auth="negotiate",
                    encryption="always",
                )
                with wsman, WinRS(wsman) as shell:
                    process = Process(shell, "powershell", encoded_command(BOOTSTRAP))
                    process.begin_invoke()
                    process.send(stdin, end=True)
                    process.end_invoke()
                    outputs["pypsrp"] = (process.rc, process.stdout, process.stderr)
                assert outputs["lean"] == outputs["winrm"] == outputs["pypsrp"], name
                assert outputs["lean"][0] == 0 and outputs["lean"][1].startswith(b"{")
