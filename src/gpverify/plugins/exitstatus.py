"""The exit status of a pytest run that checks a farm, from gpverify's one table (gpverify.exitcodes)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from gpverify.exitcodes import ExitCode, for_outcomes
from gpverify.outcomes import Outcome
from gpverify.results import CheckResult


def exit_code(pytest_status: int, outcomes: Iterable[Outcome], *, broken: bool = False) -> ExitCode:
    """gpverify's code for a session pytest ended with `pytest_status`, its checks having ended with `outcomes`.

    pytest's own codes mean other things (its 2 is "interrupted", 3 "internal error", 4 "usage error", 5 "no tests
    collected"), so only the outcomes decide, and a session that stopped or broke could not run what it did not
    reach."""
    if isinstance(pytest_status, ExitCode):
        return pytest_status  # gpverify's own ending: bad input raised through pytest.exit by the plugin
    if pytest_status == pytest.ExitCode.USAGE_ERROR:  # e.g. a -k expression pytest cannot parse
        return ExitCode.BAD_INPUT
    broken = broken or pytest_status in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR)
    return for_outcomes(outcomes, broken=broken)


class ExitStatus:
    """Sees every test's outcome (the check's record where there is one) and sets the session's exit status."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self.broken = False  # a checks file could not be collected

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.broken = self.broken or report.failed

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # The controller of a pytest-xdist run sees the workers' reports here too, each carrying its record.
        record = CheckResult.of(report)
        if record is not None:
            self.outcomes.append(record.outcome)
        elif report.failed:  # a test that is not a check (a site's own), or a check's teardown
            self.outcomes.append(Outcome.FAILED if report.when == "call" else Outcome.ERROR)
        elif report.when == "call":
            self.outcomes.append(Outcome.PASSED if report.passed else Outcome.SKIPPED)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # session.exitstatus is what pytest.main returns (pytest documents setting it here); the exitstatus
        # argument keeps pytest's own value for the hooks that read it.
        session.exitstatus = exit_code(exitstatus, self.outcomes, broken=self.broken)


def pytest_configure(config: pytest.Config) -> None:
    """Only in runs that check a farm (--inventory, --lab, or `gpverify run`'s --check-phase)."""
    if any(config.getoption(name, None) for name in ("inventory", "lab", "check_phase")):
        config.pluginmanager.register(ExitStatus(), "gpverify-exitstatus")
