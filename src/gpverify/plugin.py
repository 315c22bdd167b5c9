"""The pytest face of gpverify: options, the farm (or lab) for the session, report columns and evidence."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Generator
from contextlib import ExitStack
from typing import Any

import pytest

from gpverify.catalogue import info_of
from gpverify.errors import FactsUnavailable, GpVerifyError
from gpverify.facts.collect import DEFAULT_WORKERS
from gpverify.farm import Farm, open_farm
from gpverify.inventory import INVENTORY_ENV, utc_time
from gpverify.outcomes import NOT_VERIFIED, WARNING, CheckWarning, NotVerified
from gpverify.redact import Redactor

farm_key = pytest.StashKey["Farm | None"]()
redactor_key = pytest.StashKey[Redactor]()
evidence_key = pytest.StashKey[dict[str, Any]]()
lab_key = pytest.StashKey[Any]()

# pytest-metadata lists CI environment variables, which can hold tokens (pytest-html#233); keep only these.
SAFE_METADATA = {"Python", "Platform", "Packages", "Plugins"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gpverify", "Dynamics GP web client upgrade checks")
    group.addoption("--inventory", default=os.environ.get(INVENTORY_ENV),
                    help=f"inventory YAML of the farm to check (or set {INVENTORY_ENV})")
    group.addoption("--lab", nargs="?", const="healthy", default=None, metavar="SCENARIO|FILE",
                    help="check a simulated lab started for this session (default scenario: healthy)")
    group.addoption("--host", action="append", default=[], metavar="NAME",
                    help="limit per-host checks to this session host (repeatable)")
    group.addoption("--collect-workers", type=int, default=DEFAULT_WORKERS,
                    help=f"hosts collected at once (default {DEFAULT_WORKERS})")
    group.addoption("--backups-since", type=_backups_since, default=None, metavar="DATE-TIME",
                    help="full backups must have finished after this (ISO 8601, no zone: UTC); default: the "
                    "inventory's backups setting (gpverify upgrade passes the run's start to its pre gate)")


def _backups_since(text: str) -> Any:
    try:
        return utc_time(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date-time such as 2026-11-28T22:00:00Z, got {text!r}") from None


def _start_lab(config: pytest.Config, scenario: str) -> str:
    from gpverify.lab.runtime import temporary_lab

    stack = ExitStack()
    lab = stack.enter_context(temporary_lab(scenario))
    config.stash[lab_key] = lab
    config.add_cleanup(stack.close)  # stops the servers and removes the lab's folder
    return str(lab.inventory_path)


@pytest.hookimpl(tryfirst=True)  # before pytest-html's own configure reads the option
def pytest_configure(config: pytest.Config) -> None:
    # A report is mailed and archived as one file: always inline pytest-html's CSS and scripts.
    if getattr(config.option, "htmlpath", None):
        config.option.self_contained_html = True
    config.stash[farm_key] = None
    config.stash[redactor_key] = Redactor()
    lab, inventory = config.getoption("lab"), config.getoption("inventory")
    if not (lab or inventory):
        return
    try:
        path = _start_lab(config, lab) if lab else inventory
        farm = open_farm(path, workers=config.getoption("collect_workers"))
    except GpVerifyError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[farm_key] = farm
    config.stash[redactor_key] = Redactor.for_farm(farm)
    if farm.is_lab:
        config.pluginmanager.register(LabTitle(), "gpverify-lab-title")


def get_farm(config: pytest.Config) -> Farm:
    farm = config.stash.get(farm_key, None)
    if farm is None:
        raise pytest.UsageError("no farm to check: pass --inventory FILE (or set GPVERIFY_INVENTORY), or --lab")
    return farm


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Listing checks needs no farm; running them does.
    if any(info_of(i) for i in items) and not config.option.collectonly:
        get_farm(config)


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> list[str]:
    """With --collect-only, list each check's ID next to its test."""
    if not config.option.collectonly:
        return []
    lines = [f"{info.id}  {item.nodeid}" for item in items if (info := info_of(item))]
    return ["gpverify checks:", *lines] if lines else []


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata: dict[str, Any], config: pytest.Config) -> None:
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
    if call.excinfo is not None and call.excinfo.errisinstance(FactsUnavailable):
        # A host or database that could not be read is an error, reported in one line without a traceback.
        report.longrepr = f"could not read the facts: {call.excinfo.value}"
        if report.when == "call":
            # SQL facts are read inside the check; pytest files a failure of the call phase as a failed check,
            # but nothing was judged. Filing it under setup makes terminal, JUnit and HTML all say "error".
            report.when = "setup"
    redactor = item.config.stash[redactor_key]
    report.longrepr = redactor.longrepr(report.longrepr)
    report.sections = [(title, redactor.text(body)) for title, body in report.sections]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        evidence = item.stash.get(evidence_key, {})
        report.gpverify = {"check": info.__dict__ if info else None, "evidence": redactor.data(evidence)}
        _attach_html_evidence(item, report, evidence, redactor)
    return report


