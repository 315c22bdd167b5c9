"""Shared test harness: pytester, and the run_checks fixture (tests/helpers/checks.py)."""

from __future__ import annotations

from helpers.checks import run_checks  # noqa: F401 - a fixture for every test

pytest_plugins = ["pytester"]

# A site's custom checks, run by tests/examples/test_custom_checks.py against the lab; not the suite's tests.
collect_ignore = ["examples/custom_checks"]
