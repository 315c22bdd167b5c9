"""Attestations: what a named person confirmed that gpverify could not read (e.g. the Session Management snap-in).

`gpverify upgrade` writes them to <run folder>/attestations.json when an operator confirms a step that attests
checks, and passes that file to its gates (`--attestations FILE`). A check that nothing gpverify reads could
verify ends "attested" naming who confirmed what and when; a check gpverify verified itself ignores them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from gpverify.errors import ConfigError


@dataclass(frozen=True)
class Attestation:
    checks: tuple[str, ...]  # the check IDs it stands for
    by: str  # the person's name, as they typed it
    at: str  # ISO 8601 with the zone
    statement: str  # what they were asked to confirm
    answer: str  # what they answered ("yes")

    def describe(self) -> str:
        return f"{self.by} confirmed at {self.at} that {self.statement} (answer: {self.answer})"


def load(path: str | Path | None) -> list[Attestation]:
    """The attestations in a file; ConfigError naming the file when it is not one gpverify wrote."""
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return [
            Attestation(tuple(a["checks"]), str(a["by"]), str(a["at"]), str(a["statement"]), str(a["answer"]))
            for a in data["attestations"]
        ]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            str(path),
            "attestations",
            'the attestations file gpverify upgrade writes ({"attestations": [{checks, by, at, statement, answer}]})',
        ) from None


def for_check(path: str | Path | None, check_id: str) -> Attestation | None:
    """The latest attestation standing for this check, if any."""
    found = [a for a in load(path) if check_id in a.checks]
    return found[-1] if found else None


def add(path: Path, attestation: Attestation) -> None:
    """Append one attestation, rewriting the file atomically."""
    existing = load(path)
    document = {"attestations": [{**asdict(a), "checks": list(a.checks)} for a in [*existing, attestation]]}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=1), encoding="utf-8")
    tmp.replace(path)
