"""`gpverify discover` against a running lab: one read-only collector request per host, candidates printed next
to the profile's identifiers, the configuration database's tables listed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def test_discover_confirms_overrides_that_name_real_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "set.yml"
    overlay.write_text("description: The operator set the configuration database's names.\ndiscovered: true\n")
    out, _ = _discover(str(overlay), tmp_path / "lab", capsys)
    assert "config_db.session_hosts_table = 'LabSessionHostRegistry' (override)  -> found" in out
    assert "config_db.session_host_name_column = 'MachineName' (override)  -> found" in out


def test_discover_shows_what_to_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    overlay = tmp_path / "renamed.yml"
    overlay.write_text(
        "description: Session Central installed under names the profile does not know.\n"
        "hosts:\n  gp-web01:\n    services:\n"
        "      session_central: {name: GPWebSessionCentral, display_name: GP Web Central}\n"
    )
    load_scenario(str(overlay))  # the overlay is valid
    out, _ = _discover(str(overlay), tmp_path / "lab", capsys)
    assert "GPWebSessionCentral" in out and "GP Web Central" in out
    assert "services.session_central.display = '*Session Central*' (inferred)  -> NOT FOUND - set an override" in out
    assert "overrides:" in out


def test_gpds_pattern_matches_the_running_dexterity_service(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, _ = _discover("healthy", tmp_path / "lab", capsys)
    assert "services.dexterity_service.name = 'GPDS-*' (inferred)  -> found" in out
    gpds = [line for line in out.splitlines() if "services.dexterity_service.name" in line]
    assert "GPDS-DEFAULT-18" in out and gpds and not any("no service of this name" in line for line in gpds), gpds


def _cli(*args: str) -> tuple[int, str, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_differential_discovery_names_the_flag_and_its_overrides_verify(tmp_path: Path, run_checks: Any) -> None:
    """Without the module: --record before, a host suspended (a scenario overlay of the same lab), --record after
    --diff before; the overrides written into the site inventory make the Session Management checks verified."""
    after = tmp_path / "after.yml"
    after.write_text(
        "description: gp-sh02 suspended in Session Management\nsession_central: {module: false, suspended: [gp-sh02]}\n"
    )
    site = tmp_path / "site.yml"
    site.write_text(
        "farm: our farm  # kept\n# the operator's comment, kept\noverrides:\n"
        "  web.session_host_client_access_policy: false  # ours\n"
    )
    code, out, err = _cli("discover", "--lab", "session-central-no-module", "--record", str(tmp_path / "before"))
    assert code == 0, err
    assert (tmp_path / "before.json").is_file() and "GPCONFIGURATION: table dbo.LabSessionHostRegistry" in out
    code, out, err = _cli(
        "discover",
        "--lab",
        str(after),
        "--record",
        str(tmp_path / "after"),
        "--diff",
        str(tmp_path / "before"),
        "--write-overrides",
        str(site),
    )
    assert code == 0, err
    assert "IsSuspended changed from 0 to 1 on gp-sh02 only" in out
    assert "config_db.session_host_suspended_when: 1" in out and "# found by difference on" in out
    text = site.read_text()
    assert "# the operator's comment, kept" in text and "farm: our farm  # kept" in text and "# ours" in text
    assert "config_db.session_hosts_table: LabSessionHostRegistry" in text and "Web Components 18.4.1361" in text
    ids = "GP-POST-003 or GP-POST-004 or GP-POST-005 or GP-POST-013"
    verified = run_checks("post", "--lab", "session-central-no-module", "--inventory", str(site), "-k", ids)
    assert verified.ret == 0 and set(verified.outcomes.values()) == {"passed"}, verified.text
    suspended = run_checks("post", "--lab", str(after), "--inventory", str(site), "-k", ids)
    assert suspended.with_outcome("failed") == ["test_session_host_allows_new_sessions[gp-sh02]"], suspended.text


def test_differential_discovery_of_the_module_names_the_inverted_flag(tmp_path: Path) -> None:
    before = tmp_path / "before.yml"
    before.write_text("description: allow flag\nsession_central: {naming: ambiguous}\n")
    after = tmp_path / "after.yml"
    after.write_text(
        "description: allow flag, gp-sh01 suspended\nsession_central: {naming: ambiguous, suspended: [gp-sh01]}\n"
    )
    assert _cli("discover", "--lab", str(before), "--record", str(tmp_path / "b"))[0] == 0
    code, out, _ = _cli("discover", "--lab", str(after), "--diff", str(tmp_path / "b"))
    assert code == 0
    assert "Suspended changed from False to True on gp-sh01 only" in out
    assert 'session_central.suspended_property: "Suspended"' in out and "session_central.suspended_when: true" in out
    assert 'session_central.host_name_property: "Machine"' in out


def test_a_diff_from_another_farm_or_a_bad_file_is_one_sentence(tmp_path: Path) -> None:
    record = tmp_path / "before.json"
    assert _cli("discover", "--lab", "--record", str(record))[0] == 0
    data = json.loads(record.read_text())
    data["farm"] = "another farm"
    record.write_text(json.dumps(data))
    code, _, err = _cli("discover", "--lab", "--diff", str(record))
    assert code == 3 and "recorded on farm 'another farm'" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    (tmp_path / "garbled.json").write_text("{not json")
    code, _, err = _cli("discover", "--lab", "--diff", str(tmp_path / "garbled.json"))
    assert code == 3 and "a file written by `gpverify discover --record NAME`" in err
    code, _, err = _cli("discover")
    assert code == 3 and "--lab [SCENARIO]" in err


@pytest.mark.parametrize(
    ("option", "make", "expected"),
    [
        ("--write-overrides", lambda p: p.mkdir(), "to be a regular file (this is a folder)"),
        ("--write-overrides", lambda p: p.write_text("key: [unclosed\n"), "an inventory in UTF-8 YAML (ParserError"),
        ("--write-overrides", lambda p: p.write_bytes(b"\xff\xfe farm"), "an inventory in UTF-8 YAML (UnicodeDecode"),
        ("--write-overrides", lambda p: p.write_text("- a list\n"), "an inventory mapping to add `overrides:` to"),
        ("--write-overrides", lambda p: None, "to exist"),
        ("--record", lambda p: p.mkdir(), "a new or regular file, but"),  # NAME with a suffix is the path
    ],
    ids=["folder", "broken-yaml", "not-utf8", "a-list", "missing", "record-is-a-folder"],
)
def test_a_file_discover_cannot_write_is_one_message_before_the_farm_is_read(
    tmp_path: Path, option: str, make: Any, expected: str
) -> None:
    import subprocess
    import sys

    target = tmp_path / "target.yml"
    make(target)
    proc = subprocess.run(
        [sys.executable, "-m", "gpverify.cli.main", "discover", "--lab", option, str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert expected in proc.stderr and "Traceback" not in proc.stdout + proc.stderr
    assert "GP services" not in proc.stdout  # refused before any host was asked
