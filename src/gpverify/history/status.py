"""How an audit run ended, as the history records it and the fleet page sorts it."""

from __future__ import annotations

from enum import StrEnum

from gpverify.exitcodes import ExitCode


class AuditStatus(StrEnum):
    """An audit run's status word; the check outcomes behind it are gpverify.outcomes."""

    RUNNING = "running"  # started, not finished (or killed before it could say)
    FAILED = "failed"
    ERROR = "error"  # could not run: a host, a database or a check itself
    BAD_INPUT = "bad-input"
    INTERRUPTED = "interrupted"  # Ctrl-C: recorded, never what a later run is compared with
    PASSED = "passed"

    @property
    def rank(self) -> int:
        """The fleet page's order, most urgent first (a silent farm comes before all of them)."""
        return _ORDER.index(self)

    @classmethod
    def of(cls, code: ExitCode) -> AuditStatus:
        """The status of a finished run from its exit code."""
        return {ExitCode.PASSED: cls.PASSED, ExitCode.FAILED: cls.FAILED, ExitCode.BAD_INPUT: cls.BAD_INPUT}.get(
            code, cls.ERROR
        )


_ORDER = (
    AuditStatus.FAILED,
    AuditStatus.ERROR,
    AuditStatus.BAD_INPUT,
    AuditStatus.INTERRUPTED,
    AuditStatus.RUNNING,
    AuditStatus.PASSED,
)
