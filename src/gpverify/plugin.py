"""The pytest face of gpverify: options, the farm (or lab) for the session, report columns and evidence."""

from __future__ import annotations

import argparse
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Generator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
import yaml

from gpverify import extension
from gpverify.catalogue import MARKER_HELP, PHASES, CheckInfo, info_of
from gpverify.config.inventory import INVENTORY_ENV, utc_time
from gpverify.config.options import count
from gpverify.config.paths import output_file
from gpverify.config.redact import Redactor
from gpverify.config.yamlfile import read_yaml
from gpverify.errors import ConfigError, FactsUnavailable, GpVerifyError
from gpverify.exitcodes import BAD_INPUT
from gpverify.outcomes import Outcome
from gpverify.results import (
    REPORT_ATTR,
    CheckResult,
    assertion_message,
    host_of,
    phase_of,
    skip_sentence,
    without_host,
)
from gpverify.verdicts import ENDINGS, CheckWarning, outcome_of

if TYPE_CHECKING:  # the farm brings pywinrm, requests and cryptography: imported by a run that checks one
    from gpverify.facts.farm import Farm

farm_key = pytest.StashKey["Farm | None"]()
redactor_key = pytest.StashKey[Redactor]()
evidence_key = pytest.StashKey[dict[str, Any]]()
lab_key = pytest.StashKey[Any]()
results_key = pytest.StashKey[list[CheckResult]]()

IMPACTS = ("critical", "high", "medium", "low")
MARKERS = [*(f"{i}: gpverify checks of {i} impact (-m {i})" for i in IMPACTS),
           *(f"{p}: gpverify checks of the {p} phase (-m {p})" for p in PHASES)]

# Loaded by its pytest11 entry point in every pytest run of an environment where gpverify is installed, so it
# changes nothing (title, metadata, HTML, parametrization) unless the run checks a farm (--inventory or --lab)
# or collects gpverify checks. The checks' fixtures come with it, so a folder of checks needs no conftest.py.
pytest_plugins = ["gpverify.fixtures.hosts", "gpverify.fixtures.sql", "gpverify.fixtures.web",
                  "gpverify.fixtures.post", "gpverify.declarative.plugin", "gpverify.plugins.exitstatus"]

# pytest-metadata lists CI environment variables, which can hold tokens (pytest-html#233); keep only these.
SAFE_METADATA = {"Python", "Platform", "Packages", "Plugins"}


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
                    help="show Python tracebacks of failed checks (as --tb=long does) instead of the check's "
                    "sentence and remediation")
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


def _start_lab(config: pytest.Config, scenario: str, site: str | None) -> str:
    stack = ExitStack()
    lab = stack.enter_context(extension.lab().temporary_lab(scenario, prefix="gpverify-lab-"))
    config.stash[lab_key] = lab
    config.add_cleanup(stack.close)  # stops the servers and removes the lab's folder
    if site:
        _apply_site_settings(lab.inventory_path, site)
    return str(lab.inventory_path)


def _apply_site_settings(lab_inventory: Path, site: str) -> None:
    """The site inventory's overrides (and extra facts) on the lab's farm: try a site's settings on the lab."""
    mine, theirs = read_yaml(lab_inventory, "inventory"), read_yaml(site, "inventory")
    if not isinstance(theirs, dict):
        raise ConfigError(site, "(top level)", "an inventory mapping (farm, sql, web_server, ...)")
    for key in SITE_SETTINGS:
        if isinstance(theirs.get(key), dict):
            mine[key] = {**(mine.get(key) or {}), **theirs[key]}
    lab_inventory.write_text(yaml.safe_dump(mine, sort_keys=False), encoding="utf-8")


def bad_input(message: str) -> NoReturn:
    """Stop the pytest run before any check with gpverify's bad-input exit code (pytest's own would be 4)."""
    raise pytest.exit(f"gpverify: {message}", returncode=BAD_INPUT)


