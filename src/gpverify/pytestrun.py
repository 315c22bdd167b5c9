"""The one way gpverify runs its checks: pytest in this process, every check's result record handed back."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pytest

from gpverify.catalogue import CheckInfo, info_of
from gpverify.config.options import pytest_addopts
from gpverify.config.shipped import checks_root
from gpverify.frozen import older_objects_frozen
from gpverify.results import CheckResult

# Options every gpverify-driven run adds: no cache folder beside the checks, no deprecation noise in reports.
# gpverify itself is imported before pytest starts, so pytest cannot rewrite its asserts (it has none).
NO_REWRITE_WARNING = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
QUIET_OPTIONS = ["-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning", *NO_REWRITE_WARNING]
# Only the plugins a gate, an audit or the catalogue needs: pytest's own, gpverify's (by its pytest11 entry point
# name, so it is registered as autoloading would) and what the checks' conftest files name in `pytest_plugins`
# (or PYTEST_PLUGINS names). Autoloading every installed plugin would start hypothesis's, xdist's, testinfra's
# and pytest-html's in each session: half of a lab upgrade's time once. pytest's --disable-plugin-autoload
# (pytest 8.4) rather than PYTEST_DISABLE_PLUGIN_AUTOLOAD, so no environment variable of this process, or of the
# commands a runner starts, changes; `-p NAME` loads a plugin by its entry point name
# (docs.pytest.org/en/stable/how-to/plugins.html, "Disabling plugins from autoloading"). The lab needs no pytest
# plugin: it plugs in through gpverify.extension's entry point group, which pytest's flag does not touch.
# `gpverify run PHASE` is the administrator's own pytest (`all_plugins=True`), where pytest-html's --html or
# xdist's -n, and any plugin of theirs, load as in any pytest run.
PLUGIN_OPTIONS = ["--disable-plugin-autoload", "-p", "gpverify"]


@dataclass
class PytestRun:
    """What one pytest session of checks produced."""

    exit_code: int  # gpverify's code (gpverify.exitcodes), which its plugin sets in a run that checks a farm
    pytest_status: int | None = None  # pytest's own status of the session; None when no session started
    results: list[CheckResult] = field(default_factory=list)
    collected: list[tuple[CheckInfo, str]] = field(default_factory=list)  # (check, test id) of every check
    collection_errors: list[str] = field(default_factory=list)  # "file: last line of the import error"
    output: str = ""  # the terminal output, when it was kept

    @property
    def nothing_collected(self) -> bool:
        return self.pytest_status == pytest.ExitCode.NO_TESTS_COLLECTED or (
            not self.collected and self.pytest_status == pytest.ExitCode.OK
        )


class _Recorder:
    """Gathers what the run produced from the gpverify plugin, through pytest's hooks (no global state)."""

    def __init__(self, run: PytestRun) -> None:
        self.run = run

    @pytest.hookimpl(trylast=True)  # after -k/-m deselected
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        self.run.collected = [(info, item.nodeid) for item in items if (info := info_of(item))]

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            last = (str(report.longrepr).strip().splitlines() or ["(no detail)"])[-1]
            self.run.collection_errors.append(f"{report.nodeid}: {last}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        from gpverify.session import results_of

        self.run.results = results_of(session.config)
        self.run.pytest_status = int(exitstatus)


def stable_rootdir() -> Path:
    """The folder the shipped checks' test ids are relative to: gpverify's package in a wheel, the checkout in a
    clone, so a check's id reads `checks/post/test_services.py::...` wherever gpverify is installed, and the
    history matches a check across installs, Python versions and virtual environments."""
    return checks_root().parent


def run_checks(
    args: Sequence[str],
    plugins: Sequence[Any] = (),
    *,
    output: TextIO | None = None,
    keep_output: bool = False,
    all_plugins: bool = False,
) -> PytestRun:
    """Run pytest with `args` in this process, with only the plugins the checks need (every installed one with
    `all_plugins`, as the administrator's own pytest); its terminal output goes to `output` (default: stdout), or
    is kept in the result when `keep_output` is set."""
    pytest_addopts()  # pytest splits it on start and would raise on an unterminated quote
    run = PytestRun(exit_code=0)
    sink: TextIO | None = io.StringIO() if keep_output and output is None else output
    redirect = contextlib.redirect_stdout(sink) if sink is not None else contextlib.nullcontext()
    argv = [*args, *NO_REWRITE_WARNING] if all_plugins else [*PLUGIN_OPTIONS, *args, *QUIET_OPTIONS]
    if not any(a.startswith("--rootdir") for a in args):
        argv.append(f"--rootdir={stable_rootdir()}")
    with redirect, older_objects_frozen():
        run.exit_code = int(pytest.main(argv, plugins=[*plugins, _Recorder(run)]))
    if isinstance(sink, io.StringIO):
        run.output = sink.getvalue()
    return run


def collect_checks(paths: Sequence[Path | str]) -> PytestRun:
    """The checks under `paths`, collected and not run."""
    return run_checks([*map(str, paths), "--collect-only", "-q"], keep_output=True)
