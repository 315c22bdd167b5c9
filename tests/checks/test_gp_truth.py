"""GP as it really is: the identifiers are sourced, and the lab scenarios made from gp-truth.md's findings show
each corrected judgement (every product, warnings, stale sign-ins, hotfix builds, side-by-side installs, names
nobody publishes, the Silverlight registry view)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gpverify.config.profiles import available, load_profile
from gpverify.errors import ConfigError
from gpverify.lab.scenario import apply_scenario, load_scenario
from helpers.checks import CHECKS, CheckRun

Run = Callable[..., CheckRun]
LEAN = ("-p", "no:hypothesispytest")
SOURCE = re.compile(r"https://|MicrosoftDocs/|KB \d{6,7}|third-party|no public source|KBs quoting|GP KBs")


def assertion(run: CheckRun, test: str) -> str:
    """The check's own failure message (its sentence, as gpverify's result record carries it)."""
    return run.sentences.get(test, "")


def test_profile_shows_the_real_service_names_and_only_followable_sources() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gpverify.cli.main", "profile", "gp18.4"], capture_output=True, text=True, check=True
    ).stdout
    for name in ("GPWebClientSessionCentral", "GPWebClientSessionServices", "GPDexterityServiceControl"):
        assert name in out
    assert not re.search(r"\bS\d{1,2}\b|gp-facts\.md|Unknowns \d", out), "a bare research id is shown to users"
    for name in available():
        for ident in load_profile(name, origin="test").identifiers.values():
            assert SOURCE.search(ident.source), f"{name} {ident.key}: source {ident.source!r} cannot be followed"


def test_releases_and_builds_from_public_sources() -> None:
    assert load_profile("gp2016r2").version == "16.0.541"  # KB 4073668: 16.00.0541
    assert load_profile("gp2013r2").version == "12.0.1745"
    assert load_profile("gp18.5").version == "18.5.1556"


def test_a_conversion_to_review_is_a_warning_and_the_pre_gate_passes(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "pre-conversion-to-review", *LEAN)
    assert run.ret == 0, run.text
    assert run.outcomes["test_no_table_conversion_failed"] == "warning"
    assert "CONTO table LAB10200 (product 5597): status 2" in run.text
    assert "1 warning" in run.text


def test_stale_records_fail_with_the_clean_up_remediation_and_do_not_say_signed_in(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "pre-stale-sign-in", "-k", "signed_out", *LEAN)
    message = assertion(run, "test_all_users_signed_out")
    assert run.outcomes["test_all_users_signed_out"] == "failed"
    assert "stale" in message and "KB 864411" in message and "session(s) 77" in message
    assert "signed in:" not in message


def test_a_live_user_is_named_with_company_and_sign_in_time(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "user-signed-in", "-k", "signed_out", *LEAN)
    message = assertion(run, "test_all_users_signed_out")
    assert "users are still signed in: LESSONUSER1 in Fabrikam, Inc. since 2026-11-24 08:12" in message
    assert "stale" not in message


@pytest.mark.parametrize("scenario", ["hotfix-build", "named-system-database", "slow-web-server-progress"])
def test_farms_that_differ_from_the_defaults_pass(run_checks: Run, scenario: str) -> None:
    run = run_checks("", "--lab", scenario, *LEAN)
    assert run.ret == 0, run.text
    assert not run.with_outcome("failed") and not run.with_outcome("error"), run.text


def test_the_previous_release_left_beside_the_new_one_does_not_fool_the_version_check(run_checks: Run) -> None:
    # The healthy lab keeps 18.3's Dynamics.exe in the default folder ...\GP (side-by-side install);
    # the check reads the one TenantConfiguration.xml names and passes.
    farm = apply_scenario(load_scenario("healthy"))
    host = farm.hosts["gp-sh01"]
    assert host.files["C:\\Program Files (x86)\\Microsoft Dynamics\\GP\\Dynamics.exe"] == "18.3.1173.0"
    run = run_checks("hosts", "--lab", "healthy", "-k", "desktop_client_at_target", "-v", *LEAN)
    assert run.with_outcome("passed") == [
        "test_desktop_client_at_target[gp-sh01]",
        "test_desktop_client_at_target[gp-sh02]",
    ], run.text


def test_only_the_32_bit_value_set_passes_with_a_warning(run_checks: Run) -> None:
    run = run_checks("clients", "--lab", "clients-trust-32-bit-only", "-k", "elevated_trust", *LEAN)
    assert run.ret == 0, run.text
    assert run.outcomes == {
        "test_silverlight_elevated_trust_is_allowed[gp-cl01]": "passed",
        "test_silverlight_elevated_trust_is_allowed[gp-cl02]": "warning",
    }, run.text
    assert "a 64-bit browser would run the web client sandboxed" in run.text


@pytest.mark.parametrize(
    ("overlay", "field"),
    [
        ("hosts:\n  gp-sh99: {fault: unreachable}\n", "hosts.gp-sh99"),
        ("sql:\n  DYNAMICS:\n    NOPE: {delete: true}\n", "sql.DYNAMICS.NOPE"),
        ("sql:\n  DYNAMICS:\n    ACTIVITY: {add: [{USERNAME: x}]}\n", "sql.DYNAMICS.ACTIVITY.add[0].USERNAME"),
        ("hosts:\n  gp-sh01:\n    services: {no_such_service: null}\n", "hosts.gp-sh01.services"),
        ("hosts:\n  gp-sh01:\n    products: {no_such_product: '1.0'}\n", "hosts.gp-sh01.products.no_such_product"),
    ],
)
def test_a_mistake_in_a_scenario_is_one_message_naming_the_field(tmp_path: Path, overlay: str, field: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("description: a scenario with a mistake\n" + overlay)
    with pytest.raises(ConfigError) as caught:
        apply_scenario(load_scenario(str(path)))
    assert str(path) in str(caught.value) and field in str(caught.value)


def test_scenario_values_the_lab_tables_cannot_hold_are_one_message(pytester: pytest.Pytester, tmp_path: Path) -> None:
    path = tmp_path / "bad-values.yml"
    path.write_text("description: a number where text belongs\nsql:\n  DYNAMICS:\n    ACTIVITY: {add: [{USERID: 5}]}\n")
    result = pytester.runpytest_inprocess(str(CHECKS / "pre"), "--lab", str(path), *LEAN)
    errors = result.stderr.str()
    # Refused as the scenario is read (its rows are typed by the lab's columns), before any lab starts.
    assert result.ret == 3 and f"{path}: sql.DYNAMICS.ACTIVITY.add[0].USERID: expected" in errors, errors
    assert "Traceback" not in errors + result.stdout.str()


@pytest.mark.parametrize(
    ("extra", "field", "expected"),
    [
        ({"target_build": "18.4.x"}, "target_build", "a GP version major.minor.build"),
        ({"target_build": "16.0.541"}, "target_build", "a build of Microsoft Dynamics GP 18.4"),
        (
            {"overrides": {"sql.config_session_hosts_table": "SessionHosts"}},
            "overrides.sql.config_session_hosts_table",
            "a known profile identifier",
        ),
        (
            {"overrides": {"config_db.session_hosts_table": "dbo.Hosts"}},
            "overrides.config_db.session_hosts_table",
            "a table name",
        ),
        (
            {"overrides": {"registry.web_components_config_db": "HKLM\\x"}},
            "overrides.registry.web_components_config_db",
            "a mapping with exactly name, path, view",
        ),
    ],
)
def test_bad_gp_settings_in_the_inventory_are_one_message(
    tmp_path: Path, extra: dict[str, object], field: str, expected: str
) -> None:
    import yaml

    from gpverify.facts.farm import open_farm

    path = tmp_path / "farm.yml"
    path.write_text(
        yaml.safe_dump(
            {
                "farm": "f",
                "profile": "gp18.4",
                "sql": {"server": "s"},
                "web_server": {"name": "w"},
                "session_hosts": [{"name": "h"}],
                **extra,
            }
        )
    )
    with pytest.raises(ConfigError) as caught:
        open_farm(path)
    assert f"{path}: {field}: expected {expected}" in str(caught.value)


def test_a_conversion_warning_is_waived_per_table(tmp_path: Path) -> None:
    import datetime as dt

    from gpverify.audit.waivers import find_waiver, load_waivers

    path = tmp_path / "waivers.yml"
    path.write_text(
        "- {check: GP-PRE-004, tables: [LAB10200], justification: unused module, approver: jane.doe,\n"
        "   risk: low, created: 2026-11-01, expires: 2099-01-01}\n"
    )
    waivers = load_waivers(path)
    today = dt.date(2026, 11, 29)
    one = "DYNAMICS DU000030: 1 table conversion(s) to review: CONTO table LAB10200 (product 5597): status 2"
    two = one + "; TWO table GL00100 (product 0): status 2"
    assert find_waiver(waivers, "GP-PRE-004", "lab-sql", today, one) == (waivers[0], "waived")
    assert find_waiver(waivers, "GP-PRE-004", "lab-sql", today, two) is None  # GL00100 is not accepted


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (None, "TenantConfiguration.xml on gp-web01 not found"),
        ("", "cannot be read: empty"),
        ("<TenantConfiguration><Tenant>", "is not well-formed XML"),
        ("x" * 300_000, "cannot be read: too large"),
    ],
)
def test_a_tenant_configuration_that_cannot_be_read_is_an_error_naming_host_and_file(
    run_checks: Run, tmp_path: Path, content: str | None, cause: str
) -> None:
    overlay = tmp_path / "tenant-configuration.yml"
    text = "null" if content is None else repr(content).replace("'", '"')
    overlay.write_text(
        "description: a bad TenantConfiguration.xml\nremove_hosts: [gp-ten01]\nhosts:\n  gp-web01:\n"
        f"    texts: {{tenant_configuration: {text}}}\n"
    )
    run = run_checks("hosts", "--lab", str(overlay), "-k", "desktop_client_at_target", *LEAN)
    assert set(run.outcomes.values()) == {"error"}, run.text
    message = next(iter(run.messages.values()))
    assert "gp-web01" in message and cause in message, message
    assert "Traceback" not in message


def test_a_launch_file_in_the_ansi_code_page_is_read() -> None:
    """No source gives Dynamics.set's encoding (administrators edit it in Notepad): bytes that are not UTF-8 are read
    as Windows-1252 and said so, where a strict UTF-8 reading made the whole host's launch file an error."""
    from gpverify.lab.collector import answer

    host = apply_scenario(load_scenario("healthy")).hosts["gp-sh01"]
    path = next(p for p in host.texts if p.endswith("GP 18.4\\Dynamics.set"))
    host.texts[path] = (
        "1\r\n0\r\nMicrosoft Dynamics GP \u00e9dition\r\nWindows\r\n:C:GP/Dynamics.dic\r\n"
        ":C:GP/FORMS.DIC\r\n:C:GP/REPORTS.DIC\r\n"
    ).encode("cp1252")
    document = answer(
        host,
        {
            "dictionaries": [{"key": "dynamics_set", "path": path, "max_bytes": 262144}],
            "texts": [{"key": "dynamics_set", "path": path, "max_bytes": 262144}],
        },
    )
    assert document["errors"] == []
    assert [p["name"] for p in document["dictionaries"]["dynamics_set"]] == ["Microsoft Dynamics GP \u00e9dition"]
    assert document["texts"]["dynamics_set"]["encoding"] == "windows-1252"


