"""The exit codes of every gpverify command (and of pytest runs of the checks for bad input)."""

from __future__ import annotations

PASSED, FAILED, NOT_RUN, BAD_INPUT, NOT_RECORDED = 0, 1, 2, 3, 4

TABLE = """exit codes (every gpverify command):
  0  every check passed (warnings, checks not verified and waived failures do not fail)
  1  at least one check failed (not waived, or its waiver expired)
  2  could not run: no check failed, but a host or database could not be read, nothing was collected,
     or pytest stopped
  3  bad input or usage: inventory, plan, waiver file, scenario, run id or options; nothing was checked
  4  (audit, history, baseline, fleet) the history could not be written or read; an audit's checks ran
     and its reports were written
"""

