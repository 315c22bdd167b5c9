"""The whole upgrade on the lab: `gpverify demo` green, and a failing session host stopping the run at its gate."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from helpers.runner import LAB_PASSWORD, gpverify, only_run, state

GATES = [
    "gate-pre",
    "gate-web",
    "gate-hosts-gp-sh01",
    "gate-hosts-gp-sh02",
    "gate-post",
    "gate-hosts-registered",
    "gate-clients",
]


def journal(run: Path) -> Counter[tuple[str, str]]:
    entries = json.loads((run / "lab-journal.json").read_text())
    return Counter((e["host"], e["action"]) for e in entries if "action" in e)


def test_demo_upgrades_the_lab_from_before_upgrade_to_green(reports: Path) -> None:
    proc = gpverify("demo", reports=reports)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = only_run(reports)
    data = state(run)
    assert data["status"] == "complete"
    assert [i for i, e in data["items"].items() if e["status"] not in ("done", "passed")] == []
    for gate in GATES:
        assert data["items"][gate]["status"] == "passed", (gate, data["items"][gate]["failed_checks"])
        assert (run / data["items"][gate]["report"]).is_file()
    html = (run / "summary.html").read_text()
    assert all(f'href="{g}.html"' in html for g in GATES)
    assert "upgrade-gp-sh02" in (run / "summary.txt").read_text()
    # The rolling order of the guide: each session host's gate before the next host is touched.
    order = [h["item"] for h in data["history"] if h["status"] == "started"]
    assert order.index("gate-hosts-gp-sh01") < order.index("upgrade-gp-sh02") < order.index("gate-post")
    # Each host's registration with the new configuration (GP-HOST-003) is verified once Session Central restarted.
    assert order.index("restart-session-central-gp-web01") < order.index("gate-hosts-registered")
    registered = json.loads((run / "gate-hosts-registered.results.json").read_text())
    assert sorted((r["check"], r["host"], r["outcome"]) for r in registered["results"]) == [
        ("GP-HOST-003", "gp-sh01", "passed"),
        ("GP-HOST-003", "gp-sh02", "passed"),
    ], registered
    assert set(journal(run).values()) == {1}  # every install ran exactly once
    assert f"{run.resolve()}/" in proc.stdout and "summary.html" in proc.stdout
    for name in ("state.json", "summary.txt", "summary.html", "lab-journal.json"):
        assert LAB_PASSWORD not in (run / name).read_text()


def test_failing_host_stops_at_its_gate_and_resumes_green(reports: Path) -> None:
    first = gpverify("upgrade", "--lab", "upgrade-host-fails", "--yes", "--confirmed-by", "Jane Doe", reports=reports)
    assert first.returncode == 1, first.stdout + first.stderr
    run = only_run(reports)
    data = state(run)
    assert (data["status"], data["stopped_at"]) == ("stopped", "gate-hosts-gp-sh02")
    failed = data["items"]["gate-hosts-gp-sh02"]["failed_checks"]
    assert any("gp-sh02" in f and "Session Service" in f for f in failed), failed
    assert "STOPPED: gate gate-hosts-gp-sh02 failed" in first.stdout
    assert f"gpverify upgrade --resume {data['run_id']}" in first.stdout
    assert "gate-post" not in data["items"] and "client-gp-cl01" not in data["items"]
    before = journal(run)

    # --yes: the run still has manual steps after the hosts (Session Central restarted after the last one).
    second = gpverify(
        "upgrade", "--resume", "--lab-clear-faults", "--yes", "--confirmed-by", "Jane Doe", reports=reports
    )
    assert second.returncode == 0, second.stdout + second.stderr
    data = state(run)
    assert data["status"] == "complete"
    assert "[done]   upgrade-gp-sh02 (completed earlier, not repeated)" in second.stdout
    steps = {i: e for i, e in data["items"].items() if not i.startswith("gate-")}
    # The attestation is asked only when the post gate could not verify Session Management; here it verified it.
    attest = steps.pop("attest-session-management")
    assert (attest["status"], attest["attempts"], attest.get("attested")) == ("done", 0, None)
    assert {i: e["attempts"] for i, e in steps.items() if e["attempts"] != 1} == {}
    assert data["items"]["gate-hosts-gp-sh02"]["attempts"] == 2
    after = journal(run)
    assert set(after.values()) == {1} and set(before) <= set(after)  # no install repeated on the lab
    assert ("gp-cl01", "clear-browser-cache") in after


def test_manual_steps_on_the_lab_are_carried_out_when_confirmed(tmp_path: Path, reports: Path) -> None:
    plan = tmp_path / "plan.yml"
    plan.write_text("""
phases:
  - phase: web
    steps:
      - {id: web-server, kind: manual, host: gp-web01, title: Upgrade the web server, action: web-components,
         instructions: [Setup.exe > Web Components > Install > upgrade; run the configuration wizard.]}
      - {id: web-help, kind: manual, host: gp-web01, title: Web Client Help, action: web-client-help,
         instructions: [Run the help installer.]}
""")
    proc = gpverify("upgrade", "--lab", "--plan", str(plan), "--yes", "--confirmed-by", "Jane Doe", reports=reports)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = state(only_run(reports))
    assert data["items"]["gate-web"]["status"] == "passed"
    assert data["items"]["web-server"]["lab"] == "the lab carried out web-components on gp-web01 (exit 0)"
