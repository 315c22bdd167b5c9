"""`gpverify discover` against a running lab: one read-only collector request per host, candidates printed next
to the profile's identifiers, the configuration database's tables listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpverify.cli.main import main
from gpverify.lab.runtime import start_lab
from gpverify.lab.scenario import load_scenario


def _discover(spec: str, workdir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, dict[str, int]]:
    lab = start_lab(spec, workdir)
    try:
        assert main(["discover", "--inventory", str(lab.inventory_path)]) == 0
        counts = {name: len(lab.commands(name)) for name in lab.hosts}
    finally:
        lab.stop()
    return capsys.readouterr().out, counts


def test_discover_lists_candidates_next_to_the_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, counts = _discover("healthy", tmp_path / "lab", capsys)
    assert counts and set(counts.values()) == {1}, counts  # one collector request per host, nothing else
    assert "gp-web01 (web_server)" in out and "gp-sh02 (session_host)" in out
    assert "GPWebClientSessionCentral" in out and "GP Session Central Service" in out
    assert "Microsoft Dynamics GP Web Components" in out and "18.4.1361" in out
    assert "services.session_central.display = '*Session Central*' (inferred)" in out
    # The GP entry's Windows Installer features, and the configuration database's tables with their columns:
    # what an operator needs to set the identifiers no public source gives.
    assert "installed features: GP, LabServiceBasedArchitecture, LabWebClientRuntime" in out
    assert "features.web_client_runtime = None (unknown)" in out
    assert "dbo.LabSessionHostRegistry: IsSuspended TINYINT, LastStatusUtc DATETIME, MachineName CHAR(128)" in out
    assert "config_db.session_hosts_table = None (unknown)  -> NOT SET - pick it from the list above" in out
    assert "session database GPWEBCLIENTSESSIONCENTRAL" in out and "not readable" in out
    assert "-> NOT FOUND - set an override" not in out


def test_discover_confirms_overrides_that_name_real_columns(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "set.yml"
    overlay.write_text("description: The operator set the configuration database's names.\ndiscovered: true\n")
    out, _ = _discover(str(overlay), tmp_path / "lab", capsys)
    assert "config_db.session_hosts_table = 'LabSessionHostRegistry' (override)  -> found" in out
    assert "config_db.session_host_name_column = 'MachineName' (override)  -> found" in out


def test_discover_shows_what_to_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "renamed.yml"
    overlay.write_text("description: Session Central installed under names the profile does not know.\n"
                       "hosts:\n  gp-web01:\n    services:\n"
                       "      session_central: {name: GPWebSessionCentral, display_name: GP Web Central}\n")
    load_scenario(str(overlay))  # the overlay is valid
    out, _ = _discover(str(overlay), tmp_path / "lab", capsys)
    assert "GPWebSessionCentral" in out and "GP Web Central" in out
    assert "services.session_central.display = '*Session Central*' (inferred)  -> NOT FOUND - set an override" in out
    assert "overrides:" in out
