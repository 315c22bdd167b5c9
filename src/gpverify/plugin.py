"""The pytest face of gpverify: options, the farm (or lab) for the session, parametrization, the result record."""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from gpverify import extension, session
from gpverify.catalogue import IMPACTS, MARKER_HELP, PHASES, CheckInfo, info_of
from gpverify.config.inventory import INVENTORY_ENV, utc_time
from gpverify.config.options import count
from gpverify.config.paths import output_file
from gpverify.config.yamlfile import read_yaml
from gpverify.errors import ConfigError, GpVerifyError
from gpverify.outcomes import Outcome
from gpverify.plugins import checkrepr
from gpverify.results import REPORT_ATTR, CheckResult, host_of
from gpverify.session import bad_input
from gpverify.verdicts import outcome_of

if TYPE_CHECKING:  # the farm brings pywinrm, requests and cryptography: imported by a run that checks one
    from gpverify.facts.farm import Farm

MARKERS = [*(f"{i}: gpverify checks of {i} impact (-m {i})" for i in IMPACTS),
           *(f"{p}: gpverify checks of the {p} phase (-m {p})" for p in PHASES)]

# Loaded by its pytest11 entry point in every pytest run of an environment where gpverify is installed, so it
# changes nothing (title, metadata, HTML, terminal, parametrization) unless the run checks a farm (--inventory or
# --lab) or collects gpverify checks. The checks' fixtures come with it, so a folder of checks needs no conftest.py.
pytest_plugins = ["gpverify.fixtures.hosts", "gpverify.fixtures.sql", "gpverify.fixtures.web",
                  "gpverify.fixtures.post", "gpverify.declarative.plugin", "gpverify.plugins.exitstatus"]


def pytest_addoption(parser: pytest.Parser) -> None:
    from gpverify.facts.collect import DEFAULT_WORKERS, MAX_WORKERS

    group = parser.getgroup("gpverify", "Dynamics GP web client upgrade checks")
    group.addoption("--inventory", default=os.environ.get(INVENTORY_ENV),
                    help=f"inventory YAML of the farm to check (or set {INVENTORY_ENV})")
    group.addoption("--lab", nargs="?", const="healthy", default=None, metavar="SCENARIO|FILE",
                    help="check a simulated lab started for this session (default scenario: healthy); with "
                         "--inventory, that inventory's overrides apply to the lab's farm")
    group.addoption("--host", action="append", default=[], metavar="NAME",
                    help="limit per-host checks to this session host (repeatable); an unknown name is bad input")
    group.addoption("--collect-workers", type=count(1, 1024), default=DEFAULT_WORKERS,
                    help=f"hosts collected at once (default: every host, at most {MAX_WORKERS})")
    group.addoption("--check-phase", choices=PHASES, default=None,
                    help="run only the checks of this phase (gpverify run PHASE sets it for custom check folders)")
    group.addoption("--gpverify-html", default=None, metavar="PATH",
                    help="write gpverify's report (ID, host, check, result, message, remediation, facts) here")
    group.addoption("--gpverify-debug", action="store_true", default=False,
                    help="pytest's own output: test ids, file paths and Python tracebacks of failed checks (as "
                    "--tb=long does) instead of gpverify's line per check, sentence and remediation")
    group.addoption("--attestations", default=None, metavar="FILE",
                    help="what named people confirmed that gpverify could not read (JSON written by gpverify upgrade): "
                    "a check nothing else verifies then ends as attested, never as passed")
    group.addoption("--backups-since", type=_backups_since, default=None, metavar="DATE-TIME",
                    help="full backups must have finished after this (ISO 8601, no zone: UTC); default: the "
                    "inventory's backups setting (gpverify upgrade passes the run's start to its pre gate)")


def _backups_since(text: str) -> Any:
    try:
        return utc_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date-time such as 2026-11-28T22:00:00Z, got {text!r} "
                                         f"({exc})") from None


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from gpverify import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


# What a site's inventory brings to a lab run (`--lab --inventory site.yml`): its settings for identifiers,
# never its hosts, credentials or SQL server, which are the lab's.
SITE_SETTINGS = ("overrides", "extra_facts")


def _start_lab(config: pytest.Config, scenario: str, site: str | None) -> tuple[str, Any]:
    stack = ExitStack()
    lab = stack.enter_context(extension.lab().temporary_lab(scenario, prefix="gpverify-lab-"))
    config.add_cleanup(stack.close)  # stops the servers and removes the lab's folder
    if site:
        _apply_site_settings(lab.inventory_path, site)
    return str(lab.inventory_path), lab


