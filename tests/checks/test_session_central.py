"""Session Management verified out of the box: Session Central through GP's PowerShell module (the lab's stand-in,
whose names match nothing gpverify ships), judged by value and by name; what cannot be judged says why; the
collector never runs a cmdlet that changes Session Central."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from gpverify.config.profiles import load_profile
from gpverify.facts.windows import COLLECTOR_SCRIPT, build_request
from gpverify.lab import collector, sessioncentral
from gpverify.lab.scenario import apply_scenario, load_scenario
from helpers.checks import CheckRun

Run = Callable[..., CheckRun]
SESSION_MANAGEMENT = "GP-POST-003 or GP-POST-004 or GP-POST-005 or GP-POST-013"
# Verbs of PowerShell cmdlets that change something. The collector may name none of them except the connection
# cmdlet (which sets the address of its own PowerShell session) and New-Object (a .NET object in memory).
CHANGING = (
    "Add",
    "Clear",
    "Disable",
    "Enable",
    "Install",
    "Invoke",
    "New",
    "Register",
    "Remove",
    "Rename",
    "Reset",
    "Restart",
    "Resume",
    "Set",
    "Start",
    "Stop",
    "Suspend",
    "Uninstall",
    "Unregister",
    "Update",
    "Write",
)
ALLOWED = {"Set-GPSessionCentralAddress", "New-Object"}


def outcomes(run: CheckRun) -> dict[str, str]:
    return run.outcomes


def test_collector_runs_no_cmdlet_that_changes_anything() -> None:
    code = "\n".join(line.split("#", 1)[0] for line in COLLECTOR_SCRIPT.splitlines())  # comments name them freely
    own = set(re.findall(r"^function ([\w-]+)", code, flags=re.MULTILINE))  # the script's own functions
    named = set(re.findall(r"\b(?:" + "|".join(CHANGING) + r")-[A-Za-z]+\b", code)) - own
    assert own >= {"Invoke-Section", "Invoke-Getter", "Add-CollectorError"}
    assert named <= ALLOWED, f"the collector names cmdlets that change state: {sorted(named - ALLOWED)}"
    # The module's other commands run only through the getters listed by verb, each checked again by its verb.
    assert "Get-Command -Module $module.Name -Verb Get" in code and "$_.Verb -eq 'Get'" in code
    dynamic = re.findall(r"&\s*\$(\w+)", code)
    assert set(dynamic) <= {"Reader", "Command"}, dynamic  # Invoke-Section's readers and Invoke-Getter's getter
    assert "Import-Module" in code and "Test-ListsAll" in code


def test_lab_module_refuses_any_cmdlet_but_getters_and_the_connection() -> None:
    farm = apply_scenario(load_scenario("healthy"))
    central = sessioncentral.of(farm)
    assert central is not None
    for cmdlet in ("Update-GPSessionHost", "New-GPScaleGroup", "Remove-GPScaleGroupTenant", "Add-GPScaleGroupTenant"):
        with pytest.raises(sessioncentral.RefusedCmdlet):
            central.invoke(cmdlet, SessionHostId="gp-sh01", ScaleGroupName="x", TenantName="y")
    central.invoke("Set-GPSessionCentralAddress", Address="http://gp-web01:48650/SessionCentralService")
    assert [o["type"] for o in central.invoke("Get-LabSessionHostRecord")] == [sessioncentral.HOST_TYPE] * 2


def test_collector_request_carries_the_address_as_data() -> None:
    profile = load_profile("gp18.4", {"session_central.port": 48623, "session_central.scheme": "http"})
    request = build_request("web_server", profile, host="gpweb.contoso.com")
    assert request["session_central"][0]["addresses"] == ["http://gpweb.contoso.com:48623/SessionCentralService"]
    default = build_request("web_server", load_profile("gp18.4"), host="gp-web01")["session_central"][0]["addresses"]
    assert default == ["https://gp-web01:48650/SessionCentralService", "http://gp-web01:48650/SessionCentralService"]
    farm = apply_scenario(load_scenario("session-central-unreachable"))
    web = farm.host("gp-web01")
    answer = collector.answer(web, build_request("web_server", load_profile("gp18.4"), host="gp-web01"))
    assert answer["session_central"]["session_central"]["address"] is None  # 48650 asked, the site chose 48623
    answer = collector.answer(web, build_request("web_server", profile, host="gp-web01"))  # the port overridden
    assert answer["session_central"]["session_central"]["address"] == "http://gp-web01:48623/SessionCentralService"


def test_healthy_lab_verifies_session_management_without_overrides(run_checks: Run) -> None:
    run = run_checks("post", "--lab", "healthy", "-k", SESSION_MANAGEMENT)
    assert run.ret == 0, run.text
    assert set(run.outcomes.values()) == {"passed"} and len(run.outcomes) == 7, run.outcomes
    # A pass says what it read, and that the flag's meaning was inferred from its name.
    basis = run.sentences["test_session_host_allows_new_sessions[gp-sh02]"]
    assert "Session Central on gp-web01 through GP PowerShell" in basis, basis
    assert "allows new sessions from Suspended (inferred from its name: true means Suspended)" in basis, basis


@pytest.mark.parametrize(
    ("scenario", "failed", "texts"),
    [
        ("post-host-suspended", ["test_session_host_allows_new_sessions[gp-sh02]"], ["GP-SH02 as Suspended"]),
        (
            "session-central-allow-flag",
            ["test_session_host_allows_new_sessions[gp-sh02]"],
            ["AcceptingNewSessions = False", "true means it allows new sessions"],
        ),
        (
            "post-host-not-listed",
            ["test_session_host_allows_new_sessions[gp-sh02]", "test_session_host_is_listed[gp-sh02]"],
            ["gp-sh02: not listed in Session Management", "found: GP-SH01"],
        ),
        ("post-extra-host-listed", ["test_no_unknown_session_host_is_listed"], ["GP-SH09", "not suspended"]),
        (
            "session-central-not-restarted",
            ["test_session_host_allows_new_sessions[gp-sh02]", "test_session_host_is_listed[gp-sh02]"],
            ["BEFORE the Session Service of gp-sh02", "step 18"],
        ),
    ],
)
def test_session_management_failures_name_the_host(
    run_checks: Run, scenario: str, failed: list[str], texts: list[str]
) -> None:
    run = run_checks("post", "--lab", scenario)
    assert run.with_outcome("failed") == sorted(failed) or set(failed) <= set(run.with_outcome("failed")), run.text
    joined = "\n".join(run.sentences[t] for t in failed)
    for text in texts:
        assert text in joined, (text, joined)
    assert "Traceback" not in run.text


def test_fqdn_listing_and_event_log_errors_pass_with_their_note(run_checks: Run) -> None:
    assert run_checks("post", "--lab", "session-central-fqdn", "-k", SESSION_MANAGEMENT).ret == 0
    run = run_checks("post", "--lab", "post-event-log-errors", "-k", "GP-POST-003", "-v")
    assert run.ret == 0, run.text


@pytest.mark.parametrize(
    ("scenario", "texts"),
    [
        ("session-central-ambiguous", ["2 properties could mean it: Suspended", "Enabled", "--record before"]),
        ("session-central-unreachable", ["gp-web01: Session Central did not answer", "session_central.port"]),
        (
            "session-central-module-throws",
            [
                "gp-web01: the GP PowerShell module",
                "Object reference not set",
                "run Get-LabSessionHostRecord on gp-web01",
            ],
        ),
        (
            "session-central-no-name-property",
            [
                "gp-web01: Session Central's Get-LabSessionHostRecord returned 2 object(s)",
                "session_central.host_name_property",
            ],
        ),
        ("session-central-no-module", ["gp-web01: the GP PowerShell component", "gpverify discover"]),
    ],
)
def test_what_cannot_be_judged_is_not_verified_in_one_sentence(
    run_checks: Run, scenario: str, texts: list[str]
) -> None:
    run = run_checks("post", "--lab", scenario, "-k", "GP-POST-004")
    assert run.ret == 0, run.text
    assert set(run.outcomes.values()) == {"not verified"}, run.outcomes
    sentence = run.sentences["test_session_host_allows_new_sessions[gp-sh01]"]
    for text in texts:
        assert text in sentence, (text, sentence)
    assert "Traceback" not in run.text and "\n" not in sentence


def test_attestation_ends_attested_only_when_nothing_verifies(
    run_checks: Run, tmp_path: pytest.TempPathFactory
) -> None:
    from gpverify import attestations

    path = tmp_path / "attestations.json"  # type: ignore[operator]
    attestations.add(
        path,
        attestations.Attestation(
            ("GP-POST-003", "GP-POST-004"), "Jane Doe", "2026-11-30T10:00:00+00:00", "every host is listed", "yes"
        ),
    )
    run = run_checks("post", "--lab", "session-central-no-module", "-k", "GP-POST-003", "--attestations", str(path))
    assert set(run.outcomes.values()) == {"attested"}, run.outcomes
    assert "Jane Doe confirmed at 2026-11-30T10:00:00+00:00" in run.sentences["test_session_host_is_listed[gp-sh01]"]
    verified = run_checks("post", "--lab", "healthy", "-k", "GP-POST-003", "--attestations", str(path))
    assert set(verified.outcomes.values()) == {"passed"}  # gpverify's own verdict wins over an attestation


def test_web_client_sessions_are_read_from_session_central(run_checks: Run) -> None:
    run = run_checks("pre", "--lab", "pre-web-client-session-active", "-k", "GP-PRE-009")
    assert run.with_outcome("failed") == ["test_no_web_client_sessions"], run.text
    assert "GP-SH01: 1" in run.sentences["test_no_web_client_sessions"]
    assert run_checks("pre", "--lab", "before-upgrade", "-k", "GP-PRE-009").ret == 0
