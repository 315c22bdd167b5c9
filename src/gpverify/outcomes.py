"""The outcomes of a check, each with its label, rank, colour and symbol: the one vocabulary every output reads.

Beyond pass and fail: a warning that does not block (the guide or a KB says the condition is for review, e.g.
DU000030 rows other than failed conversions, upgrade/company-data-conversion.md); "not verified" when nothing
could reach a verdict (the identifiers it needs are not public and none was found on the farm, gp-truth.md
section 4): it says what the operator does instead of guessing; "attested" when a named person confirmed what
gpverify could not read (never shown as verified); "waived" for a failure an approved waiver accepts.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What one check found; a str, so records and JSON carry the plain word ("not verified")."""

    FAILED = "failed"
    ERROR = "error"
    WARNING = "warning"
    NOT_VERIFIED = "not verified"
    ATTESTED = "attested"
    WAIVED = "waived"
    SKIPPED = "skipped"
    PASSED = "passed"

    @property
    def label(self) -> str:
        """The word every report, summary and page shows (never pytest's)."""
        return _LOOK[self][0]

    @property
    def rank(self) -> int:
        """Severity, worst highest: a host's colour is its worst outcome; tables list the worst first."""
        return _LOOK[self][1]

    @property
    def colour(self) -> str:
        return _LOOK[self][2]

    @property
    def symbol(self) -> str:
        """One character for text grids (the audit's history listing)."""
        return _LOOK[self][3]

    @property
    def fails(self) -> bool:
        """Whether it stops a gate and fails an audit (failed: exit 1; error: exit 2)."""
        return self in (Outcome.FAILED, Outcome.ERROR)

    @property
    def verified(self) -> bool:
        """Whether gpverify itself reached a verdict (attested and not verified never read as verified)."""
        return self in (Outcome.PASSED, Outcome.FAILED, Outcome.WARNING, Outcome.WAIVED)

    @classmethod
    def of(cls, value: str | Outcome | None) -> Outcome | None:
        """The outcome a stored word names (history rows, JSON), or None for a word no longer known."""
        if value is None:
            return None
        try:
            return cls(value)
        except ValueError:
            return None

    @classmethod
    def worst_first(cls) -> list[Outcome]:
        return sorted(cls, key=lambda o: -o.rank)


# label, rank, colour, symbol. Failed ranks above "could not run" (a known fault outweighs an unknown), and a
# waived failure above a check nobody could verify.
_LOOK: dict[Outcome, tuple[str, int, str, str]] = {
    Outcome.FAILED: ("failed", 7, "#c62828", "F"),
    Outcome.ERROR: ("could not run", 6, "#ef6c00", "E"),
    Outcome.WARNING: ("warning", 5, "#f9a825", "!"),
    Outcome.WAIVED: ("waived", 4, "#6a1b9a", "W"),
    Outcome.NOT_VERIFIED: ("not verified", 3, "#0277bd", "N"),
    Outcome.ATTESTED: ("attested", 2, "#00838f", "A"),
    Outcome.SKIPPED: ("does not apply", 1, "#607d8b", "S"),
    Outcome.PASSED: ("passed", 0, "#2e7d32", "P"),
}
NOT_CHECKED_COLOUR = "#9e9e9e"  # a host no check judged


def worst(outcomes: list[Outcome]) -> Outcome | None:
    return max(outcomes, key=lambda o: o.rank, default=None)
