"""Loaded into a gate's pytest with -p: writes every check's outcome to the JSON file given by --gate-results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gpverify.outcomes import outcome_of

# One gate is one pytest process, so a module-level list is this run's results.
_RESULTS: list[dict[str, Any]] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--gate-results", default=None, help="(gpverify upgrade) write check outcomes to this JSON file")


def _message(report: pytest.TestReport) -> str:
    text = report.longreprtext or ""
    errors = [ln[1:].strip().removeprefix("AssertionError: ") for ln in text.splitlines() if ln.startswith("E ")]
    if errors:
        return errors[0]
    if isinstance(report.longrepr, tuple):  # a skip: (file, line, reason)
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not (report.when == "call" or not report.passed):
        return
    outcome = outcome_of(report)
    props = dict(report.user_properties)
    _RESULTS.append({"nodeid": report.nodeid, "outcome": outcome, "check_id": props.get("check_id", ""),
                     "message": "" if outcome == "passed" else str(props.get("gpverify_message") or _message(report))})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("gate_results")
    if path:
        Path(path).write_text(json.dumps({"exit_status": int(exitstatus), "results": _RESULTS}, indent=1),
                              encoding="utf-8")
