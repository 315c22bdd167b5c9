"""tests/realworld: the `artifact` marker names the real-world artifacts a test runs the product on."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "artifact(*names): the tests/realworld/artifacts files this test exercises")
