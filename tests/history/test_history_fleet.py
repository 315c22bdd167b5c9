"""Many runners, one PostgreSQL history: eight `gpverify audit --lab` processes for eight farms at once, then
`gpverify fleet` (JSON, and the HTML page as headless Chromium renders it)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from pg_cluster import Cluster

from gpverify.cli.main import main
from gpverify.history.fleet import fleet_rows
from gpverify.history.store import History
from gpverify.history.target import PASSWORD_ENV, resolve_target
from gpverify.lab.runtime import LAB_FARM_ENV
from gpverify.report.history import fleet_html
from helpers.browser import CHROMIUM, NO_CHROMIUM, dump_dom

FARMS = 8
STOPPED = {3, 6}  # these farms' labs have a stopped Session Service (GP-POST-002, critical)


@dataclass
class Fleet:
    url: str
    root: Path
    password: str
    documents: dict[str, dict[str, Any]]  # farm -> the audit's own JSON report
    outputs: dict[str, str]  # farm -> what the process printed

    def history(self) -> History:
        target = resolve_target(self.url, setting="--history", reports=self.root)
        return History(replace(target, password=self.password))


# The checks these audits run (from ./checks of their working folder, as `gpverify audit` looks there first):
# two, so that eight processes at once stay quick; GP-POST-901 fails where the lab's Session Service is stopped.
CHECKS = """import os

from gpverify.catalogue import check


@check('GP-POST-901', title='Session Service', section='s', impact='critical', remediation='Start it.')
def test_session_service():
    assert os.environ.get('GPVERIFY_LAB_SCENARIO') != 'session-service-stopped', 'the Session Service is Stopped'


@check('GP-POST-902', title='Other', section='s', impact='low', remediation='r')
def test_other():
    pass
