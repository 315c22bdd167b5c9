"""The exit codes of every gpverify command (and of pytest runs of the checks for bad input)."""

from __future__ import annotations

PASSED, FAILED, NOT_RUN, BAD_INPUT = 0, 1, 2, 3

TABLE = """exit codes (every gpverify command):
  0  every check passed (warnings, checks not verified and waived failures do not fail)
  1  at least one check failed (not waived, or its waiver expired)
  2  could not run: no check failed, but a host or database could not be read, nothing was collected,
     or pytest stopped
  3  bad input or usage: inventory, plan, waiver file, scenario, run id or options; nothing was checked
"""


def from_pytest(code: int) -> int:
    """A pytest exit code in gpverify's table: 1 stays failed, usage errors are bad input, the rest could not run."""
    if code in (PASSED, FAILED):
        return code
    if code in (4, BAD_INPUT):  # pytest.ExitCode.USAGE_ERROR; 3 is what the plugin exits with on bad input
        return BAD_INPUT
    return NOT_RUN
