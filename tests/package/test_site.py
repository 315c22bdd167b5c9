"""`gpverify init DIR` writes a site to start from; `--lab --inventory site.yml` tries its overrides on the lab."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gpverify.cli.main import main
from gpverify.lab.models import LAB_DISCOVERED
from helpers.checks import CHECKS

# The lab's names for the configuration database's tables and columns, as `gpverify discover` lists them.
LAB_NAMES = {k: v for k, v in LAB_DISCOVERED.items() if k.startswith("config_db.")}


def test_init_writes_a_site_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    assert sorted(p.name for p in site.iterdir()) == ["checks", "inventory.yml", "plan.yml", "waivers.yml"]
    inventory = (site / "inventory.yml").read_text(encoding="utf-8")
    assert inventory.startswith("#") and "password_env" in inventory  # the commented example
    assert yaml.safe_load((site / "waivers.yml").read_text(encoding="utf-8")) == {"waivers": []}
    assert "phases:" in (site / "plan.yml").read_text(encoding="utf-8")
    assert list((site / "checks").iterdir()) == []
    (site / "inventory.yml").write_text("farm: mine\n", encoding="utf-8")
    assert main(["init", str(site)]) == 3  # bad input
    assert "init never overwrites" in capsys.readouterr().err
    assert (site / "inventory.yml").read_text(encoding="utf-8") == "farm: mine\n"


def test_lab_with_a_site_inventory_takes_its_overrides(pytester: pytest.Pytester, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert main(["init", str(site)]) == 0
    # Without the GP PowerShell module, Session Management is read from GPCONFIGURATION through the site's overrides.
    args = (str(CHECKS / "post" / "test_session_management.py"), "--lab", "session-central-no-module", "--inventory",
            str(site / "inventory.yml"), "-p", "no:cacheprovider")
    before = pytester.runpytest_inprocess(*args)
    assert before.ret == 0 and "not verified" in before.stdout.str()  # the example leaves them unset
    data = yaml.safe_load((site / "inventory.yml").read_text(encoding="utf-8"))
    data["overrides"].update(LAB_NAMES)
    (site / "inventory.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    after = pytester.runpytest_inprocess(*args)
    assert after.ret == 0 and set(after.parseoutcomes()) == {"passed"}, after.stdout.str()
