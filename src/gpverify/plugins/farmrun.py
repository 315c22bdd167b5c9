"""The farm a pytest run checks, set up before any check: the lab for --lab (with a site's settings), the report
files and --host names checked first, so bad input is one message and not an error after every check ran."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from gpverify import extension, session
from gpverify.config.inventory import INVENTORY_ENV
from gpverify.config.paths import output_file
from gpverify.config.yamlfile import read_yaml
from gpverify.errors import ConfigError, GpVerifyError
from gpverify.exitcodes import ExitCode
from gpverify.session import bad_input

if TYPE_CHECKING:
    from gpverify.facts.farm import Farm

# What a site's inventory brings to a lab run (`--lab --inventory site.yml`): its settings for identifiers,
# never its hosts, credentials or SQL server, which are the lab's.
SITE_SETTINGS = ("overrides", "extra_facts")


def start_lab(config: pytest.Config, scenario: str, site: str | None) -> tuple[str, Any]:
    stack = ExitStack()
    lab = stack.enter_context(extension.lab().temporary_lab(scenario, prefix="gpverify-lab-"))
    config.add_cleanup(stack.close)  # stops the servers and removes the lab's folder
    if site:
        apply_site_settings(lab.inventory_path, site)
    return str(lab.inventory_path), lab


def apply_site_settings(lab_inventory: Path, site: str) -> None:
    """The site inventory's overrides (and extra facts) on the lab's farm: try a site's settings on the lab."""
    mine, theirs = read_yaml(lab_inventory, "inventory"), read_yaml(site, "inventory")
    if not isinstance(theirs, dict):
        raise ConfigError(site, "(top level)", "an inventory mapping (farm, sql, web_server, ...)")
    for key in SITE_SETTINGS:
        if isinstance(theirs.get(key), dict):
            mine[key] = {**(mine.get(key) or {}), **theirs[key]}
    lab_inventory.write_text(yaml.safe_dump(mine, sort_keys=False), encoding="utf-8")


# Report files a run writes at its end (pytest-html, junitxml, pytest's log file, gpverify's report): a folder,
# a device or a named pipe there would end the run in a traceback (or a hang) after every check had run.
OUTPUT_OPTIONS = {
    "htmlpath": "--html",
    "xmlpath": "--junitxml",
    "log_file": "--log-file",
    "gpverify_html": "--gpverify-html",
}


def check_outputs(config: pytest.Config) -> None:
    for dest, flag in OUTPUT_OPTIONS.items():
        path = getattr(config.option, dest, None)
        if path:
            try:
                output_file(path, flag, "a report file to write")
            except ConfigError as exc:
                bad_input(f"{flag}: expected {exc.expected}")


def check_hosts(config: pytest.Config, farm: Farm) -> None:
    known = [s.name for s in farm.hosts("session_host")]
    unknown = [n for n in config.getoption("host") if n.lower() not in {k.lower() for k in known}]
    if unknown:
        bad_input(
            f"--host {unknown[0]}: not a session host of {farm.origin}; "
            f"expected one of: {', '.join(known) or '(the inventory lists none)'}"
        )


def open_for(config: pytest.Config, lab: str | None, inventory: str | None) -> tuple[Farm, Any]:
    """The farm this run checks (--lab, else --inventory: one of them is given) and the lab started for it (or
    None); bad input ends the run in one message."""
    if getattr(config.option, "hosts", None):  # pytest-testinfra's option, when the bench extra is installed
        bad_input("--hosts is pytest-testinfra's option; gpverify limits session hosts with --host NAME")
    check_outputs(config)
    from gpverify.facts.farm import open_farm

    try:
        # A site inventory given on the command line lends the lab its overrides; GPVERIFY_INVENTORY does not.
        site = inventory if inventory != os.environ.get(INVENTORY_ENV) else None
        path, running = start_lab(config, lab, site) if lab else (str(inventory), None)
        farm = open_farm(path, workers=config.getoption("collect_workers"))
    except GpVerifyError as exc:
        bad_input(str(exc))
    check_hosts(config, farm)
    return farm, running


class NoFarm:
    """Checks collected to run, but no farm given: they are deselected and the run ends as bad input.

    pytest.exit raised while collecting would be reported as an interruption under pytest's own exception name."""

    def __init__(self, message: str) -> None:
        self.message = message

    @classmethod
    def refuse(cls, config: pytest.Config, items: list[pytest.Item]) -> None:
        from gpverify.catalogue import info_of

        config.hook.pytest_deselected(items=[i for i in items if info_of(i)])
        items[:] = [i for i in items if not info_of(i)]
        config.pluginmanager.register(cls(f"gpverify: {session.NO_FARM}"), "gpverify-no-farm")

    @pytest.hookimpl(trylast=True)  # after gpverify's exit status plugin has set the code from the outcomes
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        session.exitstatus = ExitCode.BAD_INPUT

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_line(self.message, red=True, bold=True)
