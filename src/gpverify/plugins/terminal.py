"""gpverify's terminal: a line per check (ID, host, outcome, title), then what needs attention, each said once."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Generator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pytest

from gpverify import session
from gpverify.outcomes import Outcome, worst
from gpverify.plugins.progress import OnDone, collect_progress
from gpverify.results import CheckResult, counts_text, grouped, outcomes_of, without_host

if TYPE_CHECKING:
    from gpverify.facts.farm import Farm

NAME = "gpverify-terminal"
LABEL_WIDTH = max(len(o.label) for o in Outcome)
# Outcomes that pass a gate but must be seen, each listed once per reason after the failures.
TO_REVIEW = (Outcome.WARNING, Outcome.NOT_VERIFIED, Outcome.ATTESTED)


def markup(outcome: Outcome | None) -> dict[str, bool]:
    """pytest's terminal markup for an outcome: red fails a gate, green passed, yellow must be reviewed."""
    if outcome is None or outcome is Outcome.SKIPPED:
        return {}
    return {"red": True} if outcome.fails else {"green": True} if outcome is Outcome.PASSED else {"yellow": True}


class TerminalReport:
    """Registered for a run that checks a farm, unless --gpverify-debug asks for pytest's own output.

    pytest's terminal reporter keeps its frame (interruptions, -x, other plugins' summaries such as pytest-html's
    "Generated html report"), but is asked, through its own options, for nothing per test: no header, file paths,
    progress column, tracebacks or short summary (`-qq --no-summary`). gpverify writes a line per check instead,
    from the result record (already masked), so no test id, path or traceback reaches the administrator.
    """

    def __init__(self, config: pytest.Config, farm: Farm) -> None:
        self.config = config
        self.farm = farm
        self.verbose = session.verbose(config)  # the administrator's -v: the facts judged under each failure
        self.broken: list[pytest.CollectReport] = []
        self.deselected = 0  # by -k, -m, --host or the phase of a gpverify run
        self.id_width = 11
        self.host_width = max((len(h) for h in [*farm.specs, farm.inventory.sql.server or ""]), default=8)

    def pytest_configure(self, config: pytest.Config) -> None:
        # Called when registered (in gpverify's tryfirst pytest_configure), so before pytest's terminal plugin
        # makes its reporter; never when `-p no:gpverify-terminal` blocked this plugin.
        config.option.verbose = -2
        config.option.no_summary = True

    def _writer(self) -> Any:
        return self.config.pluginmanager.get_plugin("terminalreporter")

    def _write(self, text: str, **markup: bool) -> None:
        tr = self._writer()
        if tr is not None:
            tr.write_line(session.redactor(self.config).text(text), **markup)

    def _sep(self, text: str, sep: str = "-", **markup: bool) -> None:
        tr = self._writer()
        if tr is not None:
            tr.write_sep(sep, session.redactor(self.config).text(text), **markup)

    def progress(self, total: int) -> AbstractContextManager[OnDone | None]:
        return collect_progress(total, sys.stderr)

    @pytest.hookimpl(trylast=True)  # after pytest's reporter began the session
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        farm = self.farm
        lab = farm.inventory.lab
        self._sep(f"gpverify: farm {farm.inventory.farm}, target release profile {farm.profile.name}", "=", bold=True)
        if lab:
            self._write(
                f"SIMULATED LAB (scenario {lab.scenario}, {lab.era} era): not a real Dynamics GP farm",
                yellow=True,
                bold=True,
            )

    @pytest.hookimpl(trylast=True)  # after -k and -m deselected
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        from gpverify.catalogue import info_of

        ids = [info.id for item in items if (info := info_of(item))]
        self.id_width = max(map(len, ids), default=self.id_width)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        """A check's reports write nothing through pytest (their line is gpverify's); other tests are pytest's."""
        if "check" not in report.keywords:
            return None
        if report.when != "call":
            return ("error" if report.failed else "skipped" if report.skipped else ""), "", ""
        return getattr(report, "gpverify_outcome", None) or report.outcome, "", ""

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = CheckResult.of(report)
        if result is not None:  # its line as it ends; the summary reads the session's results (session.results_of)
            self._write(self.line(result), **markup(result.outcome))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.broken.append(report)

    def line(self, r: CheckResult) -> str:
        text = f"{r.check:<{self.id_width}}  {r.host or '':<{self.host_width}}  {r.label:<{LABEL_WIDTH}}  {r.title}"
        tr = self._writer()
        width = shutil.get_terminal_size().columns - 1 if tr is not None and tr.isatty else 0
        return text if not width or len(text) <= width else text[: width - 1] + "\u2026"

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after the other plugins' summaries, the counts last
    def pytest_terminal_summary(self) -> Generator[None, None, None]:
        yield
        for report in self.broken:
            self._sep(f"gpverify: checks that could not be loaded from {report.nodeid}", "=", red=True)
            self._write(str(report.longrepr).rstrip())
        results = session.results_of(self.config)
        self._failing(results)
        for outcome in TO_REVIEW:
            self._reviewed(results, outcome)
        counts = outcomes_of(results)
        left_out = f"; {self.deselected} deselected (-k, -m, --host or the phase)" if self.deselected else ""
        self._write(
            f"gpverify: {len(results)} check result(s): {counts_text(counts)}{left_out}",
            bold=True,
            **markup(worst(list(counts))),
        )

    def _failing(self, results: list[CheckResult]) -> None:
        failed = [r for r in results if r.outcome is Outcome.FAILED]
        errors = [r for r in results if r.outcome is Outcome.ERROR]
        if not (failed or errors):
            return
        self._sep("gpverify: checks that failed or could not run", "=", red=True)
        for r in failed:
            where = f" {r.host}" if r.host else ""
            self._write(f"{r.label.upper()} {r.check}{where}  {without_host(r.message, r.host)}", red=True, bold=True)
            self._write(f"    Remediation: {r.remediation}")
            if self.verbose and r.evidence:
                self._write("    Facts judged:")
                for key, value in r.evidence.items():
                    self._write(f"      {key}: {json.dumps(value, default=str)}")
        for subjects, sentence, rs in grouped(errors):
            self._write(f"{Outcome.ERROR.label.upper()} {subjects}  {sentence}", red=True, bold=True)
            if rs[0].remediation:
                self._write(f"    {rs[0].remediation}")

    def _reviewed(self, results: list[CheckResult], outcome: Outcome) -> None:
        results = [r for r in results if r.outcome is outcome]
        if not results:
            return
        self._sep(
            f"gpverify: {len(results)} {outcome.label} (they do not fail a gate; review each reason once)", yellow=True
        )
        for subjects, sentence, _ in grouped(results):
            self._write(f"{subjects}:", bold=True)
            self._write(f"    {sentence}")
