"""The plugin in another suite's pytest run: nothing of gpverify shows unless the run uses gpverify."""

from __future__ import annotations

import re
from importlib.metadata import requires
from pathlib import Path

import pytest

OTHER_SUITE = """
import pytest

@pytest.fixture(params=["a"])
def client(request):
    return request.param

def test_uses_its_own_client(client):
    assert client == "a"

def test_fails_on_purpose():
    assert 1 == 2
"""


def test_another_suites_run_and_report_stay_its_own(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_html")
    pytester.makepyfile(test_other=OTHER_SUITE)
    report = pytester.path / "report.html"
    result = pytester.runpytest_inprocess(f"--html={report}", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    html = report.read_text(encoding="utf-8")
    # pytest-metadata lists installed plugins (gpverify among them); nothing else of ours may show.
    for ours in ("gpverify:", "SIMULATED LAB", "col-checkid", "Farm:", "GP profile"):
        assert ours not in html, ours
    assert re.search(r"<h1[^>]*>report.html</h1>", html)  # pytest-html's own title
    assert (pytester.path / "assets").is_dir()  # not made self-contained behind the suite's back


def test_check_marker_is_registered_by_the_plugin(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_marked="""
        import pytest
        from gpverify import check

        @check("ACME-9", title="t", section="s", impact="low", remediation="r")
        def test_listed():
            pass
    """
    )
    result = pytester.runpytest_inprocess("--strict-markers", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    assert "ACME-9  test_marked.py::test_listed" in result.stdout.str()


def test_last_failed_works_with_the_plugin_loaded(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_other=OTHER_SUITE)
    pytester.runpytest_inprocess().assert_outcomes(passed=1, failed=1)
    again = pytester.runpytest_inprocess("--lf")
    again.assert_outcomes(failed=1)  # pytest's cache is not switched off


def test_testinfra_and_xdist_are_extras_not_requirements() -> None:
    reqs = requires("gpverify") or []
    runtime = [r for r in reqs if "extra ==" not in r]
    assert not [r for r in runtime if r.lower().startswith(("pytest-testinfra", "pytest-xdist"))], runtime
    assert any(r.startswith("pytest-testinfra") and 'extra == "bench"' in r for r in reqs), reqs
    assert any(r.startswith("pytest-xdist") and 'extra == "xdist"' in r for r in reqs), reqs


def test_pyproject_leaves_pytests_cache_on() -> None:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert "no:cacheprovider" not in text


def test_testinfras_hosts_is_never_taken_for_gpverifys_host(pytester: pytest.Pytester) -> None:
    """Refused whether pytest-testinfra is installed (the bench extra) or not: a typo must not go unnoticed."""
    from helpers.checks import CHECKS

    result = pytester.runpytest_inprocess(str(CHECKS / "post"), "--lab", "--hosts", "gp-sh01", "-p", "no:cacheprovider")
    assert result.ret in (3, pytest.ExitCode.USAGE_ERROR)  # gpverify's bad input, or pytest's unknown option
    assert "--hosts" in result.stderr.str()
