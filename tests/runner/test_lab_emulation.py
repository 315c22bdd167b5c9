"""lab/upgrade.py in-process: an install moves versions, a disabled service stays stopped, a journal replays."""

from __future__ import annotations

from pathlib import Path

from gpverify.lab.models import PRODUCT_NAMES, build_farm
from gpverify.lab.scenario import apply_scenario, load_scenario
from gpverify.lab.upgrade import attach, detach
from gpverify.runner.scripts import LOG_TAIL_SCRIPT

WC = PRODUCT_NAMES["web_components"]


def test_install_command_moves_the_host_to_the_target(tmp_path: Path) -> None:
    farm = build_farm("html", "before-upgrade")
    emu = attach(farm, None, tmp_path / "journal.json")
    host = farm.host("gp-web01")
    out = emu.answer(host, r"msiexec /update D:\x\WebComponents.msp /qn /l*v C:\t\wc.log", None)
    assert out is not None and out.exit_code == 0
    assert host.products[WC] == farm.target.version
    assert all(s.status == "Running" for s in host.services.values())
    tail = emu.answer(host, "powershell.exe", LOG_TAIL_SCRIPT, b"C:\\t\\wc.log\r\n")  # the path arrives as data
    assert tail is not None and b"returning 0" in tail.stdout
    unknown = emu.answer(host, "msiexec /i other.msi /qn", None)
    assert unknown is not None and unknown.exit_code == 1619
    assert emu.answer(host, "hostname", None) is None  # not an install command: LabHost says "not emulated"
    detach(farm)


def test_disabled_service_is_left_stopped_and_journal_replays(tmp_path: Path) -> None:
    journal = tmp_path / "journal.json"
    farm = apply_scenario(load_scenario("upgrade-host-fails"))
    emu = attach(farm, None, journal)
    assert emu.apply("gp-sh02", "web-components").exit_code == 0
    assert farm.host("gp-sh02").services["session_service"].status == "Stopped"
    detach(farm)
    again = apply_scenario(load_scenario("upgrade-host-fails"))
    attach(again, None, journal)  # a restarted lab of the same run
    assert again.host("gp-sh02").products[WC] == again.target.version
    assert again.host("gp-sh02").services["session_service"].status == "Stopped"
    detach(again)
    third = apply_scenario(load_scenario("upgrade-host-fails"))
    emu3 = attach(third, None, journal)
    assert emu3.clear_faults() == ["gp-sh02: GP Session Services set to Automatic and started"]
    assert third.host("gp-sh02").services["session_service"].status == "Running"
    detach(third)
