"""Checks an administrator writes in YAML, without Python: their format, the facts they ask for, their verdicts."""

from __future__ import annotations

from pathlib import Path

# A declarative check file is named NAME.checks.yml, so the YAML files beside it (lab scenario overlays, notes)
# are never read as checks, and a pytest run collects nothing else of a folder's YAML. Here, not in schema.py,
# so that every pytest run can tell a check file without loading the format's models (gpverify.declarative.plugin).
SUFFIXES = (".checks.yml", ".checks.yaml")


def is_check_file(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)
