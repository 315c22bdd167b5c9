"""Waivers in the three report formats (HTML, JUnit, JSON), expired and unmatched waivers, malformed files,
and the HTML report as a real browser renders it (headless Chromium)."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from audit_harness import Labs, audit, by_name, load_json

from gpverify.audit.runner import AuditRun
from gpverify.audit.waivers import Waiver, find_waiver, load_waivers
from gpverify.cli.main import main
from gpverify.errors import ConfigError
from gpverify.history.store import HISTORY_FILE
from helpers.browser import CHROMIUM, NO_CHROMIUM, dump_dom

SH01 = "GP-POST-002 gp-sh01"
SH02 = "GP-POST-002 gp-sh02"
TODAY = dt.date.today()

WAIVERS = f"""
- check: GP-POST-002
  host: gp-sh02
  justification: gp-sh02 is being rebuilt (CHG-1234)
  approver: jane.doe
  risk: medium
  created: {TODAY - dt.timedelta(days=3)}
  expires: {TODAY + dt.timedelta(days=10)}
- check: GP-POST-002
  host: gp-sh01
  justification: old exception for gp-sh01
  approver: john.roe
  risk: high
  created: {TODAY - dt.timedelta(days=40)}
  expires: {TODAY - dt.timedelta(days=1)}
- check: GP-POST-999
  justification: a check that no longer exists
  approver: jane.doe
  risk: low
  created: {TODAY - dt.timedelta(days=3)}
  expires: {TODAY + dt.timedelta(days=10)}
"""

BOTH_STOPPED = """description: the Session Service is stopped on both session hosts
hosts:
  gp-sh01: {services: {session_service: {status: Stopped}}}
  gp-sh02: {services: {session_service: {status: Stopped}}}
"""


@pytest.fixture(scope="module")
def waived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuditRun, Path]]:
    """A healthy audit, then one where both session services are stopped, one waived, one with an expired waiver."""
    root = tmp_path_factory.mktemp("waivers")
    labs = Labs(root / "labs")
    try:
        (root / "waivers.yml").write_text(WAIVERS)
        (root / "both.yml").write_text(BOTH_STOPPED)
        audit(root / "reports", labs.start("healthy").inventory_path, waivers=str(root / "waivers.yml"))
        result = audit(
            root / "reports", labs.start(root / "both.yml").inventory_path, waivers=str(root / "waivers.yml")
        )
        yield result, root
    finally:
        labs.stop()


def test_waiver_in_json(waived: tuple[AuditRun, Path]) -> None:
    result, _ = waived
    assert result.exit_code == 1  # gp-sh01's waiver expired, so it fails
    doc = load_json(result)
    rows = by_name(doc)
    assert rows[SH02]["outcome"] == "waived"
    assert rows[SH02]["waiver"]["status"] == "waived" and rows[SH02]["waiver"]["approver"] == "jane.doe"
    assert "Stopped" in rows[SH02]["message"]  # the failure is kept
    assert rows[SH01]["outcome"] == "failed" and rows[SH01]["waiver"]["status"] == "expired"
    assert [w["check"] for w in doc["waivers"]["unmatched"]] == ["GP-POST-999"]
    assert [w["host"] for w in doc["waivers"]["expired"]] == ["gp-sh01"]
    assert [e["host"] for e in doc["changes_since_last_run"]["now_waived"]] == ["gp-sh02"]
    assert [e["host"] for e in doc["changes_since_last_run"]["newly_failing"]] == ["gp-sh01"]


def _testcase(root: ET.Element, name: str) -> ET.Element:
    """A JUnit test case by the check and host it ran for (JUnit keeps pytest's test names: CI tools track them)."""
    check, host = name.split()
    return next(tc for tc in root.iter("testcase") if tc.get("name", "").endswith(f"[{check}-{host}]"))


def _props(el: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in el.iter("property")}


def test_waiver_in_junit(waived: tuple[AuditRun, Path]) -> None:
    result, _ = waived
    root = ET.parse(result.reports["junit"]).getroot()
    sh02 = _testcase(root, SH02)
    skipped = sh02.find("skipped")
    assert skipped is not None and sh02.find("failure") is None
    assert skipped.get("message", "").startswith("waived: GP-POST-002 on gp-sh02 by jane.doe")
    props = _props(sh02)
    assert props["waiver_status"] == "waived" and props["waiver_approver"] == "jane.doe"
    assert props["waiver_risk"] == "medium" and props["check_id"] == "GP-POST-002" and props["audit_host"] == "gp-sh02"
    sh01 = _testcase(root, SH01)
    assert sh01.find("failure") is not None and _props(sh01)["waiver_status"] == "expired"
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"
    suite_props = {p.get("name"): p.get("value") for p in suite.find("properties") or []}
    assert "GP-POST-999" in (suite_props.get("waiver_unmatched") or "")
    assert "gp-sh01" in (suite_props.get("waiver_expired") or "")


def test_waiver_in_html(waived: tuple[AuditRun, Path]) -> None:
    result, _ = waived
    html = Path(result.reports["html"]).read_text()
    assert "Waiver</th>" in html
    assert "WAIVED on gp-sh02 by jane.doe" in html and "EXPIRED" in html and "(no longer waives)" in html
    waivers = html[html.index('id="gpverify-waivers"') :]
    assert "UNMATCHED: waiver #3 for GP-POST-999" in waivers and "expired on" in waivers
    assert 'data-host="gp-sh01" data-outcome="failed"' in html
    assert 'data-host="gp-sh02" data-outcome="waived"' in html


def test_all_failures_waived_exits_0(tmp_path: Path) -> None:
    labs = Labs(tmp_path / "labs")
    try:
        (tmp_path / "w.yml").write_text(WAIVERS)
        result = audit(
            tmp_path / "r", labs.start("session-service-stopped").inventory_path, waivers=str(tmp_path / "w.yml")
        )
    finally:
        labs.stop()
    assert result.exit_code == 0 and result.status == "passed"


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        (
            "- check: GP-POST-002\n  justification: x\n  risk: low\n  created: 2026-01-01\n  expires: 2027-01-01\n",
            "waivers[0].approver",
            "required",
        ),
        (WAIVERS.replace("risk: medium", "risk: sort-of"), "waivers[0].risk", "one of low, medium, high, critical"),
        (
            WAIVERS.replace(f"expires: {TODAY + dt.timedelta(days=10)}", "expires: next week", 1),
            "waivers[0].expires",
            "a date YYYY-MM-DD",
        ),
        (
            WAIVERS.replace("  risk: low", "  risk: low\n  reason: typo"),
            "waivers[2].reason",
            "there is no field 'reason'",
        ),
        ("check: GP-POST-002\n", "(top level)", "a list of waivers"),
        ("- [unclosed\n", "line 2", "valid YAML"),
    ],
)
def test_malformed_waiver_file_stops_before_any_check(
    tmp_path: Path, capsys: Any, text: str, field: str, expected: str
) -> None:
    path = tmp_path / "waivers.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_waivers(path)
    assert err.value.field == field and expected in err.value.expected and err.value.file == str(path)
    assert main(["audit", "--lab", "--waivers", str(path), "--reports", str(tmp_path / "r")]) == 3
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"gpverify: {err.value}"] and str(path) in lines[0] and field in lines[0]
    assert not (tmp_path / "r" / HISTORY_FILE).exists()  # nothing ran


