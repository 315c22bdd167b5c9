"""Errors gpverify raises on purpose; each renders as one line an operator can act on."""

from __future__ import annotations


class GpVerifyError(Exception):
    """Base of every error gpverify raises deliberately."""


class ConfigError(GpVerifyError):
    """A configuration file holds a value gpverify cannot use; `expected` is phrased to follow "expected"."""

    def __init__(self, file: str, field: str, expected: str) -> None:
        super().__init__(file, field, expected)
        self.file = file
        self.field = field
        self.expected = expected

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: expected {self.expected}"


class FactsUnavailable(GpVerifyError):
    """Facts could not be read from a target, so its checks cannot decide (an error, not a failure)."""

    def __init__(self, target: str, cause: str) -> None:
        super().__init__(target, cause)
        self.target = target
        self.cause = cause

    def __str__(self) -> str:
        return f"{self.target}: {self.cause}"


class HostUnavailable(FactsUnavailable):
    """A Windows host could not be reached or did not answer; target is the host name."""


class SqlUnavailable(FactsUnavailable):
    """A SQL Server database could not be opened or queried; target is the database name."""

    def __init__(self, database: str, cause: str) -> None:
        super().__init__(database, cause)

    @property
    def database(self) -> str:
        return self.target


class UnsafeQuery(GpVerifyError):
    """A query was refused before it reached the server because it is not one read-only statement."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(source, reason)
        self.source = source
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"
