"""gpverify's face in pytest-html's report (--html): title, lab banner, outcomes and check columns in its words.

Only pytest-html's public hooks (pytest_html.hooks). It has none to name its outcome filters ("Skipped",
"Errors" are fixed in its report_data.py, no upstream issue found for custom outcomes): its Result column stays
in the page, hidden, for those filters, and gpverify's Result column and summary say the outcome.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from gpverify import session
from gpverify.outcomes import Outcome
from gpverify.report.checks import acted_on, title
from gpverify.report.render import piece
from gpverify.results import CheckResult, grouped, outcomes_of, without_host
from gpverify.session import results_of

if TYPE_CHECKING:
    from gpverify.facts.farm import Farm

TEMPLATE = "pytest_html.html.j2"


class PytestHtml:
    """pytest-html hooks for a run that checks a farm; another suite's report keeps its own title and columns."""

    def __init__(self, config: pytest.Config, farm: Farm) -> None:
        self.config = config
        self.farm = farm
        self.debug = session.debugging(config)
        # Per-row state the session's results do not hold: pytest-html draws each row as its report is logged and
        # the summary at the end, so the number a row gives a not-verified reason is kept here for the summary.
        self.reasons: dict[str, int] = {}  # a not-verified sentence -> its number in the summary, said once

    def pytest_configure(self, config: pytest.Config) -> None:
        # A report is mailed and archived as one file: pytest-html's CSS and scripts inline. Called when
        # registered (in gpverify's tryfirst pytest_configure), before pytest-html's own reads the option.
        config.option.self_contained_html = True

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = title(self.farm.is_lab)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        results = results_of(self.config)  # `session` here is pytest's, the hook's argument
        groups = {
            sentence: subjects
            for subjects, sentence, _ in grouped([r for r in results if r.outcome is Outcome.NOT_VERIFIED])
        }
        said_once = [(groups[sentence], sentence) for sentence in self.reasons if sentence in groups]
        prefix.append(
            piece(
                TEMPLATE,
                "summary",
                farm=self.farm.inventory.farm,
                profile=self.farm.profile.name,
                lab=self.farm.inventory.lab,
                counts=list(outcomes_of(results).items()),
                total=len(results),
                said_once=said_once,
            )
        )

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, piece(TEMPLATE, "result_header"))
        cells[2] = piece(TEMPLATE, "check_header")
        cells.insert(3, piece(TEMPLATE, "title_header"))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        result = CheckResult.of(report)
        if result is None:  # a test that is not a check: pytest's words
            cells.insert(1, piece(TEMPLATE, "result_cell", word=report.outcome, label=report.outcome))
            cells.insert(3, piece(TEMPLATE, "title_cell", title=""))
            return
        cells.insert(1, piece(TEMPLATE, "result_cell", word=result.outcome.value, label=result.label))
        cells[2] = piece(TEMPLATE, "check_cell", text=f"{result.check} {result.host or ''}".strip())
        cells.insert(3, piece(TEMPLATE, "title_cell", title=result.title))

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: Any, data: list[str]) -> None:
        """The expanded row: the check's sentence, remediation and facts, not pytest's log (--gpverify-debug)."""
        result = CheckResult.of(report)
        if result is None or self.debug:
            return
        facts = [(key, json.dumps(value, default=str)) for key, value in result.evidence.items()]
        message = without_host(result.message, result.host)
        if result.outcome is Outcome.NOT_VERIFIED:  # the reason is said once, in the summary, with its fix
            number = self.reasons.setdefault(message, len(self.reasons) + 1)
            message = f"see reason {number} under Not verified in the summary"
        data[:] = [
            piece(
                TEMPLATE,
                "log",
                r=result,
                message=message,
                facts=facts,
                remediation=result.remediation if acted_on(result.outcome) else "",
            )
        ]
