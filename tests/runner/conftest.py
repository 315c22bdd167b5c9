"""Runner test fixtures (the helpers are in tests/helpers/runner.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    return tmp_path / "reports"
