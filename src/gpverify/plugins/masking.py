"""Masking the farm's secrets at their source: every report and metadata value before any output reads it.

The terminal, JUnit and pytest-html all write what the reports carry (longrepr, captured output, user
properties) and pytest-metadata's table; masking those once, where they are made, keeps every output clean
without touching how pytest or its plugins write (no patched streams or writers). gpverify's own text is
masked where it is made (the result record, gpverify.session.redactor). What pytest writes of its own (live
logs with --log-cli-level, the warnings summary) is not a report: pytest has no hook to mask it, so gpverify's
transports keep secrets out of their log records (transport/winrm.py drops authentication tokens).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from gpverify import session

# pytest-metadata lists CI environment variables, which can hold tokens (pytest-html#233); keep only these.
SAFE_METADATA = {"Python", "Platform", "Packages", "Plugins"}


class Masking:
    """Registered for a run that checks a farm: the only runs that know secrets to mask."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def _mask(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        redactor = session.redactor(self.config)
        if report.longrepr is not None:
            text = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
            if redactor.text(text) != text:  # pytest's own repr (colours, sections) is kept when nothing is secret
                report.longrepr = redactor.longrepr(report.longrepr)
        report.sections = [(title, redactor.text(content)) for title, content in report.sections]
        if isinstance(report, pytest.TestReport):
            report.user_properties = [(name, redactor.data(value)) for name, value in report.user_properties]

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: every other plugin has made its changes
    def pytest_runtest_makereport(self) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        self._mask(report)
        return report

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_make_collect_report(self) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        self._mask(report)
        return report

    @pytest.hookimpl(optionalhook=True)
    def pytest_metadata(self, metadata: dict[str, Any]) -> None:
        farm = session.get_farm(self.config)
        for key in list(metadata):
            if key not in SAFE_METADATA:
                del metadata[key]
        metadata["Farm"] = farm.inventory.farm
        metadata["GP profile"] = farm.profile.name
