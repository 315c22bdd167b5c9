"""The nightly audit end to end on the lab: changes since the last run, history, drift, baseline, exit codes,
--wait, notifications, and nothing but the read-only collector sent to the farm."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from audit_harness import (  # noqa: F401 - fixtures
    audit,
    by_name,
    http_sink_fixture,
    labs_fixture,
    load_json,
    received_kinds,
    smtp_sink_fixture,
)

from gpverify.cli.main import main
from gpverify.history.store import HISTORY_FILE, History
from gpverify.lab.wsman import CommandOutput

REPO = Path(__file__).resolve().parents[2]

SH02 = "GP-POST-002 gp-sh02"
SH01 = "GP-POST-002 gp-sh01"


def _sql_digest(lab) -> str:  # type: ignore[no-untyped-def]
    digest = hashlib.sha256()
    for path in sorted((lab.workdir / "sql").glob("*.sqlite")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_two_audits_show_what_changed_and_the_history(labs, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    reports = tmp_path / "reports"
    healthy = labs.start("healthy")
    first = audit(reports, healthy.inventory_path)
    assert first.exit_code == 0, first.results
    assert received_kinds(healthy) == {"collector"}

    stopped = labs.start("session-service-stopped")
    sql_before = _sql_digest(stopped)
    second = audit(reports, stopped.inventory_path)
    assert second.exit_code == 1
    # the audit sends only the read-only collector, and leaves the SQL databases as they were
    assert received_kinds(stopped) == {"collector"}
    assert all(len(h.received) == 1 for h in stopped.hosts.values()), "one collector run per host"
    assert _sql_digest(stopped) == sql_before

    doc = load_json(second)
    changes = doc["changes_since_last_run"]
    assert changes["previous_run"] == first.run_id
    assert [(e["check"], e["host"]) for e in changes["newly_failing"]] == [("GP-POST-002", "gp-sh02")]
    assert changes["fixed"] == [] and changes["still_failing"] == []
    assert {(d["host"], d["fact"], d["before"], d["after"]) for d in changes["fact_drift"]} == {
        ("gp-sh02", "services.session_service[GPWebClientSessionServices].status", "Running", "Stopped")
    }
    failed = by_name(doc)[SH02]
    assert failed["outcome"] == "failed" and "Stopped" in failed["message"]
    assert failed["evidence"]["gp-sh02: services.session_service"][0]["status"] == "Stopped"

    html = Path(second.reports["html"]).read_text()
    section = html[html.index('id="gpverify-changes"') :]
    newly = section[section.index('id="gpverify-newly-failing"') : section.index('id="gpverify-fixed"')]
    assert "Changed since the last run" in section and "GP-POST-002" in newly and "gp-sh02" in newly
    assert "gpverify-farm-picture" in html and 'data-host="gp-sh02" data-outcome="failed"' in html

    # a third audit on the healthy farm: fixed
    third = audit(reports, labs.start("healthy").inventory_path)
    assert [e["name"] for e in load_json(third)["changes_since_last_run"]["fixed"]] == [SH02]

    capsys.readouterr()
    assert main(["history", "--reports", str(reports), "--html", str(tmp_path / "history.html")]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if SH02 in line)
    assert row.split()[-3:] == ["P", "F", "P"]
    page = (tmp_path / "history.html").read_text()
    assert page.count('data-outcome="failed"') == 1 and "<svg" in page

    assert main(["baseline", "diff", str(first.run_id), str(second.run_id), "--reports", str(reports)]) == 0
    assert (
        "gp-sh02: services.session_service[GPWebClientSessionServices].status: 'Running' -> 'Stopped'"
        in capsys.readouterr().out
    )


def test_fact_drift_is_reported_even_when_checks_pass_and_baseline_drift(labs, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    reports = tmp_path / "reports"
    overlay = tmp_path / "account-changed.yml"
    overlay.write_text(
        "description: the Session Service on gp-sh01 now runs as another account\n"
        "hosts:\n  gp-sh01:\n    services: {session_service: {account: 'LAB\\svc-other'}}\n"
    )
    healthy = labs.start("healthy")
    assert main(["baseline", "capture", "--inventory", str(healthy.inventory_path), "--reports", str(reports)]) == 0
    assert "baseline 'default' captured" in capsys.readouterr().out
    audit(reports, healthy.inventory_path)
    result = audit(reports, labs.start(overlay).inventory_path)
    assert result.exit_code == 0
    doc = load_json(result)
    fact = "services.session_service[GPWebClientSessionServices].account"
    expected = [
        {"host": "gp-sh01", "fact": fact, "before": "LAB\\svc-gpweb", "after": "LAB\\svc-other", "kind": "changed"}
    ]
    assert doc["changes_since_last_run"]["fact_drift"] == expected
    assert doc["changes_since_last_run"]["newly_failing"] == []
    assert doc["baseline"]["drift"] == expected
    html = Path(result.reports["html"]).read_text()
    assert "LAB\\svc-other" in html[html.index('id="gpverify-drift-table"') :]
    assert 'id="gpverify-baseline-table"' in html
    capsys.readouterr()
    assert main(["baseline", "diff", "baseline", "last", "--reports", str(reports)]) == 0
    assert f"gp-sh01: {fact}: 'LAB\\\\svc-gpweb' -> 'LAB\\\\svc-other'" in capsys.readouterr().out

    # "what did the upgrade change": a pre-upgrade snapshot against the post-upgrade baseline
    pre = labs.start("before-upgrade")
    assert (
        main(
            [
                "baseline",
                "capture",
                "--inventory",
                str(pre.inventory_path),
                "--name",
                "pre-upgrade",
                "--reports",
                str(reports),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["baseline", "diff", "baseline:pre-upgrade", "baseline", "--reports", str(reports)]) == 0
    out = capsys.readouterr().out
    assert "gp-web01: products.web_components[Microsoft Dynamics GP Web Components].version: '18.3.1173' -> " in out
    assert received_kinds(pre) == {"collector"}


def test_exit_code_2_when_checks_could_not_run(labs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = audit(tmp_path / "r", labs.start("host-unreachable").inventory_path)
    assert result.exit_code == 2 and result.status == "error"
    errors = [r.as_dict() for r in result.results if r.outcome == "error"]
    assert errors and all(r["host"] == "gp-sh02" for r in errors)
    assert "gp-sh02" in errors[0]["message"]
    assert load_json(result)["exit_code"] == 2


def test_exit_code_3_on_bad_input_and_nothing_recorded(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    reports = tmp_path / "r"
    assert main(["audit", "--inventory", str(tmp_path / "missing.yml"), "--reports", str(reports)]) == 3
    assert main(["audit", "--lab", "no-such-scenario", "--reports", str(reports)]) == 3
    assert main(["audit", "--lab", "--notify-smtp", "nohost", "--reports", str(reports)]) == 3
    err = capsys.readouterr().err
    assert "missing.yml" in err and "no-such-scenario" in err and "HOST:PORT" in err
    assert not (reports / HISTORY_FILE).exists()


def test_nightly_wrapper_on_the_lab_shows_the_injected_change(tmp_path: Path) -> None:
    """deploy/gpverify-audit.sh (systemd and cron run it) twice, with a change injected between the runs."""
    reports = tmp_path / "r"
    codes = []
    for scenario in ("healthy", "session-service-stopped"):
        env = {
            **os.environ,
            "GPVERIFY_AUDIT_ENV": "/dev/null",
            "GPVERIFY_REPORTS": str(reports),
            "GPVERIFY_AUDIT_ARGS": f"--lab {scenario}",
        }
        codes.append(
            subprocess.run([str(REPO / "deploy" / "gpverify-audit.sh")], env=env, timeout=120, check=False).returncode
        )
    assert codes == [0, 1]
    log = (reports / "audit.log").read_text()
    assert "gpverify audit #1: PASSED (exit 0)" in log and "gpverify audit #2: FAILED (exit 1)" in log
    assert "changed since run #1: 1 newly failing, 0 fixed" in log
    assert "newly failing: GP-POST-002 gp-sh02: On each session host machine" in log
    for suffix in ("html", "xml", "json"):
        assert len(list(reports.glob(f"audit-*-run2.{suffix}"))) == 1
    with History(reports / HISTORY_FILE) as history:
        assert [(r.id, r.status, r.exit_code) for r in history.runs()] == [(1, "passed", 0), (2, "failed", 1)]


def test_wait_rechecks_a_service_until_it_starts(labs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lab = labs.start("session-service-stopped")
    handler = lab.hosts["gp-sh02"]
    service, answer = handler.host.services["session_service"], handler.run
    read: list[str] = []  # the service's status in each collector answer gp-sh02 gave, in order

    def run_then_start(command_line: str, stdin: bytes) -> CommandOutput:
        # The service starts once a collector run has read it stopped: set by what the audit has seen (the lab's
        # own request log), never by a wall-clock delay, which a busy machine's slow audit can outrun.
        status = service.status
        output = answer(command_line, stdin)
        if handler.received and handler.received[-1].kind == "collector":
            read.append(status)
            service.status = "Running"
        return output

    handler.run = run_then_start  # type: ignore[method-assign]
    result = audit(tmp_path / "r", lab.inventory_path, wait=30, wait_interval=0.5)
    # One collector run per round: the first read the service stopped, the wait's second round read it running.
    assert read == ["Stopped", "Running"]
    assert result.exit_code == 0, result.results
    assert result.rounds == 2 and 0 < result.waited < 30
    assert received_kinds(lab) == {"collector"}
    doc = load_json(result)
    assert doc["rounds"] == result.rounds and doc["waited_seconds"] > 0
    assert "Waited" in Path(result.reports["html"]).read_text()


def test_wait_gives_up_when_time_is_up(labs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = audit(tmp_path / "r", labs.start("session-service-stopped").inventory_path, wait=1, wait_interval=0.5)
    assert result.exit_code == 1 and result.rounds >= 2


def test_notifies_webhook_and_email_when_the_outcome_changes(labs, http_sink, smtp_sink, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reports = tmp_path / "r"
    notify = {"notify_webhook": http_sink.url, "notify_smtp": smtp_sink.address, "notify_to": "ops@example.com"}
    healthy = labs.start("healthy")
    audit(reports, healthy.inventory_path, **notify)  # first audit: reported
    assert len(http_sink.received) == 1 and len(smtp_sink.messages) == 1
    audit(reports, healthy.inventory_path, **notify)  # same outcome: nothing sent
    assert len(http_sink.received) == 1 and len(smtp_sink.messages) == 1
    result = audit(reports, labs.start("session-service-stopped").inventory_path, **notify)
    assert "webhook: sent" in result.notifications[0] and "email: sent" in result.notifications[1]
    hook = http_sink.received[-1]  # apprise's JSON (apprise/plugins/custom_json.py), the change attached
    assert http_sink.paths[-1] == "/hook"
    assert hook["type"] == "failure" and "FAILED" in hook["title"] and SH02 in hook["message"]
    [attached] = hook["attachments"]
    assert attached["filename"] == "gpverify-audit.json" and attached["mimetype"] == "application/json"
    change = json.loads(base64.b64decode(attached["base64"]))
    assert change["status"] == "failed" and change["previous_status"] == "passed" and change["run"] == result.run_id
    assert [e["name"] for e in change["newly_failing"]] == [SH02]
    mail = smtp_sink.messages[-1]
    assert mail["to"] == ["<ops@example.com>"]
    assert "FAILED" in mail["data"] and "GP-POST-002" in mail["data"]
    assert 'filename="gpverify-audit.json"' in mail["data"]


def test_unreachable_notification_does_not_change_the_exit_code(labs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = audit(tmp_path / "r", labs.start("healthy").inventory_path, notify_webhook="http://127.0.0.1:9/none")
    assert result.exit_code == 0 and "NOT sent" in result.notifications[0]


@pytest.mark.parametrize("scenario", ["healthy"])
def test_json_results_carry_check_host_outcome_message_and_facts(labs, tmp_path: Path, scenario: str) -> None:  # type: ignore[no-untyped-def]
    doc = load_json(audit(tmp_path / "r", labs.start(scenario).inventory_path))
    row = by_name(doc)[SH01]
    assert {"check", "name", "host", "outcome", "message", "evidence", "waiver"} <= set(row) and "test" not in row
    assert (row["check"], row["host"], row["outcome"], row["waiver"]) == ("GP-POST-002", "gp-sh01", "passed", None)
    assert doc["changes_since_last_run"]["previous_run"] is None


def test_a_check_file_that_cannot_load_is_exit_2_while_the_others_run(labs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    checks = tmp_path / "checks" / "post"
    checks.mkdir(parents=True)
    (checks / "test_fine.py").write_text(
        "from gpverify.catalogue import check\n\n"
        "@check('GP-POST-901', title='t', section='s', impact='low', remediation='r')\n"
        "def test_fine():\n    pass\n"
    )
    (checks / "test_broken.py").write_text("import gpverify_no_such_module\n")
    result = audit(tmp_path / "r", labs.start("healthy").inventory_path, checks=tmp_path / "checks")
    assert result.exit_code == 2
    doc = load_json(result)
    assert [(r["check"], r["outcome"]) for r in doc["results"]] == [("GP-POST-901", "passed")]
    assert "test_broken.py" in doc["collection_errors"][0]
