"""Declarative checks (custom_checks/acme.checks.yml): six kinds judged on the lab like Python checks, in the same
one collector run per host, by role and phase, in `run`, the audit and the upgrade's gates; bad input refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gpverify.cli.main import main
from gpverify.lab.runtime import RunningLab, start_lab
from gpverify.results import CheckResult
from helpers.checks import CHECKS

CUSTOM = Path(__file__).parent / "custom_checks"
SIX = ("ACME-011", "ACME-012", "ACME-013", "ACME-014", "ACME-015", "ACME-016")
# Where each of the six runs on the lab: once per host of its role, the query once against the SQL Server.
HOSTS = {
    ("ACME-011", "gp-sh01"),
    ("ACME-011", "gp-sh02"),
    ("ACME-012", "gp-web01"),
    ("ACME-013", "gp-sh01"),
    ("ACME-013", "gp-sh02"),
    ("ACME-014", "gp-web01"),
    ("ACME-015", "gp-web01"),
    ("ACME-016", "lab-sql"),
}
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-W", "ignore::DeprecationWarning")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Callable[[str], RunningLab]]:
    started: list[RunningLab] = []

    def start(scenario: str) -> RunningLab:
        started.append(start_lab(scenario, tmp_path / f"lab{len(started)}"))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def _records(result: pytest.RunResult) -> dict[tuple[str, str | None], CheckResult]:
    reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
    return {(r.check, r.host): r for rep in reports if (r := CheckResult.of(rep)) is not None}


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The gpverify command as an administrator runs it, in its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPVERIFY_")}
    return subprocess.run(
        [sys.executable, "-m", "gpverify.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )


def _file(folder: Path, name: str, *checks: dict[str, Any]) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    base = {"title": "A site check.", "impact": "low", "remediation": "Fix it."}
    path.write_text(yaml.safe_dump({"checks": [{**base, **c} for c in checks]}, sort_keys=False), encoding="utf-8")
    return path


def test_six_kinds_pass_on_the_lab_read_in_one_collector_run_per_host(
    pytester: pytest.Pytester, lab: Callable[[str], RunningLab]
) -> None:
    healthy = lab("healthy")
    result = pytester.runpytest_inprocess(
        str(CHECKS / "post"), str(CUSTOM), "--inventory", str(healthy.inventory_path), *QUIET
    )
    records = _records(result)
    assert result.ret == 0, result.stdout.str()
    assert {key for key in records if key[0] in SIX} == HOSTS
    assert all(records[key].outcome == "passed" for key in HOSTS)
    assert records[("ACME-015", "gp-web01")].section == "acme.checks.yml"  # no section: the file names it
    assert records[("ACME-011", "gp-sh01")].evidence["gp-sh01: services.check:ACME-011"][0]["start_mode"] == "Auto"
    assert records[("ACME-016", "lab-sql")].evidence == {"DYNAMICS: ACME-016": []}
    # The Python checks and the declarative ones read their facts from one collector run per host.
    assert {name: [c.kind for c in host.received] for name, host in healthy.hosts.items() if host.received} == {
        name: ["collector"] for name in ("gp-web01", "gp-sh01", "gp-sh02")
    }


def test_six_kinds_fail_on_their_overlay_naming_host_found_and_expected(
    pytester: pytest.Pytester, lab: Callable[[str], RunningLab]
) -> None:
    broken = lab(str(CUSTOM / "acme-faults.yml"))
    result = pytester.runpytest_inprocess(
        str(CUSTOM), "--inventory", str(broken.inventory_path), "-k", "ACME-01", *QUIET
    )
    records = _records(result)
    assert result.ret == 1
    failed = {key: records[key].message for key in HOSTS if records[key].outcome == "failed"}
    assert set(failed) == HOSTS - {("ACME-011", "gp-sh01"), ("ACME-013", "gp-sh02")}  # one host broken of each
    assert (
        "Dex Service Control (GPDexterityServiceControl) starts Manual, expected Auto"
        in failed[("ACME-011", "gp-sh02")]
    )
    assert "Web Components 18.3.1200 installed, expected 18.4 or later" in failed[("ACME-012", "gp-web01")]
    assert (
        r"HKLM\SOFTWARE\ODBC\ODBC.INI\Dynamics GP\Driver (32-bit view) does not exist"
        in failed[("ACME-013", "gp-sh01")]
    )
    assert r"SessionCentral\TenantConfiguration.xml does not exist" in failed[("ACME-014", "gp-web01")]
    assert (
        "CN=localhost" in failed[("ACME-015", "gp-web01")]
        and "expected at least 30" in failed[("ACME-015", "gp-web01")]
    )
    assert failed[("ACME-016", "lab-sql")].startswith("DYNAMICS: the query returned 2 rows (db_name=TWO")
    assert "expected no rows" in failed[("ACME-016", "lab-sql")]
    text = result.stdout.str()
    assert "FAILED ACME-011 gp-sh02  Dex Service Control (GPDexterityServiceControl)" in text  # as a Python check reads
    assert "Remediation: Set the Microsoft Dynamics GP Dex Service Control service's startup type" in text


def test_roles_hosts_phases_and_selection(
    pytester: pytest.Pytester, lab: Callable[[str], RunningLab], tmp_path: Path
) -> None:
    folder = tmp_path / "site"
    _file(
        folder,
        "roles.checks.yml",
        {"id": "ACME-020", "role": "tenant_services", "service": {"display": "*Tenant Discovery*"}},
        # Client machines are read for a site's own checks in any era (gpverify's own apply to Silverlight only).
        {
            "id": "ACME-021",
            "role": "client",
            "impact": "critical",
            "registry": {
                "path": r"SOFTWARE\Microsoft\Silverlight",
                "name": "AllowElevatedTrustAppsInBrowser",
                "exists": False,
            },
        },
        {"id": "ACME-022", "role": "session_host", "phase": "pre", "service": {"name": "GPWebClientSessionServices"}},
    )
    overlay = tmp_path / "no-tenant-services.yml"
    overlay.write_text("description: no Tenant Services\nremove_hosts: [gp-ten01]\n", encoding="utf-8")
    farm = str(lab(str(overlay)).inventory_path)
    result = pytester.runpytest_inprocess(str(folder), "--inventory", farm, "--check-phase", "post", *QUIET)
    records = _records(result)
    assert result.ret == 0, result.stdout.str()
    assert {k: r.outcome for k, r in records.items()} == {
        ("ACME-020", None): "skipped",
        ("ACME-021", "gp-cl01"): "passed",
        ("ACME-021", "gp-cl02"): "passed",
    }
    assert records[("ACME-020", None)].message == (
        "The inventory lists no Tenant Services server (tenant_services), so this does not apply."
    )
    only = _records(pytester.runpytest_inprocess(str(folder), "--inventory", farm, "-m", "critical", *QUIET))
    assert set(only) == {("ACME-021", "gp-cl01"), ("ACME-021", "gp-cl02")}
    hosts = _records(
        pytester.runpytest_inprocess(str(folder), "--inventory", farm, "-k", "ACME-022", "--host", "gp-sh02", *QUIET)
    )
    assert {k: r.outcome for k, r in hosts.items()} == {("ACME-022", "gp-sh02"): "passed"}


@pytest.mark.parametrize(
    "command",
    [
        ["checks"],
        ["run", "post", "--lab"],
        ["audit", "--lab"],
        ["upgrade", "--lab", "--dry-run"],
        ["upgrade", "--lab", "--yes"],
    ],
)
def test_checks_that_is_not_a_folder_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    missing = tmp_path / "no-such-folder"
    assert (
        main(
            [
                *command,
                "--checks",
                str(missing),
                *(["--reports", str(tmp_path)] if "--lab" in command and command[0] != "run" else []),
            ]
        )
        == 3
    )
    err = capsys.readouterr().err
    assert f"--checks: expected a folder of your own checks, got '{missing}' (no such folder)" in err
    assert not list(tmp_path.glob("*/state.json"))  # no upgrade run was started


BAD_QUERY = {"id": "ACME-030", "sql": {"query": "DELETE FROM ACTIVITY", "rows": 0}}


@pytest.mark.parametrize(
    "command", [["checks"], ["run", "post", "--lab"], ["audit", "--lab"], ["upgrade", "--lab", "--dry-run"]]
)
def test_a_bad_check_file_is_one_message_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    path = _file(tmp_path / "site", "bad.checks.yml", BAD_QUERY)
    extra = ["--reports", str(tmp_path / "reports")] if command[0] in ("audit", "upgrade") else []
    assert main([*command, "--checks", str(path.parent), *extra]) == 3
    err = capsys.readouterr().err.strip()
    assert err == (
        f"gpverify: {path}: checks[0].sql.query: expected a read-only SELECT query; this one is not a "
        "read-only query (DELETE statement)"
    )


def test_plain_pytest_refuses_a_bad_check_file_with_exit_3(pytester: pytest.Pytester, tmp_path: Path) -> None:
    path = _file(
        tmp_path / "site", "bad.checks.yml", {"id": "ACME-031", "role": "web_server", "file": {"path": "Dynamics.exe"}}
    )
    result = pytester.runpytest_inprocess(str(path.parent), "--lab", *QUIET)
    assert result.ret == 3
    text = result.stdout.str() + result.stderr.str()
    assert f"{path}: checks[0].file.path: expected a full Windows path" in text and "Traceback" not in text


def test_an_id_of_another_check_is_bad_input(
    pytester: pytest.Pytester, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "site"
    _file(folder, "mine.checks.yml", {"id": "ACME-001", "role": "web_server", "service": {"name": "W3SVC"}})
    # A module name of its own: tests/outputs/test_check_defects.py writes a test_acme.py too, and two modules of
    # one name in one process are refused by pytest.
    (folder / "test_acme_declared_twice.py").write_text(
        (CUSTOM / "test_acme_session_service.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    assert main(["checks", "--checks", str(folder)]) == 3
    assert "ACME-001: expected a check ID of its own (another check has it: " in capsys.readouterr().err
    result = pytester.runpytest_inprocess(str(folder), "--collect-only", *QUIET)
    assert result.ret == 3 and "expected a check ID of its own" in result.stdout.str()
    _file(folder / "more", "again.checks.yml", {"id": "acme-001", "role": "client", "service": {"name": "x"}})
    (folder / "test_acme_declared_twice.py").unlink()
    assert main(["checks", "--checks", str(folder)]) == 3  # two files, one ID: found before pytest starts
    assert "again.checks.yml: acme-001: expected a check ID of its own" in capsys.readouterr().err


def test_the_catalogue_lists_them_in_their_phases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "site"
    _file(
        folder / "pre", "early.checks.yml", {"id": "ACME-040", "role": "sql", "sql": {"query": "SELECT 1", "rows": 1}}
    )
    _file(
        folder,
        "flat.checks.yml",
        {"id": "ACME-041", "phase": "hosts", "role": "session_host", "service": {"name": "x"}},
        {"id": "ACME-042", "role": "web_server", "impact": "critical", "file": {"path": "C:\\x.txt"}},
    )
    assert main(["checks", "--format", "json", "--checks", str(folder), "--checks", str(CUSTOM)]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert {i: rows[i]["phase"] for i in ("ACME-040", "ACME-041", "ACME-042", *SIX)} == {
        "ACME-040": "pre",
        "ACME-041": "hosts",
        "ACME-042": "post",
        **dict.fromkeys(SIX, "post"),
    }
    assert rows["ACME-042"]["impact"] == "critical" and rows["ACME-016"]["title"].startswith("No GP database")
    assert "GP-POST-002" in rows  # the shipped checks beside them


def test_the_audit_and_the_upgrade_gates_run_each_check_in_its_phase(tmp_path: Path) -> None:
    folder = tmp_path / "site"
    _file(
        folder,
        "phases.checks.yml",
        {
            "id": "ACME-050",
            "role": "session_host",
            "service": {"name": "GPWebClientSessionServices", "start_mode": "Auto"},
        },
        {"id": "ACME-051", "phase": "pre", "role": "sql", "sql": {"query": "SELECT USERID FROM ACTIVITY", "rows": 0}},
    )
    audit = _cli(tmp_path, "audit", "--lab", "--checks", str(folder), "--reports", str(tmp_path / "audit"))
    assert audit.returncode == 0, audit.stdout + audit.stderr
    document = json.loads(next((tmp_path / "audit").glob("audit-*.json")).read_text(encoding="utf-8"))
    assert {(r["check"], r["host"], r["outcome"]) for r in document["results"] if r["check"].startswith("ACME")} == {
        ("ACME-050", "gp-sh01", "passed"),
        ("ACME-050", "gp-sh02", "passed"),
    }  # a pre check is not audited

    plan = tmp_path / "plan.yml"
    plan.write_text(
        "phases:\n  - phase: pre\n    steps:\n      - {id: backup, kind: manual, title: Back up,"
        " action: backup, instructions: [Back them up.]}\n  - phase: post\n",
        encoding="utf-8",
    )
    upgrade = _cli(
        tmp_path,
        "upgrade",
        "--lab",
        "healthy",
        "--plan",
        str(plan),
        "--checks",
        str(folder),
        "--yes",
        "--confirmed-by",
        "Jane Doe",
        "--reports",
        str(tmp_path / "runs"),
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    run = next((tmp_path / "runs").glob("*/state.json")).parent
    assert json.loads((run / "state.json").read_text(encoding="utf-8"))["checks"] == [str(folder.resolve())]
    gates = {
        gate: {
            (r["check"], r["host"], r["outcome"])
            for r in json.loads((run / f"{gate}.results.json").read_text(encoding="utf-8"))["results"]
            if r["check"].startswith("ACME")
        }
        for gate in ("gate-pre", "gate-post")
    }
    assert gates == {
        "gate-pre": {("ACME-051", "lab-sql", "passed")},
        "gate-post": {("ACME-050", "gp-sh01", "passed"), ("ACME-050", "gp-sh02", "passed")},
    }
    resumed = _cli(tmp_path, "upgrade", "--resume", "--checks", str(folder), "--reports", str(tmp_path / "runs"))
    assert resumed.returncode == 3 and "a resumed run keeps the plan, inventory, lab and checks" in resumed.stderr


def test_a_site_check_added_between_two_runs_is_not_drift_of_the_farm() -> None:
    from gpverify.audit.drift import fact_drift

    service = {"name": "GPDexterityServiceControl", "status": "Running"}
    before = {"gp-sh01": {"services": {"dex_service_control": [service]}}}
    after = {"gp-sh01": {"services": {"dex_service_control": [service], "check:ACME-011": [service]}}}
    assert fact_drift(before, after) == [] and fact_drift(after, before) == []
    stopped = {
        "gp-sh01": {
            "services": {"dex_service_control": [service], "check:ACME-011": [{**service, "status": "Stopped"}]}
        }
    }
    assert [d.text() for d in fact_drift(after, stopped)] == [
        "gp-sh01: services.check:ACME-011[GPDexterityServiceControl].status: 'Running' -> 'Stopped'"
    ]
