"""Check metadata: the `check` marker every check carries, and the catalogue read from it."""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, TypedDict, get_args

import pytest

Impact = Literal["critical", "high", "medium", "low"]
IMPACTS: tuple[Impact, ...] = get_args(Impact)  # worst first
Phase = Literal["pre", "web", "hosts", "post", "clients"]
PHASES: tuple[Phase, ...] = ("pre", "web", "hosts", "post", "clients")
# The shipped checks' IDs name their phase: GP-PRE-001 ... GP-CLI-003.
GP_ID_PHASES: dict[str, Phase] = {"PRE": "pre", "WEB": "web", "HOST": "hosts", "POST": "post", "CLI": "clients"}
# A custom check outside a phase folder and without phase= judges the upgraded farm, as the audit does.
DEFAULT_PHASE: Phase = "post"
MARKER_HELP = (
    "check(info): a gpverify check (gpverify.check(id, title=, section=, impact=, remediation=, "
    "phase=)); its metadata feeds the catalogue and every report"
)


class Described(TypedDict):
    """What each result record repeats of its check (gpverify.results.CheckResult's fields of the same names)."""

    check: str
    title: str
    section: str
    impact: str
    phase: str


@dataclass(frozen=True)
class CheckInfo:
    id: str  # any prefix: GP-POST-004 for the shipped checks, ACME-001 for a site's own
    title: str  # in the upgrade guide's own words
    section: str  # the guide section (or the site's document) it enforces
    impact: Impact
    remediation: str
    phase: Phase | None = None  # given, or set at collection from the ID or the folder (see phase_for)

    def described(self) -> Described:
        """What a result record repeats of this check."""
        return {
            "check": self.id,
            "title": self.title,
            "section": self.section,
            "impact": self.impact,
            "phase": self.phase or "",
        }

    def properties(self) -> list[tuple[str, str]]:
        """As JUnit properties / pytest user_properties (its fields are text: no deep copy, as asdict makes)."""
        return [(f"check_{f.name}", str(getattr(self, f.name))) for f in fields(self)]


def check(id: str, *, title: str, section: str, impact: Impact, remediation: str, phase: Phase | None = None) -> Any:
    """Mark a test function as a catalogue check; `phase` places a custom check outside a phase folder."""
    if phase is not None and phase not in PHASES:
        raise ValueError(f"check {id}: phase must be one of {', '.join(PHASES)}, got {phase!r}")
    return pytest.mark.check(CheckInfo(id, title, section, impact, remediation, phase))


def phase_for(info: CheckInfo, path: Path) -> Phase:
    """phase= if given; else the phase a GP-<PHASE>-nnn ID names; else the folder (pre, web, ...); else post."""
    if info.phase:
        return info.phase
    parts = info.id.split("-")
    if len(parts) >= 3 and parts[0] == "GP" and parts[1] in GP_ID_PHASES:
        return GP_ID_PHASES[parts[1]]
    folder = path.parent.name
    return next((p for p in PHASES if p == folder), DEFAULT_PHASE)


_INFO = pytest.StashKey["CheckInfo | None"]()


def info_of(item: pytest.Item) -> CheckInfo | None:
    """The check an item runs (its phase filled in), or None for a test that is not a check; found once per item."""
    if _INFO not in item.stash:
        item.stash[_INFO] = _find_info(item)
    return item.stash[_INFO]


def _find_info(item: pytest.Item) -> CheckInfo | None:
    marker = item.get_closest_marker("check")
    if not (marker and marker.args and isinstance(marker.args[0], CheckInfo)):
        return None
    info: CheckInfo = marker.args[0]
    return info if info.phase else _in_phase(info, phase_for(info, Path(item.path)))


@functools.lru_cache(maxsize=4096)
def _in_phase(info: CheckInfo, phase: Phase) -> CheckInfo:
    """One record per check and phase, shared by its items (one per host)."""
    return replace(info, phase=phase)