@pytest.hookimpl(tryfirst=True)  # before pytest-html's own configure reads the option
def pytest_configure(config: pytest.Config) -> None:
    config.stash[farm_key] = None
    config.stash[redactor_key] = Redactor.for_environment()
    config.stash[results_key] = []
    for line in [MARKER_HELP, *MARKERS]:
        config.addinivalue_line("markers", line)
    lab, inventory = config.getoption("lab"), config.getoption("inventory")
    if not (lab or inventory):
        return  # not a gpverify run: another suite's pytest, or a listing of the checks
    if getattr(config.option, "hosts", None):  # pytest-testinfra's option, when the bench extra is installed
        bad_input("--hosts is pytest-testinfra's option; gpverify limits session hosts with --host NAME")
    _check_outputs(config)
    # A report is mailed and archived as one file: always inline pytest-html's CSS and scripts.
    if getattr(config.option, "htmlpath", None):
        config.option.self_contained_html = True
    from gpverify.facts.farm import open_farm

    try:
        # A site inventory given on the command line lends the lab its overrides; GPVERIFY_INVENTORY does not.
        site = inventory if inventory != os.environ.get(INVENTORY_ENV) else None
        path = _start_lab(config, lab, site) if lab else inventory
        farm = open_farm(path, workers=config.getoption("collect_workers"))
    except GpVerifyError as exc:
        bad_input(str(exc))
    config.stash[farm_key] = farm
    config.stash[redactor_key] = Redactor.for_farm(farm)
    _check_hosts(config, farm)
    config.pluginmanager.register(HtmlReport(farm), "gpverify-pytest-html")


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


@pytest.hookimpl(trylast=True)  # after the terminal reporter made its writer
def pytest_sessionstart(session: pytest.Session) -> None:
    """Mask secrets where text leaves the process: the terminal, the JUnit file and the HTML report."""
    config = session.config
    if config.stash.get(farm_key, None) is None:
        return  # no farm, no secrets: a pytest run that does not use gpverify is left as it is
    writer = getattr(config.pluginmanager.get_plugin("terminalreporter"), "_tw", None)
    if writer is not None and not isinstance(getattr(writer, "_file", None), MaskedStream):
        writer._file = MaskedStream(writer._file, config)
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ in ("Report", "SelfContainedReport") and hasattr(plugin, "_write_report"):
            write = plugin._write_report
            plugin._write_report = lambda text, write=write: write(_redactor(config).text(text))


