"""The collection progress bar (rich): drawn on an interactive terminal only, quiet in pipes, CI and xdist workers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gpverify.errors import HostUnavailable
from gpverify.plugins.progress import LABEL, collect_progress, interactive

CHECKS = Path(__file__).resolve().parents[2] / "checks"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_not_a_tty() -> None:
    """No bar, and no callback: nothing to call for each host where nothing is drawn."""
    stream = io.StringIO()
    with collect_progress(3, stream) as done:
        assert done is None
    assert stream.getvalue() == ""


@pytest.mark.parametrize("env", [{"CI": "true"}, {"CI": "1"}, {"TERM": "dumb"}, {"PYTEST_XDIST_WORKER": "gw0"}])
def test_quiet_in_ci_and_workers_even_on_a_tty(env: dict[str, str]) -> None:
    assert not interactive(FakeTty(), env)
    assert interactive(FakeTty(), {"CI": "false"})


def test_draws_hosts_done_and_failures_then_erases_itself() -> None:
    stream = FakeTty()
    with collect_progress(3, stream, enabled=True) as done:
        done("gp-cl01", object())
        done("gp-cl02", HostUnavailable("gp-cl02", "connection refused"))
        done("gp-cl03", object())
    text = stream.getvalue()
    assert LABEL in text and "3/3" in text and "1 failed" in text
    assert text.endswith("\r\x1b[1A\x1b[2K")  # transient: the bar's line is erased when collection ends


def test_a_checks_run_in_a_pipe_shows_no_progress(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(
        str(CHECKS / "post" / "test_services.py"),
        "--lab",
        "healthy",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:hypothesispytest",
    )
    assert result.ret == 0
    assert LABEL not in result.stdout.str() + result.stderr.str()