def _mark_special_outcome(item: pytest.Item, call: pytest.CallInfo[None], report: Any) -> None:
    """A warning passes with its message kept; not verified is pytest's skip, named as gpverify's outcome."""
    if call.excinfo is None:
        return
    if call.excinfo.errisinstance(CheckWarning):
        report.outcome = "passed"
        report.gpverify_outcome = WARNING
        report.longrepr = f"warning: {call.excinfo.value.message}"  # type: ignore[attr-defined]
    elif call.excinfo.errisinstance(NotVerified):
        report.gpverify_outcome = NOT_VERIFIED
    else:
        return
    message = call.excinfo.value.message  # type: ignore[attr-defined]
    props = [("gpverify_outcome", report.gpverify_outcome), ("gpverify_message", message)]
    item.user_properties.extend(props)  # JUnit writes the teardown report's copy of these
    report.user_properties.extend(props)


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    special = getattr(report, "gpverify_outcome", None)
    if special == WARNING:
        return "warning", "W", ("WARNING", {"yellow": True})
    if special == NOT_VERIFIED:
        return "not verified", "N", ("NOT VERIFIED", {"yellow": True})
    return None


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Warnings and checks not verified, each with its message: they pass a gate, so they must be seen."""
    redactor = terminalreporter.config.stash.get(redactor_key, Redactor())
    for category, title in (("warning", "gpverify warnings (review; they do not block)"),
                            ("not verified", "gpverify checks not verified (set the override named)")):
        reports = terminalreporter.stats.get(category, [])
        if not reports:
            continue
        terminalreporter.write_sep("-", title, yellow=True)
        for rep in reports:
            message = dict(getattr(rep, "user_properties", ())).get("gpverify_message") or _reason(rep)
            terminalreporter.write_line(f"{rep.nodeid}: {redactor.text(str(message))}")


def _reason(report: Any) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2])
    return str(report.longrepr or "")


def _attach_html_evidence(item: pytest.Item, report: Any, evidence: dict[str, Any], redactor: Redactor) -> None:
    if not item.config.pluginmanager.hasplugin("html") or not evidence:
        return
    from pytest_html import extras

    payload = json.dumps(redactor.data(evidence), indent=2, default=str)
    report.extras = [*getattr(report, "extras", []), extras.json(json.loads(payload), name="Facts judged")]


# --- pytest-html: title, lab banner, check columns -------------------------------------------------------

TITLE = "gpverify: Dynamics GP web client scale-out upgrade checks"


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report: Any) -> None:
    report.title = TITLE


class LabTitle:
    """Registered only for lab runs: the report's first line says it checked a simulated lab."""

    @pytest.hookimpl(optionalhook=True, trylast=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"SIMULATED LAB \u2014 {TITLE}"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session) -> None:
    farm = session.config.stash.get(farm_key, None)
    if farm is None:
        return
    if farm.inventory.lab:
        lab = farm.inventory.lab
        prefix.append(
            '<p id="gpverify-lab-banner" style="background:#fff3cd;border:2px solid #d39e00;padding:8px;font-weight:bold">'
            f"SIMULATED LAB: this report checked gpverify's built-in simulated farm (scenario "
            f"{_esc(lab.scenario)}, {lab.era} era), not a real Dynamics GP installation.</p>")
    prefix.append(f"<p>Farm: {_esc(farm.inventory.farm)} &mdash; target release profile {_esc(farm.profile.name)}</p>")


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells: list[str]) -> None:
    cells.insert(1, '<th class="sortable" data-column-type="checkid">Check</th>')
    cells.insert(2, "<th>Guide</th>")
    cells.insert(3, "<th>Impact</th>")


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report: Any, cells: list[str]) -> None:
    info = (getattr(report, "gpverify", None) or {}).get("check") or {}
    title = f'<span title="{_esc(info.get("title", ""))}">{_esc(info.get("id", ""))}</span>'
    cells.insert(1, f'<td class="col-checkid">{title}</td>')
    cells.insert(2, f"<td>{_esc(info.get('section', ''))}</td>")
    cells.insert(3, f"<td>{_esc(info.get('impact', ''))}</td>")


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
