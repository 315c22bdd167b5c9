"""What an administrator sees (issue 13): failures in the guide's words, selection by check ID, exit codes."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gpverify.cli.main import parser
from gpverify.exitcodes import TABLE

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"
# The check's own words for a stopped service end like this (gpverify.expect.service_problem); the service's
# display name before them is the profile's.
SENTENCE = re.compile(r"[^\n]*Session Service[^\n]* is Stopped, expected Running")


def pytest_run(*args: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    """pytest on the checks as an operator runs it: its own process, from the repository."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-p", "no:hypothesispytest"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    junit = tmp_path_factory.mktemp("junit") / "post.xml"
    proc = pytest_run(str(CHECKS / "post"), "--lab", "session-service-stopped", "-rf", f"--junitxml={junit}")
    return proc, junit


def failure_block(out: str) -> str:
    """gpverify's summary of what failed or could not run (its own terminal, never pytest's FAILURES)."""
    return out.split("gpverify: checks that failed or could not run", 1)[1]


def test_failure_block_reads_like_the_guide(stopped: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, _ = stopped
    assert proc.returncode == 1, proc.stdout[-3000:]
    block = failure_block(proc.stdout)
    headline = re.search(r"^FAILED GP-POST-002 gp-sh02  (.*)$", block, flags=re.MULTILINE)
    assert headline and SENTENCE.fullmatch(headline.group(1)) and "gp-sh02:" not in headline.group(1), block
    assert re.search(r"^    Remediation: Start the Session Service .*on this session host", block, flags=re.MULTILINE)
    for python in ("def test_", "@check(", "assert ", "AssertionError", "Traceback", ".py", "::test_", "= FAILURES ="):
        assert python not in proc.stdout, (python, proc.stdout)


def test_a_line_per_check_in_the_catalogues_words(stopped: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, _ = stopped
    line = re.search(
        r"^GP-POST-002  gp-sh02 +failed +On each session host machine, verify that the Session Service "
        r"is running\.$",
        proc.stdout,
        flags=re.MULTILINE,
    )
    assert line, proc.stdout
    # Session Management (GP-POST-003/004/005/013) reaches its verdicts through Session Central on the lab.
    assert re.search(r"^gpverify: 21 check result\(s\): 1 failed, 20 passed$", proc.stdout, flags=re.MULTILINE), (
        proc.stdout
    )


def test_junit_carries_the_sentence(stopped: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path) -> None:
    proc, junit = stopped
    line = re.search(r"^FAILED GP-POST-002 gp-sh02  (.*)$", failure_block(proc.stdout), flags=re.MULTILINE)
    assert line
    failures = list(ET.parse(junit).iter("failure"))
    assert len(failures) == 1
    assert failures[0].get("message") == f"gp-sh02: {line.group(1)}"
    assert "def test_" not in (failures[0].text or "") and "Remediation:" in (failures[0].text or "")
    # Without GP's PowerShell module and without overrides, Session Management is not verified: a skip to JUnit.
    unverified = tmp_path / "not-verified.xml"
    pytest_run(
        str(CHECKS / "post"), "--lab", "session-central-no-module", "-k", "GP-POST-003", f"--junitxml={unverified}"
    )
    skipped = list(ET.parse(unverified).iter("skipped"))
    assert skipped and all(".py" not in (s.text or "") and (s.text or "").startswith("not verified: ") for s in skipped)


def test_an_xdist_controller_says_every_result_its_workers_made(tmp_path: Path) -> None:
    """The session's one list of results is filled from the logged reports: under pytest-xdist the checks run in
    the workers, and the controller's terminal summary and HTML report still count every one of them."""
    html = tmp_path / "report.html"
    proc = pytest_run(
        str(CHECKS / "post"),
        "--lab",
        "session-service-stopped",
        "-n",
        "2",
        "-k",
        "GP-POST-002",
        f"--gpverify-html={html}",
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    summary = r"^gpverify: 2 check result\(s\): 1 failed, 1 passed$"
    assert re.search(summary, proc.stdout, flags=re.MULTILINE), proc.stdout
    assert re.search(r"^FAILED GP-POST-002 gp-sh02  ", failure_block(proc.stdout), flags=re.MULTILINE), proc.stdout
    rows = re.findall(r'<tr class="outcome-(\w+)" data-check="GP-POST-002"', html.read_text(encoding="utf-8"))
    assert sorted(rows) == ["failed", "passed"]


def test_facts_judged_with_v_and_python_source_only_when_asked() -> None:
    verbose = pytest_run(str(CHECKS / "post"), "--lab", "session-service-stopped", "-v", "-k", "GP-POST-002")
    assert "Facts judged:" in verbose.stdout and '"status": "Stopped"' in verbose.stdout
    debug = pytest_run(
        str(CHECKS / "post"), "--lab", "session-service-stopped", "-k", "GP-POST-002", "--gpverify-debug"
    )
    block = debug.stdout.split("= FAILURES =", 1)[1]
    assert "def test_session_service_is_running" in block and "checks/post/test_services.py::" in debug.stdout


def test_k_with_a_check_id_runs_exactly_that_check() -> None:
    proc = pytest_run(str(CHECKS / "post"), "--lab", "-k", "GP-POST-002", "--collect-only", "-q")
    tests = [line for line in proc.stdout.splitlines() if "::" in line and not line.startswith("GP-")]
    assert tests and all("[GP-POST-002-" in t for t in tests), proc.stdout
    assert len(tests) == 2, tests  # one per session host of the lab
    assert pytest_run(str(CHECKS / "post"), "--lab", "-k", "GP-POST-002", "-q").returncode == 0


def test_k_expressions_and_markers_in_catalogue_words() -> None:
    proc = pytest_run(
        str(CHECKS / "pre"), "--lab", "before-upgrade", "-k", "GP-PRE and not GP-PRE-004", "--collect-only", "-q"
    )
    ids = {line.split()[0] for line in proc.stdout.splitlines() if line.startswith("GP-")}
    assert ids and "GP-PRE-004" not in ids and all(i.startswith("GP-PRE-") for i in ids), proc.stdout
    critical = pytest_run(str(CHECKS), "--lab", "-m", "critical and post", "--collect-only", "-q")
    assert "GP-POST-002" in critical.stdout and "GP-PRE-" not in critical.stdout, critical.stdout


def test_unknown_host_is_bad_input_naming_the_known_hosts() -> None:
    proc = pytest_run(str(CHECKS / "post"), "--lab", "--host", "gp-sh99")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "--host gp-sh99" in proc.stderr and "gp-sh01, gp-sh02" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_every_command_documents_one_exit_code_table(capsys: pytest.CaptureFixture[str]) -> None:
    top = parser()
    assert TABLE in top.format_help()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:  # each command's help as `gpverify NAME --help` shows it (its own module loaded)
        whole = next(a for a in parser(name)._actions if isinstance(a, argparse._SubParsersAction))
        assert "3  bad input or usage" in whole.choices[name].format_help(), name


def test_usage_errors_exit_as_bad_input() -> None:
    for argv in (["no-such-command"], ["audit", "--wait", "soon", "--lab"], ["doctor", "--nope"]):
        proc = subprocess.run(
            [sys.executable, "-m", "gpverify.cli.main", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=REPO,
        )
        assert proc.returncode == 3, (argv, proc.stderr)
        assert "error:" in proc.stderr


def gpverify(*args: str, cwd: Path = REPO, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpverify.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


def test_doctor_on_the_lab_prints_a_line_per_target_and_exits_0() -> None:
    proc = gpverify("doctor", "--lab")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for host in ("gp-web01", "gp-sh01", "gp-sh02", "gp-cl01", "gp-ten01", "lab-sql"):
        assert sum(1 for line in lines if line.startswith(f"ok   {host} ")) == 1, proc.stdout
    assert "PowerShell ok (5.1" in proc.stdout and "TLS ok" in proc.stdout and "GPCONFIGURATION readable" in proc.stdout


def test_doctor_names_an_unreachable_host_with_the_fix() -> None:
    proc = gpverify("doctor", "--lab", "host-unreachable")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    failing = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failing) == 1 and failing[0].startswith("FAIL gp-sh02 (session host)"), proc.stdout
    fix = proc.stdout.split(failing[0], 1)[1].splitlines()[1]
    assert fix.strip().startswith("fix: start WinRM on gp-sh02"), fix
    assert "not ready: gp-sh02" in proc.stdout


def test_doctor_without_a_target_is_bad_input() -> None:
    proc = gpverify("doctor")
    assert proc.returncode == 3 and "--inventory" in proc.stderr
