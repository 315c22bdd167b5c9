"""pytest plugin loaded by bench/collect.py (-p _timing_plugin): times the fact collection.

gpverify collects every host the session's checks read at once when collection finishes (fixtures/hosts.py,
pytest_collection_finish); the `farm` fixture collects what is still missing. Both are timed and added.

Writes {"collect_s": seconds} to the file named by GPVERIFY_BENCH_TIMING. Not part of the suite.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from typing import Any

import pytest

_TIMES: dict[str, float] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_collection_finish(session: pytest.Session) -> Generator[None, None, None]:
    start = time.perf_counter()
    yield
    _TIMES["collect_s"] = _TIMES.get("collect_s", 0.0) + time.perf_counter() - start


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, None, None]:
    if fixturedef.argname != "farm" or "farm_s" in _TIMES:
        yield
        return
    start = time.perf_counter()
    yield
    _TIMES["farm_s"] = time.perf_counter() - start
    _TIMES["collect_s"] = _TIMES.get("collect_s", 0.0) + _TIMES["farm_s"]


def pytest_sessionstart(session: pytest.Session) -> None:
    _TIMES["session_start"] = time.perf_counter()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _TIMES["session_s"] = time.perf_counter() - _TIMES.pop("session_start", time.perf_counter())
    path = os.environ.get("GPVERIFY_BENCH_TIMING")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(_TIMES, fh)
