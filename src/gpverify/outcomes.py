"""Outcomes beyond pass and fail: a warning that does not block, and a check that could not be verified.

A check ends with one of these when the guide or a KB says the condition is for review rather than a stop
(DU000030 rows other than failed conversions, upgrade/company-data-conversion.md), or when the identifiers it
needs are not confirmed by any public source (gp-truth.md section 4): then it says which setting to override
instead of guessing. Neither fails a gate, an audit's exit code or pytest's; both show in every report.
"""

from __future__ import annotations

from typing import Literal, NoReturn

import pytest

Outcome = Literal["passed", "failed", "error", "skipped", "warning", "not verified", "waived"]
WARNING: Outcome = "warning"
NOT_VERIFIED: Outcome = "not verified"


class CheckWarning(Exception):
    """Raised by `warn`: the check found something to review that does not block the upgrade."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotVerified(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """Raised by `not_verified`: pytest reports it as a skip, gpverify as "not verified"."""

    def __init__(self, message: str) -> None:
        super().__init__(msg=f"not verified: {message}")
        self.message = message


def warn(message: str) -> NoReturn:
    """End the check with a warning: shown in every report, never failing a gate or an audit."""
    __tracebackhide__ = True
    raise CheckWarning(message)


def not_verified(message: str) -> NoReturn:
    """End the check as not verified: it lacks a confirmed identifier; say which and how to set it."""
    __tracebackhide__ = True
    raise NotVerified(message)


def outcome_of(report: pytest.TestReport) -> str:
    """The gpverify outcome of a report: pytest's outcome, or warning / not verified where a check said so."""
    special = getattr(report, "gpverify_outcome", None)
    if special:
        return str(special)
    if report.failed and report.when != "call":
        return "error"
    return report.outcome
