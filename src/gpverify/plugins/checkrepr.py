"""How a check's pytest report reads: its outcome and its sentence, built without pytest's traceback formatting."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gpverify import session
from gpverify.catalogue import CheckInfo
from gpverify.errors import FactsUnavailable
from gpverify.outcomes import Outcome
from gpverify.results import CheckResult, assertion_message, skip_sentence, without_host
from gpverify.verdicts import BASIS, ENDINGS, Attested, CheckWarning, NotVerified

# Exceptions whose report gpverify builds itself. pytest formats a traceback for every failed call (source,
# locals, the assertion's rewritten explanation) before any plugin sees the report, and gpverify would throw it
# away: 1,000 unreachable hosts took 69 s for one check. These carry their own sentence, so the report is made
# from the item alone (pytest.TestReport.from_item_and_call on a call that raised nothing), public API only.
QUICK = (FactsUnavailable, *ENDINGS)
SKIPS = (NotVerified, Attested)  # endings pytest reports as a skip: neither reads as verified


def judged(exc: BaseException) -> bool:
    """A check's failure: an assert or pytest.fail. Anything else raised by a check is its own defect."""
    return isinstance(exc, (AssertionError, pytest.fail.Exception))


def classify(call: pytest.CallInfo[None]) -> Outcome | None:
    """The gpverify outcome a call ended with, or None for pytest's own (passed, skipped, or setup's errors)."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if exc is None or isinstance(exc, pytest.skip.Exception) and not isinstance(exc, SKIPS):
        return None
    if isinstance(exc, ENDINGS):
        return exc.outcome
    if isinstance(exc, FactsUnavailable) or not judged(exc):
        return Outcome.ERROR  # nothing was judged: a host unread, or the check itself broke
    return Outcome.FAILED if call.when == "call" else Outcome.ERROR


def build(item: pytest.Item, call: pytest.CallInfo[None], *, debug: bool) -> pytest.TestReport:
    """The report of one phase of a check; pytest builds it (with its traceback) only where one is wanted."""
    exc = call.excinfo.value if call.excinfo is not None else None
    quick = isinstance(exc, QUICK) or (exc is not None and not debug and judged(exc))
    if not quick:
        report = pytest.TestReport.from_item_and_call(item, call)
    else:
        report = pytest.TestReport.from_item_and_call(item, pytest.CallInfo.from_call(lambda: None, call.when))
        report.duration, report.start, report.stop = call.duration, call.start, call.stop
        report.outcome = (
            "skipped" if isinstance(exc, SKIPS) else "passed" if isinstance(exc, CheckWarning) else "failed"
        )
        if isinstance(exc, SKIPS):  # pytest's form of a skip: (path, line, reason)
            report.longrepr = (str(item.path), (item.location[1] or 0) + 1, str(exc.msg))
    outcome = classify(call)
    if outcome in (Outcome.WARNING, Outcome.NOT_VERIFIED, Outcome.ATTESTED):
        report.gpverify_outcome = outcome.value  # type: ignore[attr-defined]
        props = [("gpverify_outcome", outcome.value), ("gpverify_message", str(getattr(exc, "message", "")))]
        item.user_properties.extend(props)  # JUnit writes the teardown report's copy of these
        report.user_properties.extend(props)
    elif outcome is Outcome.ERROR and report.when == "call":
        # Nothing was judged, so it is not a failed check: filed under setup, the terminal, JUnit (<error>) and
        # pytest-html all say error, and gpverify's outcome is "could not run" (verdicts.outcome_of).
        report.when = "setup"
    return report


def message(info: CheckInfo, item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> str:
    """The check's sentence: its assertion message, warning, reason, the host it could not read, or its defect."""
    if report.passed and not getattr(report, "gpverify_outcome", None):
        return str(session.evidence(item).get(BASIS, "") or "")  # what a verdict reached indirectly rests on
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, ENDINGS):
        return exc.message
    if isinstance(exc, FactsUnavailable):
        return f"could not read the facts: {exc}"
    if exc is not None and judged(exc):
        return assertion_message(exc) if isinstance(exc, AssertionError) else str(exc.msg)  # type: ignore[attr-defined]
    if report.skipped:
        return skip_sentence(str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else "")
    if exc is not None:
        return defect(info, item, call)
    return ""