def _apply_site_settings(lab_inventory: Path, site: str) -> None:
    """The site inventory's overrides (and extra facts) on the lab's farm: try a site's settings on the lab."""
    mine, theirs = read_yaml(lab_inventory, "inventory"), read_yaml(site, "inventory")
    if not isinstance(theirs, dict):
        raise ConfigError(site, "(top level)", "an inventory mapping (farm, sql, web_server, ...)")
    for key in SITE_SETTINGS:
        if isinstance(theirs.get(key), dict):
            mine[key] = {**(mine.get(key) or {}), **theirs[key]}
    lab_inventory.write_text(yaml.safe_dump(mine, sort_keys=False), encoding="utf-8")


@pytest.hookimpl(tryfirst=True)  # before pytest's terminal reporter and pytest-html read their options
def pytest_configure(config: pytest.Config) -> None:
    session.begin(config)
    for line in [MARKER_HELP, *MARKERS]:
        config.addinivalue_line("markers", line)
    if config.getoption("gpverify_html"):
        from gpverify.plugins.html_report import HtmlReport

        config.pluginmanager.register(HtmlReport(config), "gpverify-html")
    lab, inventory = config.getoption("lab"), config.getoption("inventory")
    if not (lab or inventory):
        return  # not a gpverify run: another suite's pytest, or a listing of the checks
    if getattr(config.option, "hosts", None):  # pytest-testinfra's option, when the bench extra is installed
        bad_input("--hosts is pytest-testinfra's option; gpverify limits session hosts with --host NAME")
    _check_outputs(config)
    from gpverify.facts.farm import open_farm

    try:
        # A site inventory given on the command line lends the lab its overrides; GPVERIFY_INVENTORY does not.
        site = inventory if inventory != os.environ.get(INVENTORY_ENV) else None
        path, running = _start_lab(config, lab, site) if lab else (inventory, None)
        farm = open_farm(path, workers=config.getoption("collect_workers"))
    except GpVerifyError as exc:
        bad_input(str(exc))
    session.set_farm(config, farm, running)
    _check_hosts(config, farm)
    _register_faces(config, farm)


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


# Report files a run writes at its end (pytest-html, junitxml, pytest's log file, gpverify's report): a folder,
# a device or a named pipe there would end the run in a traceback (or a hang) after every check had run.
OUTPUT_OPTIONS = {"htmlpath": "--html", "xmlpath": "--junitxml", "log_file": "--log-file",
                  "gpverify_html": "--gpverify-html"}


def _check_outputs(config: pytest.Config) -> None:
    for dest, flag in OUTPUT_OPTIONS.items():
        path = getattr(config.option, dest, None)
        if path:
            try:
                output_file(path, flag, "a report file to write")
            except ConfigError as exc:
                bad_input(f"{flag}: expected {exc.expected}")


def _check_hosts(config: pytest.Config, farm: Farm) -> None:
    known = [s.name for s in farm.hosts("session_host")]
    unknown = [n for n in config.getoption("host") if n.lower() not in {k.lower() for k in known}]
    if unknown:
        bad_input(f"--host {unknown[0]}: not a session host of {farm.origin}; "
                  f"expected one of: {', '.join(known) or '(the inventory lists none)'}")


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
    if checks and not config.option.collectonly:
        session.get_farm(config)


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
    if info is None or call.when == "teardown":
        return None
    debug = session.debugging(item.config)
    report = checkrepr.build(item, call, debug=debug)
    if report.when == "call" or not report.passed:
        result = _result(item, call, report, info)
        setattr(report, REPORT_ATTR, result.as_dict())
        session.record(item.config, result)
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
    return CheckResult(check=info.id, title=info.title, section=info.section, impact=info.impact,
                       remediation=remediation, phase=info.phase or "", test=item.nodeid, host=host,
                       outcome=outcome, message=redactor.text(checkrepr.message(info, item, call, report)),
                       evidence=evidence, farm=farm.inventory.farm if farm else None)


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    special = Outcome.of(getattr(report, "gpverify_outcome", None))
    if special in (Outcome.WARNING, Outcome.NOT_VERIFIED, Outcome.ATTESTED):
        return special.value, special.symbol, (special.label.upper(), {"yellow": True})
    return None
