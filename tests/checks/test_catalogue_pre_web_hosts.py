"""checks/pre, checks/web and checks/hosts on the lab: every check passes on the healthy lab of its upgrade state,
each scenario fails exactly the checks it `proves` with a message naming the culprit, and checks that do not apply
are skipped with a reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

import gpverify.lab.runtime  # noqa: F401  (imported once here, so that in-process runs do not re-import it)
from gpverify.lab.scenario import load_scenario, scenario_names
from helpers.checks import CheckRun

Run = Callable[..., CheckRun]
# Plugins these runs do not need: pytester's in-process runs re-import and assertion-rewrite hypothesis (~100
# modules) every time, most of each run's cost.
LEAN = ("-p", "no:hypothesispytest")
PRE_IDS = {f"GP-PRE-{i:03d}" for i in (*range(1, 14), 18, 19)}
PRE_IDS |= {f"GP-PRE-{i:03d}" for i in range(14, 18)}  # SQL Server state (checks/pre/test_pre_sql_server.py)
WEB_IDS = {"GP-WEB-001", "GP-WEB-002", "GP-WEB-003", "GP-WEB-005", "GP-WEB-006"}  # GP-WEB-004 is retired
HOST_IDS = {f"GP-HOST-{i:03d}" for i in range(1, 14)}
PHASE_OF = {"PRE": "pre", "WEB": "web", "HOST": "hosts"}
LAB_PLACES = (
    "gp-web01",
    "gp-ten01",
    "gp-sh01",
    "gp-sh02",
    "DYNAMICS",
    "TWO",
    "CONTO",
    "GPCONFIGURATION",
    "GPWEBCLIENTSESSIONCENTRAL",
    "DYNGPDISCOVERY",
)
MINE = (PRE_IDS - {"GP-PRE-008"}) | WEB_IDS | HOST_IDS

# What each scenario's failure messages must name: the host, database or object at fault, and what was found.
CULPRITS: dict[str, list[str]] = {
    "pre-system-db-not-upgraded": ["DYNAMICS", "db_status 3", "18.4.1361"],
    "pre-third-party-not-upgraded": ["TWO", "product 5597", "db_status 2"],
    "pre-company-database-missing": ["OLDCO", "no database OLDCO", "ARCHV"],
    "pre-tenant-database-missing": ["DYNGPDISCOVERY", "does not exist"],
    "host-dictionary-missing": ["gp-sh02", "LABISV.DIC", "product 5597"],
    "host-third-party-old-in-one-company": ["Lab ISV Payables Extensions (product 5597)", "18.0.150 in CONTO"],
    "host-runtime-feature-missing": ["gp-sh01", "Web Client Runtime", "LabWebClientRuntime"],
    "host-old-gpds-running": ["gp-sh01", "GPDS-DEFAULT-16", "Running"],
    "host-sba-feature-missing": ["gp-sh02", "Service Based Architecture", "LabServiceBasedArchitecture"],
    "pre-tenant-configuration-missing": ["gp-web01", "TenantConfiguration.xml on gp-web01 not found"],
    "silverlight-web-client-session-active": ["Session Central", "GP-SH02: 1"],
    "pre-web-client-session-in-database": ["GPCONFIGURATION", "gp-sh01", "lessonuser2"],
    "host-below-target-build": ["gp-sh02", "18.4.1361", "expected 18.4.1461"],
    "host-runtime-points-at-previous-release": [
        "gp-sh01",
        "gp-sh02",
        "Microsoft Dynamics\\GP\\Dynamics.exe",
        "TenantConfiguration.xml on gp-web01",
        "18.3.1173",
    ],
    "pre-company-db-not-upgraded": ["CONTO", "12.0.1745", "expected 14.0.725"],
    "pre-company-version-mismatch": ["CONTO", "DU000020", "18.3.1200", "expected 18.4.1361"],
    "pre-table-conversion-failed": ["TWO", "GL00100", "status 3", "2627", "PRIMARY KEY"],
    "pre-backup-after-utilities-started": [
        "CONTO",
        "no full backup finished before Dynamics GP Utilities started",
        "2026-12-01 23:30:00 UTC, after the upgrade started",
    ],
    "pre-company-database-offline": ["CONTO", "state OFFLINE, expected ONLINE"],
    "host-desktop-client-not-working": ["gp-sh02", "'Dynamics GP' -> old-sql01", "lab-sql", "32-bit"],
    "host-runtime-service-no-certificate": ["gp-sh02", "presents no certificate"],
    "host-launch-block-dictionary-missing": ["gp-sh02", "Réseau\\LABISV.DIC", "product 5597"],
    "web-configuration-wizard-not-run": ["GPCONFIGURATION", "has no tables"],
    "pre-web-client-session-active": ["Session Central", "GP-SH01: 1", "SessionsRunning (inferred from its name)"],
    "pre-tenant-services-old": ["gp-ten01", "Tenant Services 18.3.1200", "expected 18.4.1361"],
    "pre-tenant-service-stopped": ["gp-ten01", "Tenant Management", "Stopped"],
    "web-components-not-upgraded": ["gp-web01", "Web Components 18.3.1200", "expected 18.4.1361"],
    "web-session-central-not-running": ["gp-web01", "Session Central", "Stopped"],
    "web-config-db-missing": ["GPCONFIGURATION", "does not exist"],
    "web-client-help-missing": ["gp-web01", "web client help", "not installed"],
    "host-desktop-client-old": ["gp-sh02", "Dynamics.exe", "18.3.1200", "expected 18.4.1361"],
    "host-web-components-old": ["gp-sh02", "Web Components 18.3.1200", "expected 18.4.1361"],
    "host-old-config-database": [
        "gp-sh01",
        "GPWEBCLIENTSESSIONCENTRAL",
        "LabSessionCentralHost",
        "GPCONFIGURATION",
        "before its Session Service started",
    ],
    "host-session-service-stopped": ["gp-sh01", "Session Service", "Stopped"],
    "host-dex-service-control-stopped": ["gp-sh02", "Dex Service Control", "Stopped"],
    "host-web-client-help-missing": ["gp-sh01", "web client help", "not installed"],
    # SQL Server state (GP-PRE-014 to GP-PRE-017)
    "pre-backup-before-upgrade-start": [
        "CONTO",
        "before Dynamics GP Utilities started upgrading it",
        "finished 2026-11-21 02:30:00 UTC",
        "expected a full backup",
    ],
    "pre-database-single-user": ["TWO", "SINGLE_USER", "expected MULTI_USER"],
    "pre-compatibility-level-low": ["CONTO", "compatibility level 100", "expected 120"],
    "pre-sql-server-2012-for-gp18": [
        "SQL Server: version 11.0.7001.0, expected 12.0 or later",
        "KB 878449",
        "DYNAMICS: compatibility level 110",
    ],
    "pre-web-client-login-missing": ["CONTO", "GPWebClient", "no user mapped"],
}


def scenarios_for_my_checks() -> list[str]:
    return [n for n in scenario_names() if set(load_scenario(n).proves) & MINE]


def warning_scenarios() -> list[str]:
    return [n for n in scenario_names() if set(load_scenario(n).warns) & (MINE | {"GP-PRE-008"})]


# Checks whose finding is advice by the guide's own words, so a scenario makes them warn, never fail: a session
# host's desktop client is updated at its step 2 ("If you haven't already done so"), where GP-HOST-012 fails it.
ADVICE = {"GP-PRE-005", "GP-PRE-006", "GP-PRE-007", "GP-PRE-010"}


def results(run: CheckRun) -> list[tuple[str, str, str, str]]:
    """(check ID, test name, passed | failure | error | skipped | warning | not verified, message) per test, from
    the JUnit report (warning and not verified are gpverify's outcomes, carried as properties)."""
    found = []
    for case in ET.fromstring(run.junit).iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        tag = next((t for t in ("failure", "error", "skipped") if case.find(t) is not None), None)
        node = case.find(tag) if tag else None
        message = "" if node is None else f"{node.get('message', '')}\n{node.text or ''}"
        outcome = props.get("gpverify_outcome") or tag or "passed"
        found.append(
            (props.get("check_id", "?"), case.get("name", ""), outcome, message or props.get("gpverify_message", ""))
        )
    return found


def ids_with(run: CheckRun, outcome: str) -> set[str]:
    return {cid for cid, _, o, _ in results(run) if o == outcome}


# Checks whose identifiers no public source gives: "not verified" on a farm whose inventory has not set them.
# GP-PRE-009 is verified through Session Central (the GP PowerShell module on the web server), GP-HOST-003 from where
# each host's Session Service registered, GP-HOST-009/010 by the features' titles in the GP entry's cached package.
UNVERIFIED: dict[str, set[str]] = {"pre": set(), "web": set(), "hosts": set()}


@pytest.mark.parametrize(
    ("phase", "scenario", "ids"),
    [
        ("pre", "before-upgrade", PRE_IDS),  # pre also passes on healthy; silverlight-before-upgrade is tested below
        ("web", "healthy", WEB_IDS),
        ("hosts", "healthy", HOST_IDS),
    ],
)
def test_healthy_lab_passes_every_check(run_checks: Run, phase: str, scenario: str, ids: set[str]) -> None:
    run = run_checks(phase, "--lab", scenario, *LEAN)
    assert run.ret == 0, run.text
    assert {cid for cid, *_ in results(run)} == ids, run.text
    assert {cid for cid, _, o, _ in results(run) if o != "passed"} == UNVERIFIED[phase], run.text
    assert {o for _, _, o, _ in results(run)} <= {"passed", "not verified"}, run.text


def test_silverlight_farm_before_upgrade_reads_sessions_from_the_old_session_database(
    run_checks: Run, tmp_path: Path
) -> None:
    overlay = tmp_path / "no-module.yml"  # without the GP PowerShell module, the old session database is read
    overlay.write_text(
        "description: no module\nera: silverlight\nbase: before-upgrade\nsession_central: {module: false}\n"
    )
    assert run_checks("pre", "--lab", "silverlight-before-upgrade", *LEAN).ret == 0
    run = run_checks("pre", "--lab", str(overlay), *LEAN)
    assert run.ret == 0, run.text
    unverified = [(cid, msg) for cid, _, o, msg in results(run) if o == "not verified"]
    assert [cid for cid, _ in unverified] == ["GP-PRE-009"], run.text
    assert "GPWEBCLIENTSESSIONCENTRAL" in unverified[0][1] and "old_session_db.sessions_table" in unverified[0][1]


def test_unreachable_sql_server_is_not_a_skip(run_checks: Run, tmp_path: Path) -> None:
    overlay = tmp_path / "sql-down.yml"
    overlay.write_text(
        "description: SQL Server down before a Silverlight-era upgrade.\n"
        "era: silverlight\nbase: before-upgrade\nsql_fault: unreachable\n"
        "session_central: {module: false}\n"
    )  # the module would answer without SQL Server
    run = run_checks("pre", "--lab", str(overlay), "-k", "web_client_sessions", *LEAN)
    # A SqlUnavailable raised by the check itself is an error (nothing was judged), not a failure.
    assert run.outcomes == {"test_no_web_client_sessions": "error"}, run.text
    assert "could not read the facts" in run.messages["test_no_web_client_sessions"]
    assert "cannot reach SQL Server" in run.messages["test_no_web_client_sessions"]


def test_dex_service_control_is_skipped_without_the_service_based_architecture(run_checks: Run) -> None:
    run = run_checks("hosts", "--lab", "host-without-sba", *LEAN)
    assert run.ret == 0, run.text
    skipped = [(cid, name, msg) for cid, name, o, msg in results(run) if o == "skipped"]
    # Dex Service Control, the SBA feature and the GPDS service: one skip per host each.
    assert {cid for cid, _, _ in skipped} == {"GP-HOST-005", "GP-HOST-010", "GP-HOST-011"} and len(skipped) == 6, (
        run.text
    )
    assert all("Service Based Architecture is not" in msg for *_, msg in skipped), skipped


def test_host_option_runs_only_that_session_host(run_checks: Run) -> None:
    run = run_checks("hosts", "--lab", "healthy", "--host", "gp-sh01", *LEAN)
    assert run.ret == 0, run.text
    names = [name for _, name, _, _ in results(run)]
    assert len(names) == len(HOST_IDS) and all(n.endswith("-gp-sh01]") for n in names), names


def test_every_check_has_a_scenario_that_makes_it_fail() -> None:
    proven = {cid for n in scenarios_for_my_checks() for cid in load_scenario(n).proves}
    warned = {cid for n in warning_scenarios() for cid in load_scenario(n).warns}
    assert MINE - ADVICE <= proven, sorted(MINE - ADVICE - proven)
    assert ADVICE <= warned and not ADVICE & proven, (sorted(ADVICE - warned), sorted(ADVICE & proven))
    assert set(scenarios_for_my_checks()) == set(CULPRITS), "name the culprit of every scenario in CULPRITS"


@pytest.mark.parametrize("scenario", sorted(CULPRITS))
def test_scenario_fails_exactly_the_checks_it_proves(run_checks: Run, scenario: str) -> None:
    proves = set(load_scenario(scenario).proves)
    phases = {PHASE_OF[cid.split("-")[1]] for cid in proves}
    assert len(phases) == 1, f"{scenario} proves checks of several phases: {sorted(proves)}"
    run = run_checks(phases.pop(), "--lab", scenario, *LEAN)
    assert ids_with(run, "failure") == proves, run.text
    assert not ids_with(run, "error"), run.text
    messages = "\n".join(msg for cid, _, o, msg in results(run) if o == "failure")
    missing = [word for word in CULPRITS[scenario] if word not in messages]
    assert not missing, f"the failure messages do not name {missing}:\n{messages}"
    for cid, name, outcome, msg in results(run):
        if outcome == "failure":
            assert any(place in msg for place in LAB_PLACES), f"{cid} {name} names no host or database: {msg}"


@pytest.mark.parametrize("scenario", warning_scenarios())
def test_scenario_warns_exactly_the_checks_it_warns(run_checks: Run, scenario: str) -> None:
    """A correction that turned a failure into advice (a retired product, a host's desktop client before its own
    step, a product without company tables): the scenario warns what it names, naming the host or object, and
    fails nothing."""
    warns = set(load_scenario(scenario).warns)
    phases = {PHASE_OF[cid.split("-")[1]] for cid in warns}
    assert len(phases) == 1, f"{scenario} warns checks of several phases: {sorted(warns)}"
    run = run_checks(phases.pop(), "--lab", scenario, *LEAN)
    assert ids_with(run, "warning") == warns, run.text
    assert not ids_with(run, "failure") and not ids_with(run, "error"), run.text
    for cid, name, outcome, msg in results(run):
        if outcome == "warning":
            assert any(place in msg for place in (*LAB_PLACES, "product")), f"{cid} {name} names nothing: {msg}"