class MaskedStream:
    """A text stream that masks the farm's secrets in everything written through it."""

    def __init__(self, stream: Any, config: pytest.Config) -> None:
        self._stream = stream
        self._config = config

    def write(self, text: str) -> int:
        return int(self._stream.write(_redactor(self._config).text(text)) or 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _redactor(config: pytest.Config) -> Redactor:
    return config.stash.get(redactor_key, None) or Redactor()


@pytest.hookimpl(tryfirst=True)  # before junitxml writes its file
def pytest_sessionfinish(session: pytest.Session) -> None:
    redactor = _redactor(session.config)
    for plugin in session.config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "LogXML" and hasattr(plugin, "node_reporters_ordered"):
            _mask_junit(plugin, redactor)
    path = session.config.getoption("gpverify_html")
    if path:
        _write_report(session.config, Path(path), redactor)


def _write_report(config: pytest.Config, path: Path, redactor: Redactor) -> None:
    from gpverify.report import checks as checkreport
    from gpverify.report.render import write_atomically

    farm = config.stash.get(farm_key, None)
    reach = []
    if farm is not None:
        reach = checkreport.connectivity(farm.collected(), {s.name: s.role for s in farm.specs.values()})
    sections = [s for group in config.hook.pytest_gpverify_report_sections(config=config) for s in group or []]
    waiver_impls = config.pluginmanager.hook.pytest_gpverify_waiver_cell.get_hookimpls()
    waiver_cell = (lambda w: config.hook.pytest_gpverify_waiver_cell(waiver=w) or "") if waiver_impls else None
    page = checkreport.render(
        results_of(config), title=(f"SIMULATED LAB \u2014 {TITLE}" if farm is not None and farm.is_lab else TITLE),
        farm=farm.inventory.farm if farm else None, profile=farm.profile.name if farm else None,
        lab=farm.inventory.lab if farm else None, reach=reach, sections=sections, waiver_cell=waiver_cell)
    write_atomically(path, page, redactor)


def _mask_junit(xml: Any, redactor: Redactor) -> None:
    xml.global_properties[:] = [(n, redactor.text(v)) for n, v in xml.global_properties]
    for reporter in xml.node_reporters_ordered:
        if "nodes" not in vars(reporter):  # finalized: junitxml keeps only the element it will write
            _mask_element(reporter.to_xml(), redactor)
            continue
        reporter.attrs = {k: redactor.text(v) for k, v in reporter.attrs.items()}
        reporter.properties = [(n, redactor.text(v)) for n, v in reporter.properties]
        for node in reporter.nodes:
            _mask_element(node, redactor)


def _mask_element(element: ET.Element, redactor: Redactor) -> None:
    for el in element.iter():
        el.text = redactor.text(el.text) if el.text else el.text
        el.tail = redactor.text(el.tail) if el.tail else el.tail
        for key, value in el.attrib.items():
            el.attrib[key] = redactor.text(value)


def get_farm(config: pytest.Config) -> Farm:
    farm = config.stash.get(farm_key, None)
    if farm is None:
        bad_input("no farm to check: pass --inventory FILE (or set GPVERIFY_INVENTORY), or --lab")
    return farm


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
        phase = phase_of(item, info)
        if phase:
            item.add_marker(phase)
        item.extra_keyword_matches.add(info.id)
    # Listing checks needs no farm; running them does.
    if checks and not config.option.collectonly:
        get_farm(config)


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    """With --collect-only, list each check's ID next to its test."""
    if not config.option.collectonly:
        return []
    lines = [f"{info.id}  {item.nodeid}" for item in items if (info := info_of(item))]
    return ["gpverify checks:", *lines] if lines else []


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata: dict[str, Any], config: pytest.Config) -> None:
    if config.stash.get(farm_key, None) is None:
        return  # another suite's run: its metadata is its own
    for key in list(metadata):
        if key not in SAFE_METADATA:
            del metadata[key]
    farm = config.stash.get(farm_key, None)
    if farm is not None:
        metadata["Farm"] = farm.inventory.farm
        metadata["GP profile"] = farm.profile.name


def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[evidence_key] = {}
    info = info_of(item)
    if info:
        item.user_properties.extend(info.properties())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    info = info_of(item)
    _mark_special_outcome(item, call, report)
    unreadable = call.excinfo is not None and call.excinfo.errisinstance(FactsUnavailable)
    if unreadable and report.when == "call":
        # SQL facts are read inside the check; pytest files a failure of the call phase as a failed check,
        # but nothing was judged. Filing it under setup makes terminal, JUnit and HTML all say "error".
        report.when = "setup"
    if info is None or not (report.when == "call" or (report.when == "setup" and not report.passed)):
        return report
    result = _result(item, call, report, info)
    setattr(report, REPORT_ATTR, result.as_dict())
    item.config.stash[results_key].append(result)
    if unreadable:
        # A host or database that could not be read is an error in one line: no traceback, even when debugging
        # (the cause, with its hint, is all there is to know; the connectivity line of the report repeats it).
        report.longrepr = result.message
    elif report.failed and call.excinfo is not None and not _debug(item.config):
        report.longrepr = CheckRepr(result, item, call=call)
    return report


def _debug(config: pytest.Config) -> bool:
    return bool(config.getoption("gpverify_debug")) or config.option.tbstyle == "long"


