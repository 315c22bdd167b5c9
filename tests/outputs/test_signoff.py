"""The sign-off record (`gpverify report`) of real lab upgrades: its verdict on page one, who confirmed each manual
step, every result a signer must read, and how it looks in headless Chromium and as a PDF (pdftoppm, pdftotext)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest
from markupsafe import escape

from gpverify.outcomes import Outcome
from gpverify.report.signoff import PlanItem, build_record, record_time
from gpverify.results import CheckResult, without_host
from gpverify.runner.state import RunState, now
from helpers.browser import CHROMIUM, NO_CHROMIUM, chromium
from helpers.runner import gpverify, only_run, state

PDFTOPPM, PDFTOTEXT = shutil.which("pdftoppm"), shutil.which("pdftotext")
NEEDS_POPPLER = pytest.mark.skipif(
    not (PDFTOPPM and PDFTOTEXT),
    reason="poppler-utils is not installed (Debian: apt-get install poppler-utils; `make test` installs it)",
)
NEEDS_CHROMIUM = pytest.mark.skipif(
    CHROMIUM is None,
    reason=NO_CHROMIUM,
)
TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")
RED, GREEN = (0xB0, 0x00, 0x20), (0x2E, 0x7D, 0x32)  # the verdict's border: not complete, complete


@dataclass
class Run:
    folder: Path
    upgrade: subprocess.CompletedProcess[str]
    report: subprocess.CompletedProcess[str]

    @property
    def html(self) -> str:
        return (self.folder / "verification-record.html").read_text(encoding="utf-8")

    @property
    def pdf(self) -> Path:
        return self.folder / "verification-record.pdf"


def _upgrade_and_report(reports: Path, *upgrade: str) -> Run:
    up = gpverify("upgrade", *upgrade, reports=reports)
    folder = only_run(reports)
    return Run(folder, up, gpverify("report", folder.name, reports=reports))


@pytest.fixture(scope="module")
def complete(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _upgrade_and_report(tmp_path_factory.mktemp("complete"), "--lab", "--yes", "--confirmed-by", "Jane Doe")


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _upgrade_and_report(
        tmp_path_factory.mktemp("stopped"), "--lab", "upgrade-host-fails", "--yes", "--confirmed-by", "Jane Doe"
    )


def first_page(html: str) -> str:
    """What comes before the steps table, which starts the second printed page."""
    return html[: html.index('<h2 class="newpage">')]


def test_a_complete_run_is_complete_and_names_its_confirmer(complete: Run) -> None:
    assert complete.upgrade.returncode == 0, complete.upgrade.stdout[-3000:]
    assert complete.report.returncode == 0, complete.report.stdout + complete.report.stderr
    assert "verification record of run" in complete.report.stdout and ": COMPLETE" in complete.report.stdout
    html, page_one = complete.html, first_page(complete.html)
    assert '<div class="headline">COMPLETE</div>' in page_one and "DO NOT SIGN" not in html
    # The one manual step of the lab's plan names the person; the account it was typed under is the second line.
    backup = state(complete.folder)["items"]["backup-databases"]
    assert backup["confirmed_by"] == "Jane Doe"
    assert f'Jane Doe<br><span class="detail">entered at the console of {backup["confirmed_account"]}' in html
    assert "GP administrator" in html and "Change approver" in html  # signature lines on a complete record


def test_page_one_counts_each_gate_by_outcome(complete: Run) -> None:
    page_one = first_page(complete.html)
    counts = page_one[page_one.index('<table id="counts">') :]
    counts = counts[: counts.index("</table>")]
    header = re.findall(r'<th class="num" style="color: (#\w+)">([^<]+)</th>', counts)
    assert [label for _, label in header] == ["not verified", "does not apply", "passed"]
    assert all(colour == Outcome(word if word != "does not apply" else "skipped").colour for colour, word in header)
    assert "gate-post" in counts and "Checks that the upgraded farm works" in counts
    # every gate of the run has its row; no step has one
    data = state(complete.folder)
    gates = [i for i in data["items"] if i.startswith("gate-")]
    assert re.findall(r'<tr><td class="nowrap">([\w.-]+)</td>', counts) == gates


def test_every_not_verified_result_is_listed_with_its_reason(complete: Run) -> None:
    page_one = first_page(complete.html)
    to_read = page_one[page_one.index('<table id="to-read">') :]
    results = [
        CheckResult.from_dict(r)
        for f in complete.folder.glob("gate-*.results.json")
        for r in json.loads(f.read_text())["results"]
    ]
    not_verified = [r for r in results if r.outcome is Outcome.NOT_VERIFIED]
    assert not_verified
    for r in not_verified:  # one row per check and reason, naming every host it was not verified on
        rows = [row for row in to_read.split("</tr>") if f'<td class="nowrap">{r.check}</td>' in row]
        assert any(str(escape(without_host(r.message, r.host))) in row and (r.host or "") in row for row in rows), r


def test_steps_and_gates_are_shown_as_what_they_are(complete: Run) -> None:
    html = complete.html
    steps = html[html.index('<table id="steps">') :]
    steps = steps[: steps.index("</table>")]
    assert "No results recorded" not in html
    assert 'backup-databases<br><span class="detail">Manual step</span>' in steps
    assert 'upgrade-gp-sh01<br><span class="detail">Remote command on gp-sh01</span>' in steps
    assert 'gate-post<br><span class="detail">Gate</span>' in steps
    # a gate section for each gate only
    sections = re.findall(r"<h3>Gate ([\w.-]+):", html)
    assert sections == [i for i in state(complete.folder)["items"] if i.startswith("gate-")]


def test_times_are_to_the_second_with_the_zone(complete: Run) -> None:
    html = complete.html
    assert TIME.search(html)
    assert not re.search(r"\d\d:\d\d:\d\d\.\d{3}", html)  # the state's milliseconds stay out
    assert not re.search(r"T\d\d:\d\d:\d\d", html)  # and so does ISO's T
    assert record_time("2026-12-06T20:48:32.692+00:00", timezone(timedelta(hours=1))) == "2026-12-06 21:48:32 UTC+01:00"
    assert record_time("2026-12-06T20:48:32.692+00:00", UTC) == "2026-12-06 20:48:32 UTC"


def test_a_stopped_run_says_do_not_sign_and_exits_2(stopped: Run) -> None:
    assert stopped.upgrade.returncode == 1, stopped.upgrade.stdout[-3000:]
    assert stopped.report.returncode == 2, stopped.report.stdout + stopped.report.stderr
    assert "NOT COMPLETE - DO NOT SIGN" in stopped.report.stdout
    html, page_one = stopped.html, first_page(stopped.html)
    assert '<div class="headline">NOT COMPLETE - DO NOT SIGN</div>' in page_one
    assert "The run is stopped at gate-hosts-gp-sh02" in page_one
    stopping = page_one[page_one.index('<table id="stopping">') :]
    assert "GP-HOST-004" in stopping and "gp-sh02" in stopping and "is Stopped, expected Running" in stopping
    assert "Change approver" not in html and "no signature lines" in html


@pytest.mark.parametrize("status", ["interrupted", "running", "incomplete"])
def test_an_unfinished_run_is_not_complete(tmp_path: Path, status: str) -> None:
    folder = _run_folder(tmp_path, status=status, confirmed={"confirmed_account": "jdoe"})
    record = build_record(folder, RunState.load(tmp_path, folder.name).data, PLAN)
    assert not record.verdict.complete and record.verdict.headline == "NOT COMPLETE - DO NOT SIGN"
    assert "Change approver" not in record.html()


def test_a_manual_step_confirmed_without_a_name_is_not_complete(tmp_path: Path) -> None:
    """Runs made before --confirmed-by kept only the operating system account: that is not a person."""
    folder = _run_folder(tmp_path, status="complete", confirmed={})
    record = build_record(folder, RunState.load(tmp_path, folder.name).data, PLAN)
    assert not record.verdict.complete
    assert record.verdict.reasons == [
        "attest was confirmed without a person's name (gpverify upgrade --confirmed-by NAME)."
    ]
    assert "no person named" in record.html()


def test_attested_waived_and_warned_results_are_listed_never_as_verified(tmp_path: Path) -> None:
    folder = _run_folder(tmp_path, status="complete", confirmed={"confirmed_account": "jdoe", "answer": "yes"})
    record = build_record(folder, RunState.load(tmp_path, folder.name).data, PLAN)
    assert record.verdict.complete, record.verdict.reasons
    assert [t.result.outcome for t in record.to_read] == [Outcome.ATTESTED, Outcome.WAIVED, Outcome.WARNING]
    html = record.html()
    to_read = html[html.index('<table id="to-read">') : html.index('<h2 class="newpage">')]
    attested = to_read[to_read.index(f'style="color: {Outcome.ATTESTED.colour}">attested</td>') :]
    assert "Jane Doe confirmed in Session Management" in attested.split("</tr>")[0]
    assert "approved by" not in to_read and "waived by J. Smith until 2099-01-01: rebuilt" in to_read
    assert "answered &#39;yes&#39;" in html
    counts = html[html.index('<table id="counts">') :]
    assert ">attested</th>" in counts.split("</table>")[0]


@NEEDS_POPPLER
@pytest.mark.parametrize("which", ["stopped", "complete"])
def test_the_pdf_gives_the_verdict_on_page_one(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    run: Run = request.getfixturevalue(which)
    pytest.importorskip("weasyprint", reason="the pdf extra is not installed (pip install 'gpverify[pdf]')")
    assert run.pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        [str(PDFTOTEXT), "-f", "1", "-l", "1", str(run.pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    if which == "stopped":
        assert "NOT COMPLETE - DO NOT SIGN" in text and "What stopped the run" in text
    else:
        assert "COMPLETE" in text.split() and "DO NOT SIGN" not in text
    assert "Results by gate" in text and "gate-post" in text and "Record written" in text
    last = subprocess.run(
        [str(PDFTOTEXT), "-f", "2", str(run.pdf), "-"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert ("Change approver" in last) == (which == "complete")
    subprocess.run(
        [str(PDFTOPPM), "-f", "1", "-l", "1", "-r", "50", "-png", str(run.pdf), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    (png,) = tmp_path.glob("page*.png")
    _assert_drawn(png, RED if which == "stopped" else GREEN)


@NEEDS_CHROMIUM
def test_the_html_in_a_real_browser(stopped: Run, tmp_path: Path) -> None:
    shot = tmp_path / "record.png"
    proc = chromium(
        "--window-size=1200,1400",
        f"--screenshot={shot}",
        stopped.folder.joinpath("verification-record.html").as_uri(),
        profile=tmp_path / "profile",
    )
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    _assert_drawn(shot, RED)


def _assert_drawn(png: Path, verdict_colour: tuple[int, int, int]) -> None:
    """Not blank: text and tables drawn, and the verdict's border in its colour."""
    image = pytest.importorskip("PIL.Image").open(png).convert("RGB")
    colours = image.getcolors(image.width * image.height)  # (count, colour) of every colour drawn
    inked = sum(n for n, p in colours if sum(p) < 600) / (image.width * image.height)
    near = sum(n for n, p in colours if all(abs(a - b) < 40 for a, b in zip(p, verdict_colour, strict=True)))
    assert inked > 0.02, f"{png.name}: only {inked:.1%} of the page is drawn"
    assert near > 500, f"{png.name}: the verdict's colour {verdict_colour} is missing ({near} pixels)"


