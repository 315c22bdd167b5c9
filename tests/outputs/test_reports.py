"""gpverify's HTML report of a gate (checked in headless Chromium) and the sign-off record of a run."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpverify.cli.main import main
from gpverify.runner.gates import GateResult, run_gate
from gpverify.runner.plan import Phase, Plan, Step
from gpverify.runner.state import RunState, now
from helpers.browser import CHROMIUM, NO_CHROMIUM, dump_dom

REPO = Path(__file__).resolve().parents[2]
PLAN = Plan(
    phases=[
        Phase(
            phase="post",
            steps=[
                Step(
                    id="restart-session-service",
                    kind="manual",
                    host="gp-sh02",
                    title="Start the Session Service on gp-sh02",
                    instructions=["Start the service."],
                )
            ],
        )
    ]
)


@pytest.fixture(scope="module")
def failed_gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunState, GateResult]]:
    """A run folder whose post gate ran on the lab with the Session Service stopped on gp-sh02."""
    from gpverify.lab.runtime import temporary_lab

    reports = tmp_path_factory.mktemp("reports")
    with temporary_lab("session-service-stopped") as lab:
        state = RunState.create(
            reports,
            inventory=str(lab.inventory_path),
            plan_source="built-in",
            plan=PLAN.model_dump(mode="json"),
            lab={"scenario": "session-service-stopped"},
        )
        state.mark(
            "restart-session-service", "started", kind="manual", host="gp-sh02", title=PLAN.phases[0].steps[0].title
        )
        state.mark(
            "restart-session-service",
            "done",
            confirmed_by="Jane Doe",
            confirmed_at=now(),
            confirmed_how="typed at the terminal",
            confirmed_account="jdoe",
        )
        state.mark("gate-post", "started", phase="post")
        result = run_gate(REPO / "checks", "post", None, lab.inventory_path, state.folder, "gate-post")
        state.mark(
            "gate-post",
            "failed",
            exit_code=result.exit_code,
            report=result.report.name,
            results=result.results.name,
            failed_checks=result.lines(),
        )
        state.set(status="stopped", stopped_at="gate-post", message="gate gate-post failed")
        yield state, result


def test_gate_names_the_failed_check_in_operator_words(failed_gate: tuple[RunState, GateResult]) -> None:
    _, result = failed_gate
    assert result.exit_code == 1 and not result.passed
    assert len(result.lines()) == 1 and result.problems == [], result.lines()
    line = result.lines()[0]
    assert line.startswith("GP-POST-002 gp-sh02 (failed): ")
    found, remediation = line.split(" -- Remediation: ")
    assert found.endswith(" is Stopped, expected Running") and "gp-sh02:" not in line
    assert remediation.startswith("Start the Session Service (GPWebClientSessionServices) on this session host")
    assert [r.check for r in result.failing] == ["GP-POST-002"]
    assert result.counts_text.startswith("1 failed, ") and "passed" in result.counts_text


def test_a_resumed_gate_keeps_the_earlier_report(failed_gate: tuple[RunState, GateResult], tmp_path: Path) -> None:
    _, first = failed_gate
    from gpverify.lab.runtime import temporary_lab

    with temporary_lab("healthy") as lab:
        again = run_gate(REPO / "checks", "post", None, lab.inventory_path, tmp_path, "gate-post", attempt=2)
    assert again.passed and again.report.name == "gate-post.attempt2.html"
    assert first.report.exists()


@pytest.mark.skipif(
    CHROMIUM is None,
    reason=NO_CHROMIUM,
)
def test_gate_report_in_a_real_browser(failed_gate: tuple[RunState, GateResult], tmp_path: Path) -> None:
    _, result = failed_gate
    proc = dump_dom(result.report, tmp_path / "profile", timeout=60)
    dom = proc.stdout
    assert proc.returncode == 0 and "</html>" in dom, proc.stderr[-2000:]
    head = dom[dom.index('<table id="gpverify-results">') : dom.index("</thead>")]
    assert [h.split("<")[0] for h in head.split("<th>")[1:]] == [
        "ID",
        "Host",
        "Check",
        "Result",
        "Message",
        "Remediation",
    ]
    first = dom.split('<tr class="outcome-')[1]  # what must be acted on comes first
    assert first.startswith("failed") and ">gp-sh02<" in first and '<td class="col-result">failed</td>' in first
    assert "is Stopped, expected Running" in first and "Start the Session Service" in first
    assert '<details class="gpv-facts"><summary>Facts judged (1)</summary>' in first and '"Stopped"' in first
    assert 'id="gpverify-connectivity"' in dom and "gp-sh02</b> (session host): reached" in dom
    assert "data:" not in dom and "SIMULATED LAB" in dom
    for jargon in ("Expected failures", "Unexpected passes", "Reruns", "XFailed", "Skipped: "):
        assert jargon not in dom


def test_unreachable_host_is_one_connectivity_line_not_an_error_per_check(tmp_path: Path) -> None:
    from gpverify.lab.runtime import temporary_lab

    with temporary_lab("host-unreachable") as lab:
        result = run_gate(REPO / "checks", "post", None, lab.inventory_path, tmp_path, "gate-post")
    html = result.report.read_text()
    assert html.count("could not be read:") == 1 and 'class="unreachable" data-host="gp-sh02"' in html
    assert "Not checked: gp-sh02 could not be read (see Connectivity above)." in html


def test_sign_off_record(
    failed_gate: tuple[RunState, GateResult], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state, _ = failed_gate
    waivers = tmp_path / "waivers.yml"
    waivers.write_text(
        "waivers:\n  - check: GP-POST-002\n    host: gp-sh02\n    justification: rebuilt this week\n"
        "    approver: jane.doe\n    risk: medium\n    created: 2026-11-20\n    expires: 2099-12-01\n"
    )
    code = main(["report", state.run_id, "--reports", str(state.folder.parent), "--waivers", str(waivers)])
    out = capsys.readouterr().out
    assert code == 2, out  # a stopped run: not complete
    assert "NOT COMPLETE - DO NOT SIGN" in out
    html = (state.folder / "verification-record.html").read_text()
    assert "Upgrade verification record" in html and "gpverify simulated lab" in html
    assert "Jane Doe" in html and "entered at the console of jdoe" in html and "restart-session-service" in html
    assert "Gate gate-post: Checks that the upgraded farm works &mdash; failed" in html
    assert "GP-POST-002" in html and "is Stopped, expected Running" in html
    assert "2099-12-01" in html and "rebuilt this week" in html
    assert "@media print" in html
    # the digest covers every evidence file; recomputing it from the files gives the same value
    lines = "".join(
        f"{hashlib.sha256((state.folder / name).read_bytes()).hexdigest()}  {name}\n"
        for name in sorted(["state.json", "gate-post.html", "gate-post.results.json", "gate-post.log"])
    )
    assert hashlib.sha256(lines.encode()).hexdigest() in html
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        assert "PDF: not written" in out
    else:
        assert (state.folder / "verification-record.pdf").read_bytes().startswith(b"%PDF")


def test_report_of_an_unknown_run_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "no-such-run", "--reports", str(tmp_path)]) == 3
    assert "no-such-run" in capsys.readouterr().err


def test_an_unreachable_host_is_one_drift_line() -> None:
    from gpverify.audit.drift import fact_drift

    reached = {
        "gp-sh02": {
            "services": {"session_service": [{"name": "S", "status": "Running"}]},
            "files": {"dynamics_exe": {"path": "C:/x", "version": "18.4"}},
        }
    }
    gone = {"gp-sh02": {"unavailable": "connection refused"}}
    drifts = fact_drift(reached, gone)
    assert [d.text() for d in drifts] == ["gp-sh02: (reachability): 'reached' -> 'connection refused'"]
    assert [d.text() for d in fact_drift(gone, reached)] == [
        "gp-sh02: (reachability): 'connection refused' -> 'reached'"
    ]
    assert fact_drift(gone, gone) == []
