"""What a review of the results path found: a custom check's dataclass evidence, a check whose clean-up breaks,
and sessions run one after another in one process."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gpverify.config.redact import Redactor

REPO = Path(__file__).resolve().parents[2]

CHECKS = """
from dataclasses import dataclass

import pytest

from gpverify.catalogue import check
from gpverify.session import evidence


@dataclass
class Version:
    major: int
    minor: int
    note: str


@pytest.fixture
def breaks_on_clean_up():
    yield
    raise RuntimeError("the clean-up broke")


@check("ACME-001", title="The product version is read.", section="Site", impact="low", remediation="Read it.")
def test_version_as_a_dataclass(request):
    evidence(request.node)["gp-sh01: product.version"] = Version(18, 4, "secret-{password}")


@check("ACME-002", title="A check whose fixture breaks on clean-up.", section="Site", impact="low", remediation="-")
def test_passes_then_its_clean_up_breaks(breaks_on_clean_up):
    pass
"""


def _site(tmp_path: Path) -> Path:
    folder = tmp_path / "site_checks"
    folder.mkdir()
    (folder / "test_acme.py").write_text(CHECKS.replace("{password}", "x"), encoding="utf-8")
    return folder


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(folder), "--lab", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
         *args],
        cwd=folder.parent, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_dataclass_evidence_and_a_broken_clean_up_are_each_one_result(tmp_path: Path, workers: list[str]) -> None:
    html = tmp_path / "report.html"
    proc = _run(_site(tmp_path), *workers, f"--gpverify-html={html}")
    assert "INTERNALERROR" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-2000:]
    # The clean-up that broke makes its check "could not run", counted once, in the terminal and the HTML report.
    assert "gpverify: 2 check result(s): 1 could not run, 1 passed" in proc.stdout, proc.stdout[-3000:]
    page = html.read_text(encoding="utf-8")
    assert page.count('data-check="ACME-002"') == 1 and page.count('data-check="ACME-001"') == 1
    assert "&#34;major&#34;: 18" in page or '"major": 18' in page  # the dataclass as its fields, not its repr


@dataclass
class _Cert:
    thumbprint: str
    password: str


def test_the_redactor_turns_a_dataclass_into_its_fields_masked() -> None:
    data = Redactor(["s3cret"]).data({"cert": _Cert("AB12", "s3cret"), "list": [_Cert("CD34", "x-s3cret")]})
    assert json.dumps(data)  # plain data: what JSON and pytest-xdist carry
    assert data["cert"]["thumbprint"] == "AB12" and "s3cret" not in json.dumps(data)


def test_sessions_run_one_after_another_in_one_process_leave_nothing_frozen() -> None:
    # The plugin freezes what a session loaded (fewer objects walked by each collection) and hands it back when
    # the session is cleaned up: a process running many sessions (pytester, an embedding tool) keeps none.
    checks = REPO / "checks" / "post"
    for _ in range(2):
        assert pytest.main([str(checks), "--lab", "-q", "-k", "GP-POST-002", "-p", "no:cacheprovider"]) == 0
        assert gc.get_freeze_count() == 0
