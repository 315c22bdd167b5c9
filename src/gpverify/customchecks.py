"""A site's own checks: the --checks folders, refused before any run when unusable, and what a phase reads of them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from gpverify.catalogue import CheckInfo, info_of
from gpverify.config.paths import checks_folder
from gpverify.errors import ConfigError


def check_folders(given: Iterable[str | Path], command: str) -> list[Path]:
    """Each --checks folder as given; ConfigError (bad input) for one that is not a folder, or that holds a
    declarative check file that cannot be used: said before anything runs, never at a gate hours later. The
    shipped checks' own folder (a checkout's checks/, which a scheduler template may name) is left out: they
    run anyway."""
    given = list(given)
    if not given:  # no folder of the site's: its check format (pydantic models, the SQL guard) is not loaded
        return []
    from gpverify.config.shipped import checks_root
    from gpverify.declarative.schema import check_files, load_check_file

    shipped = checks_root().resolve()
    folders: list[Path] = []
    ids: dict[str, Path] = {}
    for value in given:
        folder = checks_folder(value, "--checks", origin=command)  # the one path guard (config/paths.py)
        if folder.resolve().is_relative_to(shipped):
            continue
        for path in check_files(folder):
            for check in load_check_file(path).checks:
                first = ids.setdefault(check.id.upper(), path)
                if first != path:
                    raise ConfigError(str(path), check.id, f"a check ID of its own (another check has it: {first})")
        folders.append(folder)
    return folders


class ChecksRefused(ConfigError):
    """Bad input found while pytest collected a site's checks; its message already names file, field and what was
    expected (gpverify.declarative.plugin)."""

    def __init__(self, message: str) -> None:
        super().__init__("", "", message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def phase_targets(phase: str, folders: Sequence[Path]) -> list[str]:
    """What one phase's run collects of each folder: DIR/<phase>/ when there is one, else DIR (whose checks of
    other phases the run deselects with --check-phase)."""
    return [str(folder / phase if (folder / phase).is_dir() else folder) for folder in folders]


def audit_targets(phases: Sequence[str], folders: Sequence[Path]) -> list[str]:
    """What a run of several phases (the audit's) collects of each folder: its phase subfolders, else DIR."""
    targets = []
    for folder in folders:
        found = [folder / p for p in phases if (folder / p).is_dir()]
        targets += [str(p) for p in found] or [str(folder)]
    return targets


class PhaseFilter:
    """A pytest plugin: leave out the checks under the site's folders whose phase is not one of `phases`."""

    def __init__(self, folders: Sequence[Path], phases: Sequence[str]) -> None:
        self.folders = [f.resolve() for f in folders]
        self.phases = set(phases)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        other = [item for item in items if (info := self._mine(item)) and info.phase not in self.phases]
        if other:
            config.hook.pytest_deselected(items=other)
            items[:] = [i for i in items if i not in other]

    def _mine(self, item: pytest.Item) -> CheckInfo | None:
        """The check's info, when it is one of the site's."""
        path = Path(item.path).resolve()
        return info_of(item) if any(path.is_relative_to(f) for f in self.folders) else None
