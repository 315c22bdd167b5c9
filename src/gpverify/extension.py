"""Where the simulated lab plugs into the product: the entry point group `gpverify.lab`, never an import."""

# The product (facts, runner, audit, plugin, catalogue) reaches the lab only through the object registered
# under this group (gpverify.lab.extension in this distribution): its SQL connector for an inventory with
# `sql.lab_dir`, a lab started for one run, its scenarios, and the upgrade emulation the runner drives.

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from gpverify.errors import ConfigError

if TYPE_CHECKING:  # annotations only: an audit finds its lab before it loads the inventory's models
    from gpverify.config.inventory import Role
    from gpverify.transport.odbc import Connector

GROUP = "gpverify.lab"
AUDIT_LAB_PREFIX = "gpverify-audit-lab-"  # the folder of the lab an audit starts (cli/audit.py, audit/runner.py)


class RunningLab(Protocol):
    """A started lab: its inventory file, and stop()."""

    @property
    def inventory_path(self) -> Path: ...

    def stop(self) -> None: ...


class UpgradeOutcome(Protocol):
    @property
    def exit_code(self) -> int: ...


class UpgradeEmulator(Protocol):
    """What the runner asks of the lab during `gpverify upgrade --lab`: carry out a confirmed manual step."""

    def apply(self, host_name: str | None, action: str) -> UpgradeOutcome: ...  # None: the SQL Server (backup)

    def clear_faults(self) -> list[str]: ...


class FarmShape(Protocol):
    """A scenario's farm as the runner plans for it: host name -> role, era, Help installer, config database."""

    hosts: dict[str, Role]
    era: str
    help_installer: str
    config_database: str


class LabExtension(Protocol):
    password_env: str  # the environment variable a lab's inventory names for its WinRM password

    def sql_connector(self, lab_dir: Path) -> Connector: ...

    def temporary_lab(self, scenario: str, *, prefix: str) -> AbstractContextManager[RunningLab]: ...

    def lab_process(self, scenario: str, *, prefix: str) -> AbstractContextManager[RunningLab]:
        """A lab in a child process of its own (its imports, start and serving on another core), stopped when
        the context ends or this process goes away; its inventory_path waits for the child to start it."""
        ...

    def start_lab(self, scenario: str, workdir: Path, *, idle_timeout: float) -> RunningLab: ...

    def scenarios(self) -> Iterator[tuple[str, str, list[str]]]:
        """(name, description, IDs of the checks it is made to fail) of every shipped scenario."""
        ...

    def farm_shape(self, scenario: str) -> FarmShape: ...

    def attach_upgrade(self, lab: Any, sql_dir: Path, journal: Path) -> UpgradeEmulator: ...

    def detach_upgrade(self, lab: Any) -> None: ...


@cache
def lab() -> LabExtension:
    """The installed lab; ConfigError naming what is missing when no distribution registers one."""
    found = sorted(entry_points(group=GROUP), key=lambda ep: ep.name)
    if not found:
        raise ConfigError(
            "--lab",
            "(simulated lab)",
            f"a distribution registering the entry point group {GROUP!r} (gpverify ships one: reinstall gpverify)",
        )
    extension: LabExtension = found[0].load()
    return extension