"""


def _audit_process(url: str, farm: str, scenario: str, reports: Path, password: str) -> subprocess.Popen[str]:
    checks = reports.parent.parent / "checks" / "post"
    if not checks.is_dir():
        checks.mkdir(parents=True)
        (checks / "test_fleet.py").write_text(CHECKS)
    reports.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        LAB_FARM_ENV: farm,
        PASSWORD_ENV: password,
        "GPVERIFY_SITE": f"site-{farm}",
        "GPVERIFY_LAB_SCENARIO": scenario,
        # The in-process lab sets and then deletes NTLM_USER_FILE around each authentication
        # (gpverify/lab/wsman/auth.py) while the audit's threads iterate os.environ (requests' proxy lookup):
        # under load a KeyError ends the run. With the variable already set it is only ever reassigned.
        # Client-side NTLM with a password never reads the file. A lab race, not a history one.
        "NTLM_USER_FILE": os.devnull,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gpverify.cli.main",
            "audit",
            "--lab",
            scenario,
            "--history",
            url,
            "--reports",
            str(reports),
        ],
        env=env,
        cwd=reports.parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def fleet(pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("fleet")
    url = pg_cluster.new_database("fleet")
    procs = {
        f"farm-{n}": _audit_process(
            url,
            f"farm-{n}",
            "session-service-stopped" if n in STOPPED else "healthy",
            root / f"farm-{n}" / "reports",
            pg_cluster.password,
        )
        for n in range(1, FARMS + 1)
    }
    outputs = {farm: proc.communicate(timeout=240)[0] for farm, proc in procs.items()}
    codes = {farm: proc.returncode for farm, proc in procs.items()}
    expected = {f"farm-{n}": 1 if n in STOPPED else 0 for n in range(1, FARMS + 1)}
    assert codes == expected, "\n".join(
        f"{f} exit {c}: {outputs[f][-2500:]}" for f, c in codes.items() if c != expected[f]
    )
    documents = {farm: json.loads(next((root / farm / "reports").glob("audit-*.json")).read_text()) for farm in procs}
    yield Fleet(url, root, pg_cluster.password, documents, outputs)


def test_eight_concurrent_audits_each_recorded_once_and_none_mixed(fleet: Fleet) -> None:
    with fleet.history() as history:
        runs = history.runs(100, full=True)
        assert sorted(r.farm for r in runs) == sorted(fleet.documents)  # one run per farm, none lost or doubled
        for run in runs:
            doc = fleet.documents[run.farm]
            assert run.id == doc["run"] and run.site == f"site-{run.farm}" and run.status == doc["status"]
            assert {r["name"]: r["outcome"] for r in doc["results"]} == {
                r.name: r.outcome for r in run.results.values()
            }
            # the facts are this farm's own: only the labs of STOPPED farms have gp-sh02's service stopped
            service = run.facts["gp-sh02"]["services"]["session_service"][0]["status"]
            assert service == ("Stopped" if doc["status"] == "failed" else "Running")
            assert run.reports["html"].startswith(str(fleet.root / run.farm / "reports"))
    for farm, out in fleet.outputs.items():
        assert fleet.password not in out and "Traceback" not in out, (farm, out)


def test_fleet_json_lists_every_farm_with_its_last_audit(
    fleet: Fleet, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, fleet.password)
    capsys.readouterr()
    assert main(["fleet", "--history", fleet.url, "--format", "json", "--reports", str(fleet.root)]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["farm"]: r for r in doc["farms"]}
    assert sorted(rows) == sorted(fleet.documents) and doc["history"] == fleet.url
    failing = [f"farm-{n}" for n in sorted(STOPPED)]
    assert [r["farm"] for r in doc["farms"]][: len(failing)] == failing  # problems first
    for farm, row in rows.items():
        assert row["run"] == fleet.documents[farm]["run"] and row["silent"] is False and row["age_seconds"] < 600
        assert row["site"] == f"site-{farm}" and row["report_href"].startswith("file://")
        expected_failed = 1 if farm in failing else 0
        assert row["counts"].get("failed", 0) == expected_failed
        assert row["worst_impact"] == ("critical" if farm in failing else None)
        assert row["newly_failing"] == 0  # each farm's first audit: nothing to compare with
    assert fleet.password not in json.dumps(doc)


def test_a_farm_that_breaks_shows_as_newly_failing_and_old_audits_as_silent(fleet: Fleet) -> None:
    proc = _audit_process(
        fleet.url, "farm-1", "session-service-stopped", fleet.root / "farm-1" / "again", fleet.password
    )
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 1, out
    with fleet.history() as history:
        rows = {r.farm: r for r in fleet_rows(history)}
        later = {r.farm: r for r in fleet_rows(history, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=40))}
    assert rows["farm-1"].newly_failing == 1 and rows["farm-1"].worst_impact == "critical"
    assert rows["farm-1"].run == FARMS + 1 and not rows["farm-1"].silent
    assert all(r.silent for r in later.values()) and later["farm-2"].age.startswith("40 h")


@pytest.mark.skipif(
    CHROMIUM is None,
    reason=NO_CHROMIUM,
)
def test_the_fleet_page_in_a_real_browser(fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, fleet.password)
    page = tmp_path / "fleet.html"
    assert main(["fleet", "--history", fleet.url, "--output", str(page)]) == 0
    # A second page written as if 30 h ago, with one farm's last audit 40 h ago: opened now, the browser must
    # work out the ages again and flag that farm as silent (the page itself said 10 h, not silent).
    with fleet.history() as history, history.engine.begin() as conn:
        from sqlalchemy import text

        old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
        conn.execute(text("UPDATE runs SET finished = :old WHERE farm = 'farm-2'"), {"old": old})
    with fleet.history() as history:
        then = dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)
        rows = fleet_rows(history, now=then, page_dir=tmp_path)
    stale = tmp_path / "stale.html"
    stale.write_text(fleet_html(rows, history=fleet.url, now=then, silent_after=dt.timedelta(hours=36)))
    assert 'data-farm="farm-2" data-finished="' + old + '"\n    data-silent="false"' in stale.read_text()

    dom = _render(page, tmp_path / "p1")
    assert dom.count('<tr class="farm') == FARMS
    assert dom.count('class="col-impact impact-critical">critical</td>') == len(STOPPED | {1})
    assert dom.count(">report</a></td>") == FARMS  # every report is on this machine: linked
    assert "(this browser's clock)" in dom  # the page's script ran
    row = dom[dom.index('data-farm="farm-1"') :].split("</tr>", 1)[0]
    assert '<td class="col-newly-failing">1</td>' in row and '<td class="col-failed">1</td>' in row
    assert fleet.password not in dom

    dom = _render(stale, tmp_path / "p2")
    row = dom[dom.index('data-farm="farm-2"') :].split("</tr>", 1)[0]
    assert 'data-silent="true"' in row and '<span class="flag">SILENT</span>' in row and ">40 h 0 min<" in row
    others = [r for r in dom.split('<tr class="farm')[1:] if 'data-farm="farm-2"' not in r]
    assert len(others) == FARMS - 1 and all('data-silent="false"' in r for r in others)


def _render(page: Path, profile: Path) -> str:
    proc = dump_dom(page, profile, timeout=60)
    assert proc.returncode == 0 and "</html>" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout
