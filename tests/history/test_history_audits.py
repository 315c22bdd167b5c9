"""The audit and its history end to end on the lab: two farms in one reports folder, Ctrl-C, the history
page and baseline diff per farm, and every way a history can be unusable (exit 4, reports still written)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_harness import Labs, audit, load_json
from pg_cluster import Cluster, free_port
from sqlalchemy import text

from gpverify.cli.main import main
from gpverify.exitcodes import NOT_RECORDED as EXIT_NOT_RECORDED
from gpverify.history.store import History
from gpverify.history.target import HISTORY_FILE, PASSWORD_ENV
from gpverify.lab.runtime import LAB_FARM_ENV

SH02 = "GP-POST-002 gp-sh02"


def _start(labs: Labs, monkeypatch: pytest.MonkeyPatch, farm: str, scenario: str = "healthy") -> Path:
    monkeypatch.setenv(LAB_FARM_ENV, farm)
    return labs.start(scenario).inventory_path


def test_two_farms_audited_into_one_reports_folder_keep_separate_histories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    labs, reports = Labs(tmp_path / "labs"), tmp_path / "reports"
    try:
        contoso_1 = audit(reports, _start(labs, monkeypatch, "contoso"))
        fabrikam_1 = audit(reports, _start(labs, monkeypatch, "fabrikam", "session-service-stopped"))
        contoso_2 = audit(reports, _start(labs, monkeypatch, "contoso"))
    finally:
        labs.stop()
    assert (contoso_1.exit_code, fabrikam_1.exit_code, contoso_2.exit_code) == (0, 1, 0)
    # fabrikam's first audit is its own first: not "17 newly failing" against contoso's last run
    assert load_json(fabrikam_1)["changes_since_last_run"]["previous_run"] is None
    assert load_json(fabrikam_1)["farm"] == "fabrikam"
    changes = load_json(contoso_2)["changes_since_last_run"]
    assert changes["previous_run"] == contoso_1.run_id and changes["newly_failing"] == []
    assert changes["fact_drift"] == []

    capsys.readouterr()
    page = tmp_path / "history.html"
    assert main(["history", "--reports", str(reports), "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "farm: contoso" in out and "farm: fabrikam" in out
    html = page.read_text()
    assert 'href="#gpv-farm-contoso"' in html and 'href="#gpv-farm-fabrikam"' in html
    report = Path(fabrikam_1.reports["html"])
    assert f'<a href="reports/{report.name}">report</a>' in html  # each run linked to its report
    assert html.count('data-outcome="failed"') == 1

    assert main(["history", "--reports", str(reports), "--farm", "fabrikam"]) == 0
    out = capsys.readouterr().out
    assert "farm: contoso" not in out and next(line for line in out.splitlines() if SH02 in line).split()[-1] == "F"

    # baseline diff: only within one farm
    assert main(["baseline", "diff", str(contoso_1.run_id), str(fabrikam_1.run_id), "--reports", str(reports)]) == 3
    assert "two snapshots of one farm" in capsys.readouterr().err
    assert main(["baseline", "diff", str(contoso_1.run_id), "last", "--reports", str(reports)]) == 0
    assert f"to run #{contoso_2.run_id}" in capsys.readouterr().out
    assert main(["baseline", "diff", "last", "last", "--reports", str(reports)]) == 3
    assert "several ('contoso', 'fabrikam')" in capsys.readouterr().err
    assert main(["baseline", "diff", "last", "last", "--farm", "fabrikam", "--reports", str(reports)]) == 0


INTERRUPTING_CHECK = """import os

from gpverify.catalogue import check


@check('GP-POST-901', title='t', section='s', impact='low', remediation='r')
def test_fine():
    if os.environ.get('GPVERIFY_TEST_INTERRUPT'):
        raise KeyboardInterrupt  # what Ctrl-C raises in the middle of a check
"""


def test_a_run_stopped_by_ctrl_c_is_recorded_as_interrupted_and_never_compared_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = tmp_path / "checks" / "post"
    checks.mkdir(parents=True)
    (checks / "test_interrupt.py").write_text(INTERRUPTING_CHECK)
    labs, reports = Labs(tmp_path / "labs"), tmp_path / "reports"
    try:
        inventory = _start(labs, monkeypatch, "contoso")
        first = audit(reports, inventory, checks=tmp_path / "checks")
        monkeypatch.setenv("GPVERIFY_TEST_INTERRUPT", "1")
        stopped = audit(reports, inventory, checks=tmp_path / "checks")
        monkeypatch.delenv("GPVERIFY_TEST_INTERRUPT")
        third = audit(reports, inventory, checks=tmp_path / "checks")
    finally:
        labs.stop()
    assert first.exit_code == 0 and stopped.status == "interrupted" and stopped.exit_code == 2
    assert Path(stopped.reports["json"]).exists()
    assert load_json(third)["changes_since_last_run"]["previous_run"] == first.run_id
    with History(reports / HISTORY_FILE) as history:
        assert [(r.id, r.status) for r in history.runs()] == [
            (first.run_id, "passed"),
            (stopped.run_id, "interrupted"),
            (third.run_id, "passed"),
        ]


def _one_check(root: Path) -> Path:
    """A checks folder of one passing check: these tests are about the history, not the checks."""
    (root / "checks" / "post").mkdir(parents=True)
    (root / "checks" / "post" / "test_one.py").write_text(INTERRUPTING_CHECK)
    return root / "checks"


# --- a history that cannot be used: one message naming the setting, the reports still written, exit 4 ------


@pytest.fixture(scope="module")
def lab_inventory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    labs = Labs(tmp_path_factory.mktemp("history-bad-input"))
    try:
        yield labs.start("healthy").inventory_path
    finally:
        labs.stop()


def _newer_schema(url: str) -> str:
    with History(url if "://" not in url else _target(url)) as history, history.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    return url


def _target(url: str):  # type: ignore[no-untyped-def]
    from gpverify.history.target import resolve_target

    return resolve_target(url, setting="--history", reports=Path("."))


BAD = {
    "malformed": (lambda c, u: "postgresql://gpverify@127.0.0.1:notaport/history", "not a database URL"),
    "password-in-url": (lambda c, u: u.replace("gpverify@", f"gpverify:{c.password}@"), "the URL holds a password"),
    "unreachable": (
        lambda c, u: f"postgresql://gpverify@127.0.0.1:{free_port()}/history",
        "could not open the history at postgresql://gpverify@127.0.0.1:",
    ),
    "wrong-password": (lambda c, u: u, 'password authentication failed for user "gpverify"'),
    "newer-schema": (lambda c, u: _newer_schema(u), "version 9999, newer than this gpverify knows"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_an_unusable_history_is_one_message_and_exit_4_with_the_reports_written(
    case: str,
    lab_inventory: Path,
    pg_cluster: Cluster,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make, cause = BAD[case]
    url = make(pg_cluster, pg_url)
    if case == "wrong-password":
        monkeypatch.setenv(PASSWORD_ENV, "not-" + pg_cluster.password)
    capsys.readouterr()
    result = audit(tmp_path / "r", lab_inventory, history=url, checks=_one_check(tmp_path))
    out, err = capsys.readouterr()
    assert result.exit_code == EXIT_NOT_RECORDED == 4
    problems = [line for line in err.splitlines() if "could not record this run in the history" in line]
    assert len(problems) == 1 and "--history: " in problems[0] and cause in problems[0], err
    assert "Traceback" not in out + err
    doc = load_json(result)
    assert doc["run"] is None and doc["status"] == "passed" and len(doc["results"]) == len(result.results) > 0
    assert doc["exit_code"] == 4 and cause in doc["not_recorded"]
    for path in result.reports.values():
        assert Path(path).is_file() and "unrecorded" in path
    written = out + err + "".join(Path(p).read_text() for p in result.reports.values())
    assert pg_cluster.password not in written  # in no output, whatever went wrong


def test_the_inventory_history_setting_is_named_when_it_cannot_be_used(
    lab_inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A history setting that can never work is bad input of the inventory (issue 23: validated at load, and by
    `inventory check`): exit 3 before anything runs, naming the file and field."""
    inventory = tmp_path / "farm.yml"
    inventory.write_text(lab_inventory.read_text() + "history: postgresql://gpverify@/history\n")
    assert main(["audit", "--inventory", str(inventory), "--reports", str(tmp_path / "r")]) == 3
    err = capsys.readouterr().err
    assert f"{inventory}: history: expected postgresql://USER@HOST" in err and "the URL has no host" in err
    assert not list((tmp_path / "r").glob("audit-*"))
    assert main(["inventory", "check", str(inventory)]) == 3
    assert "history: expected" in capsys.readouterr().out


def test_an_audit_records_its_run_on_postgresql(lab_inventory: Path, pg_url: str, tmp_path: Path) -> None:
    result = audit(tmp_path / "r", lab_inventory, history=pg_url, checks=_one_check(tmp_path))
    assert result.exit_code == 0 and result.run_id == 1
    assert not (tmp_path / "r" / HISTORY_FILE).exists()  # nothing in the local SQLite default
    with History(_target(pg_url)) as history:
        run = history.run(1)
    assert run is not None and run.status == "passed" and len(run.results) == len(result.results)
    assert run.reports["html"] == str(Path(result.reports["html"]).resolve())
    assert json.loads(Path(result.reports["json"]).read_text())["run"] == 1
