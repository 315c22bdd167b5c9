"""A checkout's own conftest: a plain word when gpverify is not installed, and the place for a site's own hooks."""

# The gpverify plugin comes from its pytest11 entry point (pyproject.toml), so `pytest checks/pre` needs the
# checkout installed (`make demo` or `pip install -e .`); without it pytest would stop on an ImportError
# traceback in the first check. A site puts its own fixtures and hooks (gpverify/hookspecs.py) beside this.

from __future__ import annotations

from pathlib import Path

import pytest

CHECKS = Path(__file__).parent / "checks"


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("gpverify") or not any(_in_checks(arg) for arg in config.args):
        return
    raise pytest.UsageError(
        "gpverify is not installed in this Python, so its checks cannot run: in this checkout "
        "run `make demo` once (or `pip install -e .` in your virtual environment), then "
        "`.venv/bin/pytest checks/pre --inventory farm.yml`"
    )


def _in_checks(arg: str) -> bool:
    path = (Path.cwd() / arg.split("::", 1)[0]).resolve()
    return path == CHECKS.resolve() or CHECKS.resolve() in path.parents
