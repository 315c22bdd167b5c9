"""Check metadata: the `check` marker every check carries, and the catalogue read from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import pytest

Impact = Literal["critical", "high", "medium", "low"]
PHASES = ("pre", "web", "hosts", "post", "clients")


@dataclass(frozen=True)
class CheckInfo:
    id: str
    title: str  # in the upgrade guide's own words
    section: str  # the guide section it enforces
    impact: Impact
    remediation: str

    @property
    def phase(self) -> str:
        return {"PRE": "pre", "WEB": "web", "HOST": "hosts", "POST": "post", "CLI": "clients"}[self.id.split("-")[1]]

    def properties(self) -> list[tuple[str, str]]:
        """As JUnit properties / pytest user_properties."""
        return [(f"check_{k}", str(v)) for k, v in asdict(self).items()]


def check(id: str, *, title: str, section: str, impact: Impact, remediation: str) -> Any:
    """Mark a test function as a catalogue check."""
    return pytest.mark.check(CheckInfo(id, title, section, impact, remediation))


def info_of(item: pytest.Item) -> CheckInfo | None:
    marker = item.get_closest_marker("check")
    return marker.args[0] if marker and marker.args and isinstance(marker.args[0], CheckInfo) else None
