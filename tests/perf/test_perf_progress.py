"""The collection progress line: drawn on a terminal only, quiet in pipes, CI and xdist workers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gpverify.errors import HostUnavailable
from gpverify.plugins.progress import CollectProgress, interactive

CHECKS = Path(__file__).resolve().parents[2] / "checks"


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_not_a_tty() -> None:
    stream = io.StringIO()
    progress = CollectProgress(3, stream)
    assert not progress.enabled
    for name in ("a", "b", "c"):
        progress.update(name, object())
    progress.close()
    assert stream.getvalue() == ""
    assert progress.done == 3


@pytest.mark.parametrize("env", [{"CI": "true"}, {"CI": "1"}, {"TERM": "dumb"}, {"PYTEST_XDIST_WORKER": "gw0"}])
def test_quiet_in_ci_and_workers_even_on_a_tty(env: dict[str, str]) -> None:
    assert not interactive(FakeTty(), env)


def test_draws_hosts_done_and_failures_on_a_tty() -> None:
    stream = FakeTty()
    progress = CollectProgress(3, stream, enabled=interactive(stream, {"CI": "false"}), interval=0)
    assert progress.enabled
    progress.update("gp-cl01", object())
    progress.update("gp-cl02", HostUnavailable("gp-cl02", "connection refused"))
    progress.update("gp-cl03", object())
    progress.close()
    text = stream.getvalue()
    assert "1/3 hosts, 0 failed" in text and "3/3 hosts, 1 failed" in text
    assert progress.failed == ["gp-cl02"]
    assert text.endswith("\r\x1b[K")  # transient: the line is erased when collection ends


def test_back_to_pytests_line_after_drawing_below_it() -> None:
    stream = FakeTty()
    with CollectProgress(1, stream, enabled=True, resume_column=31) as progress:
        progress.update("gp-web01", object())
    assert stream.getvalue().startswith("\n\r")
    assert stream.getvalue().endswith("\r\x1b[K\x1b[1A\x1b[31C")


def test_a_checks_run_in_a_pipe_shows_no_progress(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess(str(CHECKS / "post" / "test_services.py"), "--lab", "healthy",
                                           "-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    assert result.ret == 0
    assert "gpverify facts" not in result.stdout.str() + result.stderr.str()
