"""What a pytest session of checks holds: the farm, the facts each check judged, the masking and the results."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from gpverify.config.redact import Redactor
from gpverify.exitcodes import BAD_INPUT
from gpverify.results import CheckResult

if TYPE_CHECKING:  # the farm brings pywinrm, requests and cryptography: imported by a run that checks one
    from gpverify.facts.farm import Farm

# Typed keys on pytest's stash (pytest's tmpdir.py is the model): per-session data on the config, per-check
# data on the item, never in module globals. Private to this module: fixtures, checks and plugins use the
# functions below.
_farm = pytest.StashKey["Farm | None"]()
_redactor = pytest.StashKey[Redactor]()
_evidence = pytest.StashKey[dict[str, Any]]()
_lab = pytest.StashKey[Any]()
_results = pytest.StashKey[list[CheckResult]]()
_result_index = pytest.StashKey[dict[str, int]]()
_roles = pytest.StashKey[dict[str, str]]()
_verbosity = pytest.StashKey[int]()


def begin(config: pytest.Config) -> None:
    """A session that checks no farm yet: nothing to mask, no result."""
    config.stash[_verbosity] = int(config.option.verbose)  # before gpverify's terminal quiets pytest's own
    config.stash[_farm] = None
    config.stash[_redactor] = Redactor.for_environment()  # the history's password, before any farm is open
    config.stash[_results] = []
    config.stash[_result_index] = {}


def set_farm(config: pytest.Config, farm: Farm, lab: Any = None) -> None:
    """The farm this session checks (and the running lab it is, if any): its secrets are masked from now on."""
    config.stash[_farm] = farm
    config.stash[_redactor] = Redactor.for_farm(farm)
    if lab is not None:
        config.stash[_lab] = lab


def farm_of(config: pytest.Config) -> Farm | None:
    """The farm of this session, or None when the run checks none (another suite, or a listing of checks)."""
    return config.stash.get(_farm, None)


def get_farm(config: pytest.Config) -> Farm:
    """The farm of this session; ends the run as bad input when none was given."""
    farm = farm_of(config)
    if farm is None:
        bad_input(NO_FARM)
    return farm


NO_FARM = "no farm to check: pass --inventory FILE (or set GPVERIFY_INVENTORY), or --lab"


def roles(config: pytest.Config) -> dict[str, str]:
    """Each inventory host's role, by name (made once: a check result names its host from it)."""
    if _roles not in config.stash:
        farm = farm_of(config)
        names: dict[str, str] = {s.name: s.role for s in farm.specs.values()} if farm else {}
        config.stash[_roles] = names
    return config.stash[_roles]


def lab_of(config: pytest.Config) -> Any:
    """The running lab this session started for --lab, or None."""
    return config.stash.get(_lab, None)


def redactor(config: pytest.Config) -> Redactor:
    """What masks the farm's secrets in every text that leaves the process."""
    return config.stash.get(_redactor, None) or Redactor()


def evidence(node: pytest.Item | pytest.Collector) -> dict[str, Any]:
    """The facts a check judged, `"host: section.key" -> value`: fixtures record here, every report shows it."""
    return node.stash.setdefault(_evidence, {})


def reset_evidence(item: pytest.Item) -> None:
    item.stash[_evidence] = {}


def record(config: pytest.Config, result: CheckResult) -> None:
    """Add a check's result; a later, worse one of the same test (its clean-up broke after it passed) takes the
    earlier one's place, so every output counts the test once, at its worst."""
    records = config.stash.setdefault(_results, [])
    where = config.stash.setdefault(_result_index, {})  # test id -> its place in records
    i = where.get(result.test)
    if i is None:
        where[result.test] = len(records)
        records.append(result)
    else:
        records[i] = records[i].at_worst(result)


def results_of(config: pytest.Config) -> list[CheckResult]:
    """Every check result of this pytest session, in the order their reports were logged (plugin._LoggedResults)."""
    records: list[CheckResult] | None = config.stash.get(_results, None)
    return list(records or [])


def collect_progress(config: pytest.Config, total: int) -> AbstractContextManager[Callable[[str, object], None] | None]:
    """The on_done callback of Farm.collect for this session: a progress bar where gpverify writes the terminal
    (an interactive one), else nothing. pytest's own output (--gpverify-debug) stands mid-line: no bar there."""
    from gpverify.plugins.terminal import NAME

    terminal = config.pluginmanager.get_plugin(NAME)
    if terminal is None:
        return nullcontext(None)
    return terminal.progress(total)  # type: ignore[no-any-return]


def verbose(config: pytest.Config) -> bool:
    """Whether the administrator asked for more (-v): the facts judged under each failure."""
    return config.stash.get(_verbosity, 0) > 0


def debugging(config: pytest.Config) -> bool:
    """--gpverify-debug (or --tb=long): pytest's own output, test ids, paths and tracebacks, for whoever asked."""
    return bool(config.getoption("gpverify_debug", False)) or config.option.tbstyle == "long"


def bad_input(message: str) -> NoReturn:
    """Stop the pytest run before any check with gpverify's bad-input exit code (pytest's own would be 4)."""
    raise pytest.exit(f"gpverify: {message}", returncode=BAD_INPUT)
