"""The farm under test: inventory, profile, credentials and the facts gathered once per run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gpverify.config.credentials import resolve_password
from gpverify.config.inventory import ROLE_GROUPS, HostSpec, Inventory, Role, host_specs, load_inventory
from gpverify.config.profiles import Profile, load_profile
from gpverify.config.versions import GpVersion, Target, same_release, target_of
from gpverify.errors import ConfigError, FactsUnavailable, HostUnavailable
from gpverify.facts import tenantconfig
from gpverify.facts.collect import DEFAULT_WORKERS, CollectJob, HostOutcome, collect_hosts
from gpverify.facts.windows import HostFacts, RuntimePaths, build_request


@dataclass
class Farm:
    """Everything a run knows about the farm; facts are collected on first use, all hosts at once."""

    inventory: Inventory
    origin: str
    profile: Profile
    specs: dict[str, HostSpec]
    passwords: dict[str, str | None] = field(repr=False)  # never in a repr: pytest -l prints locals
    sql_password: str | None = field(default=None, repr=False)
    workers: int | None = DEFAULT_WORKERS  # None: one per host, at most MAX_WORKERS
    _facts: dict[str, HostOutcome] = field(default_factory=dict)
    # Queries a run adds to a role's request besides the profile's and extra_facts (the declarative checks' own,
    # gpverify.declarative), role -> section -> queries: collected in the same one collector run per host.
    added: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def target(self) -> Target:
        """The release (and lowest build) the farm is upgraded to: the profile's, raised by target_build."""
        return target_of(self.profile, self.inventory.target_build)

    @property
    def is_lab(self) -> bool:
        return self.inventory.lab is not None

    def hosts(self, role: Role) -> list[HostSpec]:
        return [s for s in self.specs.values() if s.role == role]

    def collect(
        self,
        names: Iterable[str],
        on_done: Callable[[str, HostOutcome], None] | None = None,
    ) -> None:
        """Collect every named host not collected yet, in parallel (one shell, one collector run each).

        `on_done(name, facts or error)` is called once per host collected (e.g. a progress display).
        """
        with self._lock:
            todo = [self.specs[n] for n in dict.fromkeys(names) if n not in self._facts]
            web = [s for s in self.hosts("web_server") if s.name not in self._facts]
            sessions = [s for s in todo if s.role == "session_host"]
            if not (web and sessions):
                self._facts.update(collect_hosts(self._jobs(todo), max_workers=self.workers, on_done=on_done))
                return
            # The session hosts are asked for the runtime the web server's tenant configuration names: they start
            # when the web server has answered; every other host starts with it (nothing else waits on it).
            first = [web[0], *(s for s in todo if s.role != "session_host" and s.name != web[0].name)]

            def then(name: str, outcome: HostOutcome) -> list[CollectJob]:
                if name != web[0].name:
                    return []
                self._facts[name] = outcome  # what _runtime_for_request reads
                return self._jobs(sessions)

            found = collect_hosts(
                self._jobs(first), max_workers=self.workers, on_done=on_done, then=then, later=len(sessions)
            )
            self._facts.update(found)

    def _jobs(self, specs: list[HostSpec]) -> list[CollectJob]:
        """One collector request per host; a session host's names its runtime (known once the web server is in)."""
        runtime = self._runtime_for_request() if any(s.role == "session_host" for s in specs) else None
        return [
            CollectJob(
                s, self._request(s.role, runtime if s.role == "session_host" else None, s.name), self.passwords[s.name]
            )
            for s in specs
        ]

    def _request(
        self, role: Role, runtime: RuntimePaths | None, host: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        request = build_request(role, self.profile, runtime, self._extra_facts(role), host=host)
        for section, queries in self.added.get(role, {}).items():
            request.setdefault(section, []).extend(queries)
        return request

    def _extra_facts(self, role: Role) -> Any:
        group = next(g for g, r in ROLE_GROUPS.items() if r == role)
        return self.inventory.extra_facts.get(group)  # type: ignore[call-overload]

    def _runtime_for_request(self) -> RuntimePaths | None:
        try:
            return self.runtime()
        except FactsUnavailable:
            return None  # the session hosts are still read; checks that need the runtime report why not

    def runtime(self) -> RuntimePaths:
        """Where the session hosts' GP runtime is: inventory overrides, else the web server's
        TenantConfiguration.xml, else (Tenant Services farms keep it in DYNGPDISCOVERY) the profile's defaults.

        Raises HostUnavailable naming the web server when its tenant configuration could not be read or parsed.
        """
        keys = ("dynamics_exe", "dynamics_set", "dex_ini")
        defaults = {k: str(self.profile[f"files.{k}"]) for k in keys}
        exe, set_file, ini = (defaults[k] for k in keys)
        if all(self.profile.identifiers[f"files.{k}"].confidence == "override" for k in keys):
            return RuntimePaths(exe, set_file, ini, origin=f"the inventory's overrides ({self.origin})")
        web = self.hosts("web_server")
        if not web or web[0].name not in self._facts:
            return RuntimePaths(exe, set_file, ini, origin="the profile's default folder")
        name = web[0].name
        where = f"TenantConfiguration.xml on {name}"
        try:
            config = tenantconfig.read(self.facts(name).texts.get("tenant_configuration"), where)
        except tenantconfig.FileMissing as exc:
            if self.inventory.tenant_services is not None:
                return RuntimePaths(
                    exe,
                    set_file,
                    ini,
                    known=False,
                    origin=(
                        "with Tenant Services the runtime paths are the tenant's DynamicsexeLocation, "
                        "DynamicssetLocation and DexiniLocation in Tenant Manager (kept in DYNGPDISCOVERY, whose "
                        "schema is not public): set "
                        "them under `overrides:` in the inventory as files.dynamics_exe, files.dynamics_set and "
                        "files.dex_ini"
                    ),
                )
            raise HostUnavailable(
                name,
                f"{exc}: the session hosts' runtime paths are unknown (set overrides "
                "files.dynamics_exe, files.dynamics_set and files.dex_ini if the web server keeps "
                "it elsewhere)",
            ) from None
        except ValueError as exc:
            raise HostUnavailable(name, str(exc)) from None
        found = {k: getattr(config, k) for k in keys}
        for k in keys:
            if self.profile.identifiers[f"files.{k}"].confidence == "override":
                found[k] = defaults[k]
        return RuntimePaths(
            str(found["dynamics_exe"] or exe),
            str(found["dynamics_set"] or set_file),
            str(found["dex_ini"] or ini),
            origin=f"DynamicsexeLocation in {where}",
        )

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

    def collected(self) -> dict[str, HostOutcome]:
        return dict(self._facts)


def open_farm(path: str | Path, *, workers: int | None = DEFAULT_WORKERS) -> Farm:
    """Load and validate the inventory, its profile and its credentials; raise ConfigError on bad input."""
    origin = str(path)
    inventory = load_inventory(path)
    profile = load_profile(inventory.profile, inventory.overrides, origin=origin)
    _check_target_build(inventory.target_build, profile, origin)
    specs = {s.name: s for s in host_specs(inventory, origin)}
    passwords = {s.name: resolve_password(s.winrm, field=f"{s.name}.winrm", origin=origin) for s in specs.values()}
    sql_password = resolve_password(inventory.sql, field="sql", origin=origin)
    return Farm(inventory, origin, profile, specs, passwords, sql_password, workers)


def _check_target_build(build: str | None, profile: Profile, origin: str) -> None:
    """A target build belongs to the profile's release: same major version, not below the release's build (or, for
    the GP 18 October releases, the same minor version: a profile may hold a later update's build, such as the
    year-end update of a release whose first build is not public)."""
    if build is None:
        return
    found, release = GpVersion.parse(build), GpVersion.parse(profile.version)
    if found is None or release is None or not same_release(found, release):
        raise ConfigError(
            origin,
            "target_build",
            f"a build of {profile.get('release', profile.name)} ({release} or a later hotfix of it), got {build!r}",
        )
