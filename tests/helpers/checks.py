"""Run a checks folder against a lab scenario through pytest itself (pytester), and read the outcomes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from gpverify.results import CheckResult

REPO = Path(__file__).resolve().parents[2]
CHECKS = REPO / "checks"


CHECK_ID_PARAM = re.compile(r"\[[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d{3}(-|\])")


class CheckRun:
    """Outcome of one pytest run of the checks: outcomes per test id, and the report text."""

    def __init__(self, result: pytest.RunResult, junit: Path) -> None:
        self.result = result
        self.ret = int(result.ret)
        self.text = result.stdout.str()
        self.junit = junit.read_text() if junit.exists() else ""
        reports = result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
        self.outcomes: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        self.sentences: dict[str, str] = {}
        for rep in reports:
            # Keyed by test name and host as before check IDs joined the test id ("test_x[GP-POST-002-gp-sh02]").
            nodeid = CHECK_ID_PARAM.sub(lambda m: "[" if m.group(1) == "-" else "", rep.nodeid.split("::", 1)[-1])
            if rep.when == "call" or not rep.passed:
                outcome = getattr(rep, "gpverify_outcome", None) or (
                    "error" if rep.when != "call" and rep.failed else rep.outcome
                )
                self.outcomes[nodeid] = outcome
                self.messages[nodeid] = str(rep.longrepr or "")
                record = CheckResult.of(rep)
                if record is not None:
                    self.sentences[nodeid] = record.message  # the check's sentence, no pytest framing

    def with_outcome(self, outcome: str) -> list[str]:
        return sorted(t for t, o in self.outcomes.items() if o == outcome)


@pytest.fixture
def run_checks(pytester: pytest.Pytester, tmp_path: Path) -> Callable[..., CheckRun]:
    """run_checks("post", "--lab", "session-service-stopped") -> CheckRun (in-process, real pywinrm/pyodbc)."""

    def run(phase: str, *args: str) -> CheckRun:
        junit = tmp_path / f"junit-{phase}.xml"
        target = CHECKS / phase if phase else CHECKS
        result = pytester.runpytest_inprocess(
            str(target),
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            "-W",
            "ignore::DeprecationWarning",
            "-p",
            "no:hypothesispytest",
            *args,
        )
        return CheckRun(result, junit)

    return run
