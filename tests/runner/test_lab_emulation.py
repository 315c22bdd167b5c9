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


def test_the_web_server_upgrade_leaves_the_runtime_paths_to_the_operator(tmp_path: Path) -> None:
    """The installer's GP Configuration window pre-fills the upgraded installation's paths (scale-out-upgrade.md
    step 5): after the web components the runtime is still the previous release's until the operator's step."""
    farm = build_farm("html", "before-upgrade")
    emu = attach(farm, None, tmp_path / "journal.json")
    web = farm.host("gp-web01")
    path = next(p for p in web.texts if p.endswith("TenantConfiguration.xml"))
    before = web.texts[path]
    assert emu.apply("gp-web01", "web-components").exit_code == 0
    assert web.texts[path] == before and "Microsoft Dynamics\\GP\\Dynamics.set" in str(before)
    assert farm.runtime["dynamics_exe"].endswith("Microsoft Dynamics\\GP\\Dynamics.exe")
    assert emu.apply("gp-web01", "runtime-paths").exit_code == 0
    assert "GP 18.4\\Dynamics.set" in str(web.texts[path])
    assert farm.runtime["dynamics_exe"].endswith("GP 18.4\\Dynamics.exe")
    detach(farm)


def test_gp_utilities_upgrades_databases_left_at_the_previous_release_and_stamps_start_time(tmp_path: Path) -> None:
    farm = apply_scenario(load_scenario("pre-system-db-not-upgraded"))
    emu = attach(farm, None, tmp_path / "journal.json")
    rows = [r for r in farm.databases["DYNAMICS"]["DB_Upgrade"] if r["PRODID"] == 0]
    stale = [r["db_name"] for r in rows if (r["db_verMajor"], r["db_verBuild"]) != (18, 1361) or r["db_status"]]
    outcome = emu.apply(None, "gp-utilities", at="2026-12-06T09:00:00")
    assert outcome.exit_code == 0
    for row in rows:
        if row["db_name"] in stale:
            assert (row["db_verBuild"], row["db_status"]) == (1361, 0)
            assert str(row["start_time"]).startswith("2026-12-06 09:00")
    current = "Dynamics GP Utilities: the system and company databases are current."
    assert emu.apply(None, "gp-utilities").log == [current]
    detach(farm)


def test_the_wizard_migrates_the_2013_era_hosts_and_sessions(tmp_path: Path) -> None:
    """'The data will be migrated to the new database when running the configuration wizard': the hosts as they
    last reported to the old Session Central and its sessions, nothing made fresh."""
    farm = build_farm("silverlight", "before-upgrade")
    old = farm.databases["GPWEBCLIENTSESSIONCENTRAL"]
    old["LabSessionCentralSession"].append({"SessionKey": "s-1", "UserName": "lessonuser3"})
    emu = attach(farm, None, tmp_path / "journal.json")
    assert "GPCONFIGURATION" not in farm.databases
    emu.apply("gp-web01", "web-components")
    new = farm.databases["GPCONFIGURATION"]
    assert new["LabSessionHostRegistry"] == old["LabSessionCentralHost"]
    assert new["LabWebSession"] == [{"SessionKey": "s-1", "UserName": "lessonuser3"}]
    detach(farm)


def test_restarting_session_central_is_a_lab_action(tmp_path: Path) -> None:
    farm = apply_scenario(load_scenario("web-session-central-not-running"))
    emu = attach(farm, None, tmp_path / "journal.json")
    assert emu.apply("gp-web01", "restart-session-central").exit_code == 0
    assert farm.host("gp-web01").services["session_central"].status == "Running"
    assert emu.apply("gp-sh01", "restart-session-central").exit_code == 1642  # not a web server
    detach(farm)