def _result(item: pytest.Item, call: pytest.CallInfo[None], report: Any, info: CheckInfo) -> CheckResult:
    """The record of one check, masked once here so everything built from it is clean."""
    redactor = _redactor(item.config)
    farm = item.config.stash.get(farm_key, None)
    evidence = redactor.data(item.stash.get(evidence_key, {}))
    hosts = {s.name: s.role for s in farm.specs.values()} if farm else {}
    host = host_of(item, hosts, farm.inventory.sql.server if farm else None, evidence)
    return CheckResult(check=info.id, title=info.title, section=info.section, impact=info.impact,
                       remediation=info.remediation, phase=phase_of(item, info), test=item.nodeid, host=host,
                       outcome=outcome_of(report), message=redactor.text(_message(call, report)),
                       evidence=evidence, farm=farm.inventory.farm if farm else None)


def _message(call: pytest.CallInfo[None], report: Any) -> str:
    """The check's sentence: its assertion message, warning, reason or the one-line error."""
    if report.passed and not getattr(report, "gpverify_outcome", None):
        return ""
    exc = call.excinfo.value if call.excinfo is not None else None
    if isinstance(exc, ENDINGS):
        return exc.message
    if isinstance(exc, FactsUnavailable):
        return f"could not read the facts: {exc}"
    if isinstance(exc, AssertionError):
        return assertion_message(exc)
    if report.skipped:
        return skip_sentence(_reason(report))
    if call.excinfo is not None:
        return call.excinfo.exconly().strip().splitlines()[0]
    return _reason(report)


class CheckRepr:
    """How a failed check shows in the terminal and JUnit: ID, host and sentence, the remediation under it,
    the facts judged with -v; never the Python source (--tb=long or --gpverify-debug shows it)."""

    def __init__(self, result: CheckResult, item: pytest.Item, *, call: pytest.CallInfo[None]) -> None:
        self.result = result
        self.verbose = item.config.option.verbose > 0
        self.bug = call.excinfo is not None and not call.excinfo.errisinstance(AssertionError)
        path, lineno, _ = item.location
        self.reprcrash = _Crash(str(path), (lineno or 0) + 1, result.message)

    def lines(self) -> list[str]:
        r = self.result
        word = "ERROR" if r.outcome == "error" else "FAILED"
        where = f" {r.host}" if r.host else ""
        out = [f"{word} {r.check}{where}  {without_host(r.message, r.host)}"]
        if self.bug:
            out.append("  The check itself broke (a gpverify defect): run with --gpverify-debug for the traceback.")
        else:
            out.append(f"  Remediation: {r.remediation}")
        out.append(f"  Check: {r.title} ({r.section})")
        if self.verbose and r.evidence:
            out.append("  Facts judged:")
            out += [f"    {key}: {json.dumps(value, default=str)}" for key, value in r.evidence.items()]
        elif r.evidence:
            out.append("  (-v shows the facts judged)")
        return out

    def toterminal(self, tw: Any) -> None:
        first, *rest = self.lines()
        tw.line(first, red=True, bold=True)
        for line in rest:
            tw.line(line)

    def __str__(self) -> str:
        return "\n".join(self.lines())


class _Crash:
    """The one-line message pytest's -r summary and JUnit's failure message read (`reprcrash.message`)."""

    def __init__(self, path: str, lineno: int, message: str) -> None:
        self.path, self.lineno, self.message = path, lineno, message

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.message}"