# --- a run folder made by hand, for what the lab's plan has no step for -------------------------------------------

PLAN = [
    PlanItem("attest", "manual", "Confirm in Session Management that every session host is listed", "post"),
    PlanItem("gate-post", "gate", "checks/post", "post"),
]


def _run_folder(reports: Path, *, status: str, confirmed: dict[str, str]) -> Path:
    st = RunState.create(reports, inventory="inv.yml", plan_source="site/plan.yml")
    st.mark("attest", "started", kind="manual", title=PLAN[0].title)
    st.mark(
        "attest",
        "done",
        confirmed_by="Jane Doe" if confirmed else "root",
        confirmed_at=now(),
        confirmed_how="typed at the terminal",
        **confirmed,
    )
    rows = [
        CheckResult(
            "GP-POST-003",
            "t1",
            "gp-sh01",
            Outcome.ATTESTED,
            "Jane Doe confirmed in Session Management "
            "that gp-sh01 is listed and not suspended (2026-12-06 21:00:00 UTC)",
            title="Listed",
        ),
        CheckResult(
            "GP-POST-002",
            "t2",
            "gp-sh02",
            Outcome.WAIVED,
            "GP Session Services is Stopped",
            title="Session Service",
            waiver={"approver": "J. Smith", "expires": "2099-01-01", "justification": "rebuilt"},
        ),
        CheckResult(
            "GP-POST-006", "t3", "gp-web01", Outcome.WARNING, "the certificate expires in 20 days", title="Certificate"
        ),
        CheckResult("GP-POST-001", "t4", "gp-sh01", Outcome.PASSED, "", title="Running"),
    ]
    (st.folder / "gate-post.results.json").write_text(json.dumps({"results": [r.as_dict() for r in rows]}))
    st.mark("gate-post", "started", phase="post")
    st.mark("gate-post", "passed", results="gate-post.results.json", report="gate-post.html")
    st.set(status=status)
    return st.folder


@pytest.mark.parametrize(
    ("run_id", "expected"), [("", "a run of gpverify upgrade"), ("../elsewhere", "the name of a run")]
)
def test_a_report_without_a_run_names_the_report_command_not_resume(tmp_path: Path, run_id: str, expected: str) -> None:
    proc = gpverify("report", *([run_id] if run_id else []), reports=tmp_path)
    assert proc.returncode == 3
    assert proc.stderr.strip().startswith("gpverify: gpverify report: RUN-ID: expected " + expected), proc.stderr
    assert "--resume" not in proc.stderr
