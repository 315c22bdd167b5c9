"""`gpverify init DIR` writes a site to start from; `--lab --inventory site.yml` tries its overrides on the lab."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from gpverify.cli.main import main
from gpverify.config.shipped import SITE_FILES
from gpverify.lab.models import LAB_DISCOVERED
from helpers.checks import CHECKS

# The lab's names for the configuration database's tables and columns, as `gpverify discover` lists them.
CUSTOM = Path(__file__).resolve().parents[1] / "examples" / "custom_checks"
LAB_NAMES = {k: v for k, v in LAB_DISCOVERED.items() if k.startswith("config_db.")}


def test_init_writes_a_site_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    out = capsys.readouterr().out
    written = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert written == sorted(["inventory.yml", "waivers.yml", "plan.yml", *SITE_FILES])
    assert f"gpverify init: wrote {len(written)} files in {site}" in out
    assert f"gpverify run post --lab {site / 'lab' / 'acme-faults.yml'} --checks {site / 'checks'}" in out
    inventory = (site / "inventory.yml").read_text(encoding="utf-8")
    assert inventory.startswith("#") and "password_env" in inventory  # the commented example
    assert yaml.safe_load((site / "waivers.yml").read_text(encoding="utf-8")) == {"waivers": []}
    assert "phases:" in (site / "plan.yml").read_text(encoding="utf-8")
    # The examples are the ones the suite runs (tests/examples/custom_checks), byte for byte.
    for name in ("test_acme_session_service.py", "acme.checks.yml"):
        assert (site / "checks" / name).read_bytes() == (CUSTOM / name).read_bytes()
    assert (site / "lab" / "acme-faults.yml").read_bytes() == (CUSTOM / "acme-faults.yml").read_bytes()
    # The nightly audit's scheduler templates: Task Scheduler (the task and its PowerShell wrapper), systemd.
    task = (site / "deploy" / "windows" / "gpverify-audit-task.xml").read_text(encoding="utf-8")
    assert "gpverify-audit.ps1" in task and "-Checks" in task
    assert "OnCalendar=" in (site / "deploy" / "systemd" / "gpverify-audit.timer").read_text(encoding="utf-8")
    if os.name == "posix":
        assert os.access(site / "deploy" / "gpverify-audit.sh", os.X_OK)  # the wrapper systemd starts
    (site / "inventory.yml").write_text("farm: mine\n", encoding="utf-8")
    assert main(["init", str(site)]) == 3  # bad input
    assert "init never overwrites" in capsys.readouterr().err
    assert (site / "inventory.yml").read_text(encoding="utf-8") == "farm: mine\n"


def test_lab_with_a_site_inventory_takes_its_overrides(pytester: pytest.Pytester, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    # Without the GP PowerShell module, Session Management is read from GPCONFIGURATION through the site's overrides.
    args = (
        str(CHECKS / "post" / "test_session_management.py"),
        "--lab",
        "session-central-no-module",
        "--inventory",
        str(site / "inventory.yml"),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:gpverify-terminal",
    )  # pytest's own summary line, parsed below
    before = pytester.runpytest_inprocess(*args)
    assert before.ret == 0 and "not verified" in before.stdout.str()  # the example leaves them unset
    data = yaml.safe_load((site / "inventory.yml").read_text(encoding="utf-8"))
    data["overrides"].update(LAB_NAMES)
    (site / "inventory.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    after = pytester.runpytest_inprocess(*args)
    assert after.ret == 0 and set(after.parseoutcomes()) == {"passed"}, after.stdout.str()