def _mark_special_outcome(item: pytest.Item, call: pytest.CallInfo[None], report: Any) -> None:
    """A check's own ending (verdicts.ENDINGS) named as its gpverify outcome: a warning passes with its message
    kept; the others are pytest's skip (they never read as verified in JUnit or pytest-html)."""
    if call.excinfo is None or not call.excinfo.errisinstance(ENDINGS):
        return
    ending = call.excinfo.value
    report.gpverify_outcome = ending.outcome.value
    if isinstance(ending, CheckWarning):
        report.outcome = "passed"
        report.longrepr = f"warning: {ending.message}"
    props = [("gpverify_outcome", report.gpverify_outcome), ("gpverify_message", str(getattr(call.excinfo.value, "message", "")))]
    item.user_properties.extend(props)  # JUnit writes the teardown report's copy of these
    report.user_properties.extend(props)


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    special = Outcome.of(getattr(report, "gpverify_outcome", None))
    if special in (Outcome.WARNING, Outcome.NOT_VERIFIED, Outcome.ATTESTED):
        return special.value, special.symbol, (special.label.upper(), {"yellow": True})
    return None


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Failed checks in the catalogue's words (with -r f/E, pytest's default), then warnings and checks not
    verified, each with its message: they pass a gate, so they must be seen."""
    chars = str(getattr(terminalreporter.config.option, "reportchars", "") or "")
    failing = [r for r in results_of(terminalreporter.config) if r.failing]
    if failing and ("f" in chars or "E" in chars or "a" in chars.lower()):
        terminalreporter.write_sep("=", "gpverify: checks that failed or could not run", red=True)
        for r in failing:
            word, where = ("FAILED" if r.outcome == "failed" else "ERROR"), f" {r.host}" if r.host else ""
            terminalreporter.write_line(f"{word} {r.check}{where}  {without_host(r.message, r.host)}", red=True)
            if r.outcome == "failed":
                terminalreporter.write_line(f"    Remediation: {r.remediation}")
    for category, title in (("warning", "gpverify warnings (review; they do not block)"),
                            ("not verified", "gpverify checks not verified (set the override named)")):
        reports = terminalreporter.stats.get(category, [])
        if not reports:
            continue
        terminalreporter.write_sep("-", title, yellow=True)
        for rep in reports:
            result = CheckResult.of(rep)
            if result is not None:
                where = f" {result.host}" if result.host else ""
                terminalreporter.write_line(f"{result.check}{where}  {without_host(result.message, result.host)}")
            else:
                terminalreporter.write_line(f"{rep.nodeid}: {_reason(rep)}")


def _reason(report: Any) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2])
    return str(report.longrepr or "")


def replace_result(config: pytest.Config, result: CheckResult) -> None:
    """Put a changed record (e.g. waived by the audit) in place of the plugin's one for the same test."""
    records = config.stash.get(results_key, None) or []
    records[:] = [result if r.test == result.test else r for r in records]


def results_of(config: pytest.Config) -> list[CheckResult]:
    """Every check result of this pytest session, in the order they were made."""
    records: list[CheckResult] | None = config.stash.get(results_key, None)
    return list(records or [])


# --- pytest-html: title, lab banner, check columns (registered only for runs that check a farm) ------------

TITLE = "gpverify: Dynamics GP web client scale-out upgrade checks"


class HtmlReport:
    """pytest-html hooks for a gpverify run; another suite's report keeps its own title and columns."""

    def __init__(self, farm: Farm) -> None:
        self.farm = farm

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        # A lab run's report says in its first line that it checked a simulated lab.
        report.title = f"SIMULATED LAB \u2014 {TITLE}" if self.farm.is_lab else TITLE

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        farm = self.farm
        if farm.inventory.lab:
            lab = farm.inventory.lab
            prefix.append(
                '<p id="gpverify-lab-banner" style="background:#fff3cd;border:2px solid #d39e00;padding:8px;font-weight:bold">'
                f"SIMULATED LAB: this report checked gpverify's built-in simulated farm (scenario "
                f"{_esc(lab.scenario)}, {lab.era} era), not a real Dynamics GP installation.</p>")
        prefix.append(f"<p>Farm: {_esc(farm.inventory.farm)} &mdash; target release profile {_esc(farm.profile.name)}</p>")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, '<th class="sortable" data-column-type="checkid">Check</th>')
        cells.insert(2, "<th>Host</th>")
        cells.insert(3, "<th>Check (the guide's words)</th>")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: Any, cells: list[str]) -> None:
        result = CheckResult.of(report)
        cells.insert(1, f'<td class="col-checkid">{_esc(result.check if result else "")}</td>')
        cells.insert(2, f'<td class="col-host">{_esc((result.host or "") if result else "")}</td>')
        cells.insert(3, f'<td class="col-title">{_esc(result.title if result else "")}</td>')


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
