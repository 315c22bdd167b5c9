"""The exit codes of every gpverify command and of plain `pytest` runs of the checks: one meaning each."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from gpverify.outcomes import Outcome


class ExitCode(IntEnum):
    PASSED = 0  # every check passed (warnings, not verified, attested and waived do not fail)
    FAILED = 1  # at least one check failed
    NOT_RUN = 2  # could not run: only errors, nothing selected, a host unreachable, a step waiting, not complete
    BAD_INPUT = 3  # bad input or usage: nothing was checked
    NOT_RECORDED = 4  # the checks ran and the reports were written, but the history was not

    @property
    def meaning(self) -> str:
        """A few words for the end of a command's output: "exit 2: could not run"."""
        return _MEANING[self]

    @classmethod
    def of(cls, value: int) -> ExitCode:
        """The code a run ended with; a number of no meaning here (a site's own pytest.exit) could not run."""
        try:
            return cls(value)
        except ValueError:
            return cls.NOT_RUN


_MEANING = {
    ExitCode.PASSED: "passed",
    ExitCode.FAILED: "a check failed",
    ExitCode.NOT_RUN: "could not run",
    ExitCode.BAD_INPUT: "bad input",
    ExitCode.NOT_RECORDED: "not recorded in the history",
}


PASSED, FAILED, NOT_RUN, BAD_INPUT, NOT_RECORDED = (
    ExitCode.PASSED,
    ExitCode.FAILED,
    ExitCode.NOT_RUN,
    ExitCode.BAD_INPUT,
    ExitCode.NOT_RECORDED,
)

TABLE = """exit codes (every gpverify command, and pytest runs of the checks):
  0  every check passed (warnings, checks not verified or attested, and waived failures do not fail)
  1  at least one check failed (not waived, or its waiver expired)
  2  could not run: no check failed, but a host or database could not be read, a check itself broke,
     nothing was selected, a manual step waits for its operator, or the run was interrupted;
     (report) the run is not complete: its record says NOT COMPLETE - DO NOT SIGN
  3  bad input or usage: inventory, plan, waiver file, scenario, run id or options; nothing was checked
  4  (audit, history, baseline, fleet) the history could not be written or read; an audit's checks ran
     and its reports were written
"""


def for_outcomes(outcomes: Iterable[Outcome], *, broken: bool = False) -> ExitCode:
    """The code of a run from its check outcomes: a failure outweighs an error; none at all could not run.

    `broken`: the run itself went wrong besides its checks (a checks file not loaded, pytest stopped)."""
    seen = set(outcomes)
    if Outcome.FAILED in seen:
        return ExitCode.FAILED
    if Outcome.ERROR in seen or broken or not seen:
        return ExitCode.NOT_RUN
    return ExitCode.PASSED
