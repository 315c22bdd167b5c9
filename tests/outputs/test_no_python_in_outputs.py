"""No Python in anything an administrator reads (issue 22 item 2): every output of a failing, a not-verified and
an erroring run, searched for file names, test ids, tracebacks and exception class names.

Outputs: the terminal of `gpverify run` and of plain `pytest checks/...`, pytest-html's report (as a browser shows
it), gpverify's own report, JUnit, the audit's terminal, HTML and JSON, the history page and listing, the fleet
page, and the sign-off record. Test ids and file paths belong to --gpverify-debug only.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.browser import CHROMIUM, NO_CHROMIUM, dump_dom

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"
# scenario -> what the run shows: a failed check, checks not verified (the healthy lab has them), an unreachable host
RUNS = {"failing": "session-service-stopped", "not verified": "healthy", "erroring": "host-unreachable"}
PYTHON = re.compile(r"\.py\b|site-packages|Traceback|::test_|\b[A-Z]\w*(?:Error|Exception):")


def python_in(text: str) -> list[str]:
    """Each line that shows Python: a file, a test id, a traceback or an exception's class name."""
    return [line.strip()[:300] for line in text.splitlines() if PYTHON.search(line)]


def visible(page: Path, folder: Path) -> str:
    """What a browser shows of a page: its text after scripts ran (pytest-html draws its rows with JavaScript),
    without markup, scripts or styles (data attributes are not read by an administrator)."""
    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    proc = dump_dom(page, folder / "chromium")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", proc.stdout, flags=re.DOTALL | re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "\n", dom))


def command(*args: str, cwd: Path, program: tuple[str, ...] = ("-m", "gpverify.cli.main")) -> str:
    proc = subprocess.run(
        [sys.executable, *program, *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert "INTERNALERROR" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every output of the three runs, by name ("failing: gpverify run terminal", ...)."""
    texts: dict[str, str] = {}
    reports = tmp_path_factory.mktemp("audits")  # one history for the three audits
    for kind, scenario in RUNS.items():
        folder = tmp_path_factory.mktemp(kind.replace(" ", "-"))  # an empty folder, as an administrator's
        texts[f"{kind}: gpverify run terminal"] = command(
            "run",
            "post",
            "--lab",
            scenario,
            f"--html={folder / 'pytest-html.html'}",
            f"--junitxml={folder / 'junit.xml'}",
            f"--gpverify-html={folder / 'gpverify.html'}",
            cwd=folder,
        )
        texts[f"{kind}: pytest-html"] = visible(folder / "pytest-html.html", folder)
        texts[f"{kind}: JUnit"] = (folder / "junit.xml").read_text(encoding="utf-8")
        texts[f"{kind}: gpverify report"] = visible(folder / "gpverify.html", folder)
        texts[f"{kind}: pytest terminal"] = command(
            str(CHECKS / "post"), "--lab", scenario, "-p", "no:cacheprovider", cwd=REPO, program=("-m", "pytest")
        )
        texts[f"{kind}: audit terminal"] = command("audit", "--lab", scenario, "--reports", str(reports), cwd=folder)
        run = max(reports.glob("audit-*-run*.json"))
        texts[f"{kind}: audit JSON"] = run.read_text(encoding="utf-8")
        texts[f"{kind}: audit HTML"] = visible(run.with_suffix(".html"), folder)
        texts[f"{kind}: audit JUnit"] = run.with_suffix(".xml").read_text(encoding="utf-8")
        texts[f"{kind}: sign-off record"] = _sign_off(
            scenario, tmp_path_factory.mktemp("signoff-" + kind.replace(" ", "-"))
        )
    texts["history terminal"] = command(
        "history", "--reports", str(reports), "--html", str(reports / "history.html"), cwd=reports
    )
    texts["history page"] = visible(reports / "history.html", reports)
    command("fleet", "--reports", str(reports), "--output", str(reports / "fleet.html"), cwd=reports)
    texts["fleet page"] = visible(reports / "fleet.html", reports)
    return texts


def _sign_off(scenario: str, folder: Path) -> str:
    """The sign-off record of an upgrade run whose post gate ran on the scenario."""
    from gpverify.cli.main import main
    from gpverify.lab.runtime import temporary_lab
    from gpverify.runner.gates import run_gate
    from gpverify.runner.plan import Phase, Plan
    from gpverify.runner.state import RunState

    with temporary_lab(scenario) as lab:
        state = RunState.create(
            folder,
            inventory=str(lab.inventory_path),
            plan_source="built-in",
            plan=Plan(phases=[Phase(phase="post", steps=[])]).model_dump(mode="json"),
            lab={"scenario": scenario},
        )
        state.mark("gate-post", "started", phase="post")
        result = run_gate(CHECKS, "post", None, lab.inventory_path, state.folder, "gate-post")
        state.mark(
            "gate-post",
            "passed" if result.passed else "failed",
            exit_code=result.exit_code,
            report=result.report.name,
            results=result.results.name,
            failed_checks=result.lines(),
        )
        state.set(status="complete" if result.passed else "stopped", stopped_at=None if result.passed else "gate-post")
    assert main(["report", state.run_id, "--reports", str(folder)]) in (0, 2)  # complete, or not: both recorded
    record = state.folder / "verification-record.html"
    return visible(record, folder) + "\n" + (state.folder / "gate-post.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", list(RUNS))
def test_no_python_in_any_output_of_the_run(outputs: dict[str, str], kind: str) -> None:
    found = {name: lines for name, text in outputs.items() if name.startswith(kind) and (lines := python_in(text))}
    assert not found, found


def test_no_python_in_the_history_and_fleet_pages(outputs: dict[str, str]) -> None:
    found = {name: lines for name, text in outputs.items() if ":" not in name and (lines := python_in(text))}
    assert not found, found


def test_the_outputs_name_checks_by_id_host_and_title(outputs: dict[str, str]) -> None:
    """The same run, read where the node id used to be: the check's ID, the host and the guide's words."""
    for name in (
        "failing: gpverify run terminal",
        "failing: pytest-html",
        "failing: gpverify report",
        "failing: audit HTML",
        "failing: pytest terminal",
    ):
        assert re.search(r"GP-POST-002\s+gp-sh02", outputs[name]), name
        assert "verify that the Session Service is running" in outputs[name], name
    assert "GP-POST-002 gp-sh02" in outputs["history terminal"] and "GP-POST-002 gp-sh02" in outputs["history page"]


def test_the_search_finds_python_where_there_is_some() -> None:
    """The search itself: each form it looks for is found (a test that cannot fail is a defect)."""
    for line in (
        "checks/post/test_services.py",
        "/usr/lib/python3/site-packages/gpverify",
        "Traceback (most recent",
        "x::test_session_service_is_running[GP-POST-002]",
        "AttributeError: 'NoneType' object",
        "gpverify.verdicts.NotVerifiedException: x",
    ):
        assert python_in(line), line
    assert not python_in("GP-POST-002 gp-sh02  passed  On each session host machine, verify ...")
