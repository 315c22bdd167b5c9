"""Hooks gpverify's plugin offers to other plugins (the audit adds its sections to the report through them)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_gpverify_report_sections(config: pytest.Config) -> list[str]:  # type: ignore[empty-body]
    """HTML sections (already escaped) to show above the results table of --gpverify-html."""


@pytest.hookspec(firstresult=True)
def pytest_gpverify_waiver_cell(waiver: dict[str, Any] | None) -> str | None:  # type: ignore[empty-body]
    """The Waiver column's cell for one result; a plugin that applies waivers answers (adds the column)."""


@pytest.hookspec
def pytest_gpverify_junit_properties(config: pytest.Config) -> list[tuple[str, str]]:  # type: ignore[empty-body]
    """(name, value) properties of the whole run for the --junitxml file's test suite (the audit's waivers)."""
