"""What a review of the results path found: a custom check's dataclass evidence, a check whose clean-up breaks,
and sessions run one after another in one process."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import weakref
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


class _Keep:
    """Keeps a weak reference to each session's config."""

    def __init__(self) -> None:
        self.configs: list[weakref.ref[pytest.Config]] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        self.configs.append(weakref.ref(config))


def test_sessions_run_one_after_another_in_one_process_do_not_outlive_the_next() -> None:
    # The plugin freezes what a session loaded (fewer objects walked by each collection) and leaves it frozen for
    # a fast exit; a later session in the same process hands it back first, so none outlives the next one.
    checks = REPO / "checks" / "post"
    keep = _Keep()
    for _ in range(4):
        args = [str(checks), "--lab", "-q", "-k", "GP-POST-002", "-p", "no:cacheprovider"]
        assert pytest.main(args, plugins=[keep]) == 0
    gc.collect()
    alive = [ref() is not None for ref in keep.configs]
    # The last stays until another session (or the exit), and pytest itself may hold the first one (as it did
    # before gpverify froze anything); the sessions between are gone. Left frozen, all four were alive.
    assert sum(alive) <= 2 and not any(alive[1:3]), alive
