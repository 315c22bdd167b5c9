"""A check's own defect is an error of that check (issue 22 item 4): "the check ACME-002 itself broke: ...", in
the check's file and line, exit 2, never a failed farm check and never the check's remediation."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gpverify.audit.runner import AuditOptions, run_audit
from gpverify.exitcodes import ExitCode, for_outcomes
from gpverify.outcomes import Outcome

SITE_CHECKS = """\
from gpverify.catalogue import check

REMEDIATION = "Restart the ACME connector service on the web server."


@check("ACME-001", title="The ACME connector is configured", section="ACME runbook", impact="high",
       remediation=REMEDIATION)
def test_acme_configured(web_server):
    assert web_server.name == "somewhere else", f"{web_server.name}: the ACME connector is not configured"


@check("ACME-002", title="The ACME connector answers", section="ACME runbook", impact="high", remediation=REMEDIATION)
def test_acme_answers(web_server):
    web_server.acme_connector.answers  # a typo of the site's: HostView has no such attribute
"""
SENTENCE = "the check ACME-002 itself broke: AttributeError: "


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    (folder / "checks" / "post").mkdir(parents=True)
    (folder / "checks" / "post" / "test_acme.py").write_text(SITE_CHECKS, encoding="utf-8")
    return folder


def test_a_broken_check_is_an_error_naming_its_line_and_the_run_exits_2(site: Path) -> None:
    cwd = Path.cwd()
    os.chdir(site)  # an administrator runs from the site folder: the check is named from there
    try:
        result = run_audit(AuditOptions(lab="healthy", checks=site / "checks", reports=site / "reports"))
    finally:
        os.chdir(cwd)
    rows = {r.check: r.as_dict() for r in result.results}
    broken, failed = rows["ACME-002"], rows["ACME-001"]
    assert broken["outcome"] == Outcome.ERROR.value, broken
    assert broken["message"].startswith(SENTENCE) and broken["message"].endswith("in checks/post/test_acme.py line 14")
    assert "acme_connector" in broken["message"]
    # What to do is about the check, not the farm: the check's own remediation would send the admin to a service.
    assert (
        "Restart the ACME" not in broken["remediation"] and "checks/post/test_acme.py line 14" in broken["remediation"]
    )
    # A check's assertion is still a failure of the farm, with its remediation.
    assert (failed["outcome"], failed["remediation"]) == (
        Outcome.FAILED.value,
        ("Restart the ACME connector service on the web server."),
    )
    # Failed outweighs could not run; without the failing check the run could not run: exit 2.
    assert result.exit_code == ExitCode.FAILED
    assert for_outcomes([Outcome(broken["outcome"])]) == ExitCode.NOT_RUN


def test_pytest_shows_the_defect_as_an_error_of_the_check(site: Path, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "checks/post",
            "--lab",
            "-k",
            "ACME-002",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
        ],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = proc.stdout
    assert f"COULD NOT RUN ACME-002 on gp-web01  {SENTENCE}" in out, out
    assert "Fix the check at checks/post/test_acme.py line 14" in out and "Restart the ACME" not in out
    assert "Traceback" not in out and "def test_acme_answers" not in out
    case = next(ET.parse(junit).iter("testcase"))
    assert case.find("error") is not None and case.find("failure") is None  # JUnit: an error, not a failure
    debug = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "checks/post",
            "--lab",
            "-k",
            "ACME-002",
            "-p",
            "no:cacheprovider",
            "--gpverify-debug",
        ],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "web_server.acme_connector.answers" in debug.stdout  # the source, when asked for
