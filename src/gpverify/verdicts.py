"""How a check ends besides a passing or failing assert: `warn` and `not_verified`, and pytest's view of them."""

from __future__ import annotations

from typing import NoReturn

import pytest

from gpverify.outcomes import Outcome


class CheckWarning(Exception):
    """Raised by `warn`: the check found something to review that does not block the upgrade."""

    outcome = Outcome.WARNING

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotVerified(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """Raised by `not_verified`: pytest reports it as a skip, gpverify as "not verified". Like pytest's skip it
    is not an Exception, so a check's own `except Exception` cannot swallow it."""

    outcome = Outcome.NOT_VERIFIED

    def __init__(self, message: str) -> None:
        super().__init__(msg=f"not verified: {message}")
        self.message = message


class Attested(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """Raised by `attested`: nothing gpverify reads could verify it, and a named person confirmed what they saw.
    pytest reports it as a skip, so it never reads as verified; gpverify as "attested", naming who, what, when."""

    outcome = Outcome.ATTESTED

    def __init__(self, message: str) -> None:
        super().__init__(msg=f"attested: {message}")
        self.message = message


ENDINGS = (CheckWarning, NotVerified, Attested)  # what a check raises to end with an outcome of its own
# Evidence key whose text is a passing check's message: how it was judged (the source read, and a property whose
# meaning was inferred from its name), so that no inference is silent even when the check passes.
BASIS = "judged from"


def warn(message: str) -> NoReturn:
    """End the check with a warning: shown in every report, never failing a gate or an audit."""
    __tracebackhide__ = True
    raise CheckWarning(message)


def not_verified(message: str) -> NoReturn:
    """End the check as not verified: nothing could reach a verdict; say what the operator does to verify it."""
    __tracebackhide__ = True
    raise NotVerified(message)


def outcome_of(report: pytest.TestReport) -> Outcome:
    """The gpverify outcome of a report: pytest's outcome, or the one a check ended with."""
    special = Outcome.of(getattr(report, "gpverify_outcome", None))
    if special is not None:
        return special
    if report.failed and report.when != "call":
        return Outcome.ERROR
    return Outcome(report.outcome)


def attested(message: str) -> NoReturn:
    """End the check as attested: say who confirmed what, and when (never a pass)."""
    __tracebackhide__ = True
    raise Attested(message)