def test_the_healthy_labs_ansi_launch_file_with_two_location_blocks_passes(run_checks: Run) -> None:
    """gp-sh02's Dynamics.set is Windows-1252 with a second location block whose ISV dictionary is not there; its
    Dex.ini names the first (Workstation2=Windows), so every dictionary GP loads is found."""
    farm = apply_scenario(load_scenario("healthy"))
    launch = next(v for p, v in farm.hosts["gp-sh02"].texts.items() if p.endswith("GP 18.4\\Dynamics.set"))
    assert isinstance(launch, bytes) and "Rapports r\u00e9seau".encode("cp1252") in launch
    run = run_checks("hosts", "--lab", "healthy", "-k", "has_its_dictionary", *LEAN)
    assert set(run.outcomes.values()) == {"passed"}, run.text


def test_with_tenant_services_and_no_tenant_configuration_the_runtime_is_not_verified(
    run_checks: Run, tmp_path: Path
) -> None:
    overlay = tmp_path / "tenant-services.yml"
    overlay.write_text(
        "description: Tenant Services keep the runtime paths\nhosts:\n  gp-web01:\n"
        "    texts: {tenant_configuration: null}\n"
    )
    run = run_checks("hosts", "--lab", str(overlay), "-k", "desktop_client_at_target", *LEAN)
    assert set(run.outcomes.values()) == {"not verified"}, run.text
    assert "files.dynamics_exe" in run.text and "Tenant Manager" in run.text
