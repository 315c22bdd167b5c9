"""The pytest face of declarative checks: each NAME.checks.yml collected as checks marked like the Python ones."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gpverify.catalogue import CheckInfo, info_of
from gpverify.declarative import is_check_file
from gpverify.errors import ConfigError
from gpverify.session import bad_input, farm_of
from gpverify.session import evidence as evidence_of

if TYPE_CHECKING:  # the format's models load with the first check file (every pytest run loads this plugin)
    from gpverify.declarative.schema import DeclarativeCheck

ROLE_WORDS = {
    "web_server": "web server",
    "session_host": "session host",
    "client": "client machine",
    "tenant_services": "Tenant Services server",
}


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_check_file(file_path):
        return DeclarativeFile.from_parent(parent, path=file_path)
    return None


class DeclarativeFile(pytest.File):
    """A check file: one item per check and host of its role (one for a query)."""

    def collect(self) -> Iterator[pytest.Item]:
        from gpverify.declarative.schema import load_check_file

        try:
            loaded = load_check_file(self.path)
        except ConfigError as exc:
            # Bad input stops the run before any check (exit 3), once collection is over: pytest would file an
            # exception raised here as a collection error, with its traceback.
            self.config.stash.setdefault(problems_key, []).append(str(exc))
            return
        for check in loaded.checks:
            info = CheckInfo(
                check.id, check.title, check.section or self.path.name, check.impact, check.remediation, check.phase
            )
            hosts = _hosts(self.config, check)
            for host in hosts:
                name = f"{check.id}[{host}]" if host and check.role != "sql" else check.id
                yield DeclarativeItem.from_parent(self, name=name, check=check, info=info, host=host)


def _hosts(config: pytest.Config, check: DeclarativeCheck) -> list[str | None]:
    """The hosts the check runs on: each host of its role (`--host` limits session hosts), the SQL Server for a
    query; without a farm (a listing) one placeholder; None when the inventory has no host of the role."""
    from gpverify.fixtures.hosts import host_params

    farm = farm_of(config)
    if check.role == "sql":
        return [farm.inventory.sql.server if farm is not None else None]
    role = str(check.role)
    if role in ("session_host", "client"):
        names: list[str | None] = list(host_params(config, role))
    elif farm is None:
        names = [f"the {ROLE_WORDS[role]}"]
    else:
        names = [s.name for s in farm.hosts(role)]  # type: ignore[arg-type]
    return names or [None]


class DeclarativeItem(pytest.Item):
    """One declarative check on one host; the `check` marker carries its CheckInfo as a Python check's does."""

    def __init__(self, *, check: DeclarativeCheck, info: CheckInfo, host: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.gpverify_host = host  # the host (or SQL Server) it judges: results.host_of reads it
        self.add_marker(pytest.mark.check(info))

    def runtest(self) -> None:
        from gpverify.declarative.judge import judge_host, judge_sql
        from gpverify.facts.gpsql import GpSqlView
        from gpverify.facts.view import HostView
        from gpverify.fixtures.hosts import collect_session
        from gpverify.fixtures.sql import session_sql

        evidence = evidence_of(self)
        if self.check.role == "sql":
            sql = session_sql(self.config)
            database = self.check.sql.database or sql.system_database  # type: ignore[union-attr]
            judge_sql(self.check, GpSqlView(sql, evidence), database)
            return
        if self.gpverify_host is None:
            role = str(self.check.role)
            pytest.skip(f"the inventory lists no {ROLE_WORDS[role]} ({role}), so this does not apply")
        # Every host the session reads is collected at once, in the one collector run per host the Python
        # checks share; this check's facts were added to its role's request (pytest_collection_modifyitems).
        farm = collect_session(self.config, self.session.items)
        judge_host(self.check, HostView(self.gpverify_host, farm.facts(self.gpverify_host), evidence))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name


ids_key = pytest.StashKey[dict[str, tuple[str, bool]]]()
problems_key = pytest.StashKey[list[str]]()


def pytest_itemcollected(item: pytest.Item) -> None:
    """A declarative check's ID is its own: used by another check file or a Python check, it is bad input.
    (Each item as it is collected, so a check deselected by -k or --check-phase is counted too.)"""
    info = info_of(item)
    if info is None:
        return
    mine = isinstance(item, DeclarativeItem)
    source = str(item.path) if mine else f"{item.path}::{getattr(item, 'originalname', item.name)}"
    first, first_mine = item.config.stash.setdefault(ids_key, {}).setdefault(info.id.upper(), (source, mine))
    problem = f"{item.path}: {info.id}: expected a check ID of its own (another check has it: {first})"
    problems = item.config.stash.setdefault(problems_key, [])
    if first != source and (mine or first_mine) and problem not in problems:  # once, not once per host
        problems.append(problem)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> Generator[None, None, None]:
    """First, a check file that cannot be used is bad input (its first problem; the run ends before any check).
    Then, once -k, -m and --check-phase have deselected, the selected host checks' facts are added to their
    roles' collector requests, before any host is collected."""
    problems = config.stash.get(problems_key, [])
    if problems:
        bad_input(problems[0] + (f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""))
    yield
    farm = farm_of(config)
    checks = [i.check for i in items if isinstance(i, DeclarativeItem)]
    if farm is None or not checks:  # no check file selected: the format's models are never loaded
        return
    from gpverify.declarative.facts import queries

    for role, sections in queries(checks).items():
        for section, added in sections.items():
            known = farm.added.setdefault(role, {}).setdefault(section, [])
            known += [q for q in added if q["key"] not in {k["key"] for k in known}]