def test_waiver_matching_rules() -> None:
    w_any = Waiver("GP-POST-002", "j", "a", "low", TODAY - dt.timedelta(days=1), TODAY + dt.timedelta(days=1))
    w_old = Waiver("GP-POST-001", "j", "a", "low", TODAY - dt.timedelta(days=9), TODAY, host="gp-web01")
    assert find_waiver([w_any], "gp-post-002", "gp-sh07", TODAY) == (w_any, "waived")
    assert find_waiver([w_old], "GP-POST-001", "GP-WEB01", TODAY) == (w_old, "expired")  # expires at 00:00
    assert find_waiver([w_old], "GP-POST-001", "gp-web02", TODAY) is None


@pytest.mark.skipif(
    CHROMIUM is None,
    reason=NO_CHROMIUM,
)
def test_report_renders_in_a_real_browser(waived: tuple[AuditRun, Path], tmp_path: Path) -> None:
    result, _ = waived
    html = Path(result.reports["html"]).resolve()
    proc = dump_dom(html, tmp_path / "profile", timeout=60)
    dom = proc.stdout
    assert proc.returncode == 0 and "</html>" in dom, proc.stderr[-2000:]
    # gpverify's own report: the administrator's columns, a waived failure shown as waived, with its waiver
    head = dom[dom.index('<table id="gpverify-results">') : dom.index("</thead>")]
    assert [h.split("<")[0] for h in head.split("<th>")[1:]] == [
        "ID",
        "Host",
        "Check",
        "Result",
        "Message",
        "Remediation",
        "Waiver",
    ]
    assert dom.count('<td class="col-waiver">') == len(result.results)
    rows = dom.split('<tr class="outcome-')[1:]
    sh02 = next(r for r in rows if 'data-check="GP-POST-002"' in r and ">gp-sh02<" in r)
    assert sh02.startswith("waived") and '<td class="col-result">waived</td>' in sh02
    assert "On each session host machine" in sh02 and "Start the Session Service" in sh02
    assert '<span class="gpv-waiver" style="color:#6a1b9a">WAIVED on gp-sh02 by jane.doe' in sh02
    assert "<details" in sh02 and "Facts judged" in sh02 and "data:" not in dom
    assert "EXPIRED" in dom
    for jargon in ("Expected failures", "Unexpected passes", "Reruns", "XFailed"):
        assert jargon not in dom
    # the picture of the farm, its machines linked to their rows
    assert '<div id="gpverify-farm-picture"><svg' in dom
    assert dom.index('id="gpverify-farm-picture"') < dom.index('<table id="gpverify-results">')
    assert 'href="#gpv-host-gp-sh02"' in dom and 'id="gpv-host-gp-sh02"' in dom
    assert "<h2>Changed since the last run</h2>" in dom and 'id="gpverify-newly-failing"' in dom
