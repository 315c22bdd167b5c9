"""GP-HOST-003 on the lab without hand-picked names: each session host's configuration database judged from where
its Session Service registered (Session Central's own list, the configuration database, a database from before the
upgrade), the registry setting first when the inventory names it, "not verified" only when nothing can be read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gpverify.lab.runtime  # noqa: F401  (imported once here, so that in-process runs do not re-import it)
from gpverify.lab.models import LAB_DISCOVERED
from helpers.checks import CheckRun

Run = Callable[..., CheckRun]
HOST_003 = ("-k", "GP-HOST-003")
SH01, SH02 = (
    "test_host_points_at_new_configuration_database[gp-sh01]",
    "test_host_points_at_new_configuration_database[gp-sh02]",
)


def overlay(tmp_path: Path, text: str) -> str:
    path = tmp_path / "overlay.yml"
    path.write_text("description: a GP-HOST-003 case\n" + text, encoding="utf-8")
    return str(path)


def test_healthy_lab_verifies_it_from_session_central_and_says_it_is_inferred(run_checks: Run) -> None:
    for scenario in ("healthy", "silverlight"):  # an 18.x update, and a GP 2013-era farm whose old database stays
        run = run_checks("hosts", "--lab", scenario, *HOST_003)
        assert run.outcomes == {SH01: "passed", SH02: "passed"}, run.text
        basis = run.sentences[SH01]
        assert "Session Central on gp-web01 through GP PowerShell" in basis and "after its Session Service" in basis
        assert "talks to the new configuration GPCONFIGURATION" in basis and "inferred" in basis, basis
        assert "scale-out-installation" in basis, basis


def test_host_given_the_old_database_fails_naming_it_without_overrides(run_checks: Run) -> None:
    run = run_checks("hosts", "--lab", "host-old-config-database", *HOST_003)
    assert run.outcomes == {SH01: "failed", SH02: "passed"}, run.text
    message = run.sentences[SH01]
    assert "GPWEBCLIENTSESSIONCENTRAL, the configuration from before the upgrade, holds it" in message, message
    assert "dbo.LabSessionCentralHost.MachineName" in message and "before its Session Service started" in message
    assert "expected the new one GPCONFIGURATION" in message and "inferred" in message, message


def test_the_registry_setting_comes_first_when_the_inventory_names_it(run_checks: Run, tmp_path: Path) -> None:
    old = overlay(
        tmp_path,
        "era: silverlight\ndiscovered: true\nhosts:\n  gp-sh01:\n"
        "    registry: {web_components_config_db: GPWEBCLIENTSESSIONCENTRAL}\n",
    )
    run = run_checks("hosts", "--lab", old, *HOST_003)
    assert run.outcomes == {SH01: "failed", SH02: "passed"}, run.text
    assert (
        "Web Components use configuration database 'GPWEBCLIENTSESSIONCENTRAL', expected 'GPCONFIGURATION'"
        in run.sentences[SH01]
    )


def test_a_host_that_stopped_reporting_to_the_new_configuration_fails(run_checks: Run, tmp_path: Path) -> None:
    # Its wizard was given a database that is not on the server: the new configuration holds only the row from
    # before, and no database from before the upgrade names it.
    lost = overlay(tmp_path, "hosts:\n  gp-sh01:\n    registry: {web_components_config_db: GPSessionCentral}\n")
    run = run_checks("hosts", "--lab", lost, *HOST_003)
    assert run.outcomes == {SH01: "failed", SH02: "passed"}, run.text
    message = run.sentences[SH01]
    assert "last heard from it at" in message and "before its Session Service started" in message, message
    assert "has not registered with the new configuration GPCONFIGURATION" in message, message


def test_the_configuration_database_answers_when_the_module_is_missing(run_checks: Run, tmp_path: Path) -> None:
    names = "".join(f"    {k}: {v}\n" for k, v in LAB_DISCOVERED.items() if k.startswith("config_db."))
    database = overlay(tmp_path, f"session_central: {{module: false}}\ninventory:\n  overrides:\n{names}")
    run = run_checks("hosts", "--lab", database, *HOST_003)
    assert run.outcomes == {SH01: "passed", SH02: "passed"}, run.text
    assert "the configuration database GPCONFIGURATION (table LabSessionHostRegistry" in run.sentences[SH01]


def test_not_verified_only_when_nothing_can_be_read_or_session_central_must_restart(run_checks: Run) -> None:
    run = run_checks("hosts", "--lab", "session-central-no-module", *HOST_003)
    assert run.outcomes == {SH01: "not verified", SH02: "not verified"}, run.text
    message = run.sentences[SH01]
    assert "is not installed" in message and "config_db.* overrides are not set" in message, message
    assert "registry.web_components_config_db" in message, message
    # A host registered again after Session Central last started is listed only once it restarts (step 18).
    run = run_checks("hosts", "--lab", "session-central-not-restarted", *HOST_003)
    assert run.outcomes == {SH01: "passed", SH02: "not verified"}, run.text
    assert "restart the Session Central Service on the web server" in run.sentences[SH02]


def test_a_stopped_session_service_leaves_it_to_gp_host_004(run_checks: Run) -> None:
    run = run_checks("hosts", "--lab", "host-session-service-stopped", *HOST_003)
    assert run.outcomes == {SH01: "not verified", SH02: "passed"}, run.text
    assert "its Session Service is Stopped" in run.sentences[SH01] and "GP-HOST-004" in run.sentences[SH01]
