"""The pytest face of gpverify: options, the farm (or lab) for the session, parametrization, the result record."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from gpverify import frozen, session
from gpverify.catalogue import IMPACTS, MARKER_HELP, PHASES, CheckInfo, info_of
from gpverify.config.inventory import INVENTORY_ENV
from gpverify.config.options import count, utc_datetime
from gpverify.outcomes import Outcome
from gpverify.plugins import checkrepr, farmrun
from gpverify.results import REPORT_ATTR, CheckResult, host_of
from gpverify.verdicts import outcome_of

if TYPE_CHECKING:  # the farm brings pywinrm, requests and cryptography: imported by a run that checks one
    from gpverify.facts.farm import Farm

MARKERS = [
    *(f"{i}: gpverify checks of {i} impact (-m {i})" for i in IMPACTS),
    *(f"{p}: gpverify checks of the {p} phase (-m {p})" for p in PHASES),
]

# Loaded by its pytest11 entry point in every pytest run of an environment where gpverify is installed, so it
# changes nothing (title, metadata, HTML, terminal, parametrization) unless the run checks a farm (--inventory or
# --lab) or collects gpverify checks. The checks' fixtures come with it, so a folder of checks needs no conftest.py.
pytest_plugins = [
    "gpverify.fixtures.hosts",
    "gpverify.fixtures.sql",
    "gpverify.fixtures.web",
    "gpverify.fixtures.post",
    "gpverify.declarative.plugin",
    "gpverify.plugins.exitstatus",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gpverify", "Dynamics GP web client upgrade checks")
    _farm_options(group)
    _report_options(group)


def _farm_options(group: pytest.OptionGroup) -> None:
    """The farm to check and which of its checks run."""
    from gpverify.facts.collect import DEFAULT_WORKERS, MAX_WORKERS

    group.addoption(
        "--inventory",
        default=os.environ.get(INVENTORY_ENV),
        help=f"inventory YAML of the farm to check (or set {INVENTORY_ENV})",
    )
    group.addoption(
        "--lab",
        nargs="?",
        const="healthy",
        metavar="SCENARIO|FILE",
        help="check a simulated lab started for this session (default scenario: healthy); with "
        "--inventory, that inventory's overrides apply to the lab's farm",
    )
    group.addoption(
        "--host",
        action="append",
        default=[],
        metavar="NAME",
        help="limit per-host checks to this session host (repeatable); an unknown name is bad input",
    )
    group.addoption(
        "--collect-workers",
        type=count(1, 1024),
        default=DEFAULT_WORKERS,
        help=f"hosts collected at once (default: every host, at most {MAX_WORKERS})",
    )
    group.addoption(
        "--check-phase",
        choices=PHASES,
        help="run only the checks of this phase (gpverify run PHASE sets it for custom check folders)",
    )


def _report_options(group: pytest.OptionGroup) -> None:
    """What the run writes and what it takes as given."""
    group.addoption(
        "--gpverify-html",
        metavar="PATH",
        help="write gpverify's report (ID, host, check, result, message, remediation, facts) here",
    )
    group.addoption(
        "--gpverify-debug",
        action="store_true",
        help="pytest's own output: test ids, file paths and Python tracebacks of failed checks (as "
        "--tb=long does) instead of gpverify's line per check, sentence and remediation",
    )
    group.addoption(
        "--attestations",
        metavar="FILE",
        help="what named people confirmed that gpverify could not read (JSON written by gpverify upgrade): "
        "a check nothing else verifies then ends as attested, never as passed",
    )
    group.addoption(
        "--backups-since",
        type=utc_datetime,
        metavar="DATE-TIME",
        help="full backups must have finished after this (ISO 8601, no zone: UTC); default: the "
        "inventory's backups setting (gpverify upgrade passes the run's start to its pre gate)",
    )


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from gpverify import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)  # before pytest's terminal reporter and pytest-html read their options
def pytest_configure(config: pytest.Config) -> None:
    session.begin(config)
    config.pluginmanager.register(_LoggedResults(config), "gpverify-results")
    for line in [MARKER_HELP, *MARKERS]:
        config.addinivalue_line("markers", line)
    # Written once, by the process that sees every result: not by each pytest-xdist worker (`workerinput` is how
    # xdist marks one), whose partial page the controller's would overwrite.
    if config.getoption("gpverify_html") and not hasattr(config, "workerinput"):
        from gpverify.plugins.html_report import HtmlReport

        config.pluginmanager.register(HtmlReport(config), "gpverify-html")
    lab, inventory = config.getoption("lab"), config.getoption("inventory")
    if lab or inventory:  # else not a gpverify run: another suite's pytest, or a listing of the checks
        farm, running = farmrun.open_for(config, lab, inventory)
        session.set_farm(config, farm, running)
        _register_faces(config, farm)
        frozen.freeze_what_lives_until_the_end()
    frozen.start_up_over()


class _LoggedResults:
    """Fills the session's one list of results (session.results_of) from the reports every process logs: a
    single run's own, and in the controller of a pytest-xdist run those its workers send, each with its record (as
    the audit's waiver left it), so the terminal, the HTML reports and a gate read the same list in either."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        result = CheckResult.of(report)
        if result is not None:
            session.record(self.config, result)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish() -> None:
    frozen.freeze_what_the_run_made()


