"""The farm under test: inventory, profile, credentials and the facts gathered once per run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gpverify.credentials import resolve_password
from gpverify.errors import FactsUnavailable
from gpverify.facts.collect import DEFAULT_WORKERS, CollectJob, collect_hosts
from gpverify.facts.windows import HostFacts, build_request
from gpverify.inventory import HostSpec, Inventory, Role, host_specs, load_inventory
from gpverify.profiles import Profile, load_profile


@dataclass
class Farm:
    """Everything a run knows about the farm; facts are collected on first use, all hosts at once."""

    inventory: Inventory
    origin: str
    profile: Profile
    specs: dict[str, HostSpec]
    passwords: dict[str, str | None] = field(repr=False)  # never in a repr: pytest -l prints locals
    sql_password: str | None = field(default=None, repr=False)
    workers: int = DEFAULT_WORKERS
    _facts: dict[str, HostFacts | FactsUnavailable] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def is_lab(self) -> bool:
        return self.inventory.lab is not None

    def hosts(self, role: Role) -> list[HostSpec]:
        return [s for s in self.specs.values() if s.role == role]

    def collect(
        self,
        names: Iterable[str],
        on_done: Callable[[str, HostFacts | FactsUnavailable], None] | None = None,
    ) -> None:
        """Collect every named host not collected yet, in parallel (one shell, one collector run each).

        `on_done(name, facts or error)` is called once per host collected (e.g. a progress display).
        """
        with self._lock:
            todo = [self.specs[n] for n in dict.fromkeys(names) if n not in self._facts]
            jobs = [CollectJob(s, build_request(s.role, self.profile), self.passwords[s.name]) for s in todo]
            self._facts.update(collect_hosts(jobs, max_workers=self.workers, on_done=on_done))

    def pending(self, names: Iterable[str]) -> list[str]:
        """The named hosts whose facts are not collected yet."""
        return [n for n in dict.fromkeys(names) if n not in self._facts]

    def facts(self, name: str) -> HostFacts:
        """The host's facts; raises FactsUnavailable (an error, not a failure) when it could not be read."""
        if name not in self._facts:
            self.collect([name])
        outcome = self._facts[name]
        if isinstance(outcome, FactsUnavailable):
            raise outcome
        return outcome

    def collected(self) -> dict[str, HostFacts | FactsUnavailable]:
        return dict(self._facts)


def open_farm(path: str | Path, *, workers: int = DEFAULT_WORKERS) -> Farm:
    """Load and validate the inventory, its profile and its credentials; raise ConfigError on bad input."""
    origin = str(path)
    inventory = load_inventory(path)
    profile = load_profile(inventory.profile, inventory.overrides, origin=origin)
    specs = {s.name: s for s in host_specs(inventory, origin)}
    passwords = {s.name: resolve_password(s.winrm, field=f"{s.name}.winrm", origin=origin) for s in specs.values()}
    sql_password = resolve_password(inventory.sql, field="sql", origin=origin)
    return Farm(inventory, origin, profile, specs, passwords, sql_password, workers)
