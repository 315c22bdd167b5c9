"""The lab's side of gpverify.extension: registered by entry point, so the product never imports the lab."""

# The entry point loads this module in every run whose inventory has a lab SQL folder, and before an audit
# starts its lab in a child process: so it imports the lab's parts only where a method needs them.

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gpverify.errors import SqlUnavailable
from gpverify.lab.password import LAB_PASSWORD_ENV

if TYPE_CHECKING:
    from gpverify.config.inventory import Role
    from gpverify.lab import runtime, sql, upgrade
    from gpverify.lab.process import LabProcess


@dataclass
class Shape:
    hosts: dict[str, Role]
    era: str
    help_installer: str
    config_database: str


class Lab:
    """gpverify.extension.LabExtension for the simulated lab of this distribution."""

    password_env = LAB_PASSWORD_ENV

    def sql_connector(self, lab_dir: Path) -> sql.LabConnector:
        if os.name == "nt":  # the stand-in registers its driver through unixODBC's ODBCSYSINI (lab/sql.py)
            raise SqlUnavailable(
                "lab-sql",
                "the simulated lab's databases are SQLite files read through unixODBC, "
                "which Windows does not have: run the lab on Linux or macOS, or in WSL",
            )
        from gpverify.lab import sql

        return sql.lab_connector(lab_dir)

    def temporary_lab(self, scenario: str, *, prefix: str) -> AbstractContextManager[runtime.RunningLab]:
        from gpverify.lab import runtime

        return runtime.temporary_lab(scenario, prefix=prefix)

    def lab_process(
        self, scenario: str, *, prefix: str
    ) -> AbstractContextManager[LabProcess] | AbstractContextManager[runtime.RunningLab]:
        from gpverify.lab import process

        if not process.start_apart():
            return self.temporary_lab(scenario, prefix=prefix)
        return process.lab_process(scenario, prefix=prefix)

    def start_lab(self, scenario: str, workdir: Path, *, idle_timeout: float = 3600.0) -> runtime.RunningLab:
        from gpverify.lab import runtime

        return runtime.start_lab(scenario, workdir, idle_timeout=idle_timeout)

    def scenarios(self) -> Iterator[tuple[str, str, list[str]]]:
        from gpverify.lab.scenario import load_scenario, scenario_names

        for name in scenario_names():
            loaded = load_scenario(name)
            yield name, " ".join(loaded.description.split()), list(loaded.proves)

    def farm_shape(self, scenario: str) -> Shape:
        from gpverify.lab.scenario import apply_scenario, load_scenario

        farm = apply_scenario(load_scenario(scenario))
        return Shape(
            {h.name: h.role for h in farm.hosts.values()},
            farm.target["era"],
            farm.target["help_installer"],
            farm.config_database,
        )

    def attach_upgrade(self, lab: runtime.RunningLab, sql_dir: Path, journal: Path) -> upgrade.LabUpgrade:
        from gpverify.lab import upgrade

        return upgrade.attach(lab.farm, sql_dir, journal)

    def detach_upgrade(self, lab: Any) -> None:
        from gpverify.lab import upgrade

        upgrade.detach(lab.farm)


EXTENSION = Lab()