def _register_faces(config: pytest.Config, farm: Farm) -> None:
    """The plugins a run that checks a farm needs, each registered only when in use (pytest's stepwise.py)."""
    from gpverify.plugins import junit, masking, pytest_html, terminal

    config.pluginmanager.register(masking.Masking(config), "gpverify-masking")
    if not (session.debugging(config) or config.option.collectonly):
        config.pluginmanager.register(terminal.TerminalReport(config, farm), terminal.NAME)
    if getattr(config.option, "htmlpath", None):
        config.pluginmanager.register(pytest_html.PytestHtml(config, farm), "gpverify-pytest-html")
    if getattr(config.option, "xmlpath", None):
        config.pluginmanager.register(junit.JUnit(config), "gpverify-junit")


@pytest.fixture(autouse=True)
def gpverify_check_id(request: pytest.FixtureRequest) -> str | None:
    """The check ID, parametrized onto every check so it is part of the test id (`[GP-POST-002-gp-sh02]`)."""
    return getattr(request, "param", None)


@pytest.hookimpl(tryfirst=True)  # first, so the ID leads the test id before host parameters
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("check")
    info = marker.args[0] if marker and marker.args and isinstance(marker.args[0], CheckInfo) else None
    if info is not None and "gpverify_check_id" in metafunc.fixturenames:
        metafunc.parametrize("gpverify_check_id", [info.id], ids=[info.id])


@pytest.hookimpl(tryfirst=True)  # before -m and -k deselect
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    phase = config.getoption("check_phase")
    if phase:  # custom checks of another phase sit in the same folder: leave them for that phase's run
        other = [i for i in items if (info := info_of(i)) and info.phase != phase]
        if other:
            config.hook.pytest_deselected(items=other)
            items[:] = [i for i in items if i not in other]
    checks = [(item, info) for item in items if (info := info_of(item))]
    for item, info in checks:
        # `-m critical`, `-m post`, `-k GP-POST-002`: selection in the words of the catalogue.
        item.add_marker(info.impact)
        if info.phase:
            item.add_marker(info.phase)
        item.extra_keyword_matches.add(info.id)
    # Listing checks needs no farm; running them does.
    if checks and not config.option.collectonly and session.farm_of(config) is None:
        farmrun.NoFarm.refuse(config, items)


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    """With --collect-only, list each check's ID next to its test."""
    if not config.option.collectonly:
        return []
    lines = [f"{info.id}  {item.nodeid}" for item in items if (info := info_of(item))]
    return ["gpverify checks:", *lines] if lines else []


def pytest_runtest_setup(item: pytest.Item) -> None:
    session.reset_evidence(item)
    info = info_of(item)
    if info:
        item.user_properties.extend(info.properties())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport | None:
    """A check's report and its result record; pytest makes the reports of every other test."""
    info = info_of(item)
    if info is None or (call.when == "teardown" and call.excinfo is None):
        return None  # pytest's own report (a check's clean-up that broke gets a record below: could not run)
    debug = session.debugging(item.config)
    report = checkrepr.build(item, call, debug=debug)
    if report.when == "call" or not report.passed:
        result = _result(item, call, report, info)
        setattr(report, REPORT_ATTR, result)
        if not debug or call.excinfo is not None and isinstance(call.excinfo.value, checkrepr.QUICK):
            report.longrepr = checkrepr.longrepr(result, report, call, verbose=session.verbose(item.config))
    return report


def _result(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, info: CheckInfo) -> CheckResult:
    """The record of one check, masked once here so everything built from it is clean."""
    redactor = session.redactor(item.config)
    farm = session.farm_of(item.config)
    evidence = redactor.data(session.evidence(item))
    host = host_of(item, session.roles(item.config), farm.inventory.sql.server if farm else None, evidence)
    outcome = outcome_of(report)
    remediation = info.remediation
    if outcome is Outcome.ERROR:  # the farm was not judged: the check's remediation is not what to do
        exc = call.excinfo.value if call.excinfo is not None else None
        remediation = "" if isinstance(exc, checkrepr.QUICK) else checkrepr.defect_remediation(item, call)
    return CheckResult(
        **info.described(),
        remediation=remediation,
        test=item.nodeid,
        host=host,
        outcome=outcome,
        message=redactor.text(checkrepr.message(info, item, call, report)),
        evidence=evidence,
        farm=farm.inventory.farm if farm else None,
    )


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(report: pytest.TestReport) -> Generator[None, Any, Any]:
    """A report leaving the process (pytest-xdist's workers) carries its record as plain data."""
    data = yield
    if isinstance(data, dict) and isinstance(data.get(REPORT_ATTR), CheckResult):
        data[REPORT_ATTR] = data[REPORT_ATTR].as_dict()
    return data


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    special = Outcome.of(getattr(report, "gpverify_outcome", None))
    if special in (Outcome.WARNING, Outcome.NOT_VERIFIED, Outcome.ATTESTED):
        return special.value, special.symbol, (special.label.upper(), {"yellow": True})
    return None
