"""Report templates compiled once and kept between runs, as Python keeps compiled modules: the same pages from the
cache as from the templates, none kept under PYTHONDONTWRITEBYTECODE, and a cache that cannot be read or written
is no cache, never a failed report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from gpverify.report.render import build_environment, bytecode_cache

TEMPLATE = "summary.html.j2"


CONTEXT = {
    "run_id": 7,
    "status": "failed <b>",
    "lab": {"scenario": "healthy"},
    "inventory": "farm.yml",
    "message": "m & m",
    "stopped": ["stopped at GATE-2"],
    "rows": [{"status": "passed", "id": "GATE-1", "what": "pre", "report": "r.html", "who": "x", "when": "t"}],
}


def _bucket_loaded(directory: Path) -> bool:
    """Whether a fresh environment finds the template's compiled code in the cache (Jinja2's public bucket API)."""
    compiled = bytecode_cache(str(directory))
    assert compiled is not None
    env = build_environment(compiled)
    source, filename, _uptodate = env.loader.get_source(env, TEMPLATE)  # type: ignore[union-attr]
    return compiled.get_bucket(env, TEMPLATE, filename, source).code is not None


@pytest.fixture
def bytecode_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


@pytest.mark.usefixtures("bytecode_on")
def test_a_template_is_compiled_once_and_the_next_environment_reads_it_from_the_cache(tmp_path: Path) -> None:
    assert not _bucket_loaded(tmp_path)
    fresh = build_environment(None).get_template(TEMPLATE).render(**CONTEXT)
    first = build_environment(bytecode_cache(str(tmp_path))).get_template(TEMPLATE).render(**CONTEXT)
    assert [p.name.startswith("gpverify-") for p in tmp_path.iterdir()] == [True]
    assert _bucket_loaded(tmp_path)
    cached = build_environment(bytecode_cache(str(tmp_path))).get_template(TEMPLATE).render(**CONTEXT)
    assert fresh == first == cached
    assert "failed &lt;b&gt;" in cached and "m &amp; m" in cached  # autoescaped from the cache too


def test_nothing_is_kept_under_pythondontwritebytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert bytecode_cache(str(tmp_path)) is None


@pytest.mark.usefixtures("bytecode_on")
def test_a_damaged_cache_is_compiled_again(tmp_path: Path) -> None:
    build_environment(bytecode_cache(str(tmp_path))).get_template(TEMPLATE)
    for kept in tmp_path.iterdir():
        kept.write_bytes(kept.read_bytes()[:20] + b"\x00garbage")
    assert not _bucket_loaded(tmp_path)
    build_environment(bytecode_cache(str(tmp_path))).get_template(TEMPLATE)  # no exception: compiled again


@pytest.mark.usefixtures("bytecode_on")
def test_a_cache_that_cannot_be_written_or_read_is_no_cache(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder would be", encoding="utf-8")
    page = build_environment(bytecode_cache(str(not_a_folder))).get_template(TEMPLATE).render(**CONTEXT)
    assert page == build_environment(None).get_template(TEMPLATE).render(**CONTEXT)