def defect(info: CheckInfo, item: pytest.Item, call: pytest.CallInfo[None]) -> str:
    """'the check ACME-002 itself broke: AttributeError: ... in site/checks/test_acme.py line 12'."""
    assert call.excinfo is not None
    text = (str(call.excinfo.value).strip().splitlines() or [""])[0]
    what = f"{call.excinfo.typename}: {text}" if text else call.excinfo.typename
    return f"the check {info.id} itself broke: {what} in {where(item, call)}"


def where(item: pytest.Item, call: pytest.CallInfo[None]) -> str:
    """The line of the check's own file it broke at (else the deepest line), as the administrator names it."""
    assert call.excinfo is not None
    entries = list(call.excinfo.traceback)
    mine = [e for e in entries if Path(e.path) == Path(item.path)] or entries
    if not mine:
        return shown_path(Path(item.path), item.config)
    entry = mine[-1]
    return f"{shown_path(Path(entry.path), item.config)} line {entry.lineno + 1}"


def shown_path(path: Path, config: pytest.Config) -> str:
    """A site's file relative to where the run started; gpverify's own from its package (never site-packages)."""
    import gpverify

    for base in (config.invocation_params.dir, Path(gpverify.__file__).parents[1]):
        if path.is_relative_to(base):
            return Path(os.path.relpath(path, base)).as_posix()
    return path.name


def shipped(item: pytest.Item) -> bool:
    from gpverify.config.shipped import checks_root

    return Path(item.path).is_relative_to(checks_root())


def defect_remediation(item: pytest.Item, call: pytest.CallInfo[None]) -> str:
    """What to do about a check that broke: never the check's own remediation, which is about the farm."""
    if shipped(item):
        return (
            "This is a defect of gpverify, not of the farm: run with --gpverify-debug for the traceback and "
            "report it with the check's ID."
        )
    return (
        f"Fix the check at {where(item, call)} (run with --gpverify-debug for the traceback); the farm was not judged."
    )


def longrepr(result: CheckResult, report: pytest.TestReport, call: pytest.CallInfo[None], *, verbose: bool) -> Any:
    """What pytest shows for the report: gpverify's sentence, never the Python source (--gpverify-debug shows it)."""
    if result.outcome is Outcome.NOT_VERIFIED and isinstance(report.longrepr, tuple):
        return (*report.longrepr[:2], f"not verified: {result.message}")
    if result.outcome is Outcome.WARNING:
        return f"warning: {result.message}"
    if result.outcome is Outcome.ERROR and isinstance(call.excinfo and call.excinfo.value, FactsUnavailable):
        return result.message  # one line: the host or database and the cause, with its hint
    if result.outcome in (Outcome.FAILED, Outcome.ERROR):
        return CheckRepr(result, verbose=verbose)
    return report.longrepr


class CheckRepr:
    """How a failed check shows in JUnit and pytest's own summary: ID, host and sentence, the remediation under
    it, the facts judged with -v; never the Python source."""

    def __init__(self, result: CheckResult, *, verbose: bool) -> None:
        self.result = result
        self.verbose = verbose
        self.reprcrash = Crash(result.message)

    def lines(self) -> list[str]:
        r = self.result
        word = "FAILED" if r.outcome is Outcome.FAILED else "ERROR"
        where = f" {r.host}" if r.host else ""
        out = [
            f"{word} {r.check}{where}  {without_host(r.message, r.host)}",
            f"  Remediation: {r.remediation}",
            f"  Check: {r.title} ({r.section})",
        ]
        if self.verbose and r.evidence:
            out.append("  Facts judged:")
            out += [f"    {key}: {json.dumps(value, default=str)}" for key, value in r.evidence.items()]
        elif r.evidence:
            out.append("  (-v shows the facts judged)")
        return out

    def toterminal(self, tw: Any) -> None:
        first, *rest = self.lines()
        tw.line(first, red=True, bold=True)
        for line in rest:
            tw.line(line)

    def __str__(self) -> str:
        return "\n".join(self.lines())


class Crash:
    """The one-line message JUnit's failure message and pytest's -r summary read (`reprcrash.message`)."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.path, self.lineno = "", 0

    def __str__(self) -> str:
        return self.message
