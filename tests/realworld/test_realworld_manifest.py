"""The corpus is honest: every artifact has one manifest entry naming where it was published, and every
artifact is run through the product by at least one test."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml
from realworld_corpus import ARTIFACTS, HERE, MANIFEST, manifest

KINDS = {"dex_ini", "dynamics_set", "tenant_configuration", "sql_query", "sql_output", "service_list",
         "registry_export", "msiexec", "powershell", "event_log", "error_message", "build_list", "other"}
URL = re.compile(r"^https://[\w.-]+/\S+$")
REPO_PATH = re.compile(r"^[\w.-]+/[\w.-]+$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _used() -> dict[str, list[str]]:
    """artifact -> the tests whose `@uses(...)` names it, read from the test modules' source."""
    used: dict[str, list[str]] = {}
    for module in sorted(HERE.glob("test_*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "uses":
                    for arg in decorator.args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            used.setdefault(arg.value, []).append(f"{module.name}::{node.name}")
    return used


def test_every_artifact_has_exactly_one_manifest_entry() -> None:
    entries = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["artifacts"]
    names = [e["file"] for e in entries]
    files = sorted(p.name for p in ARTIFACTS.iterdir() if p.is_file())
    assert sorted(names) == sorted(set(names)), "a file has more than one entry"
    assert sorted(names) == files


def test_at_least_25_artifacts_of_varied_kinds() -> None:
    kinds = {e["kind"] for e in manifest().values()}
    assert len(manifest()) >= 25
    assert len(kinds) >= 8, kinds


def test_every_entry_names_where_it_was_published() -> None:
    for name, entry in manifest().items():
        source = entry["source"]
        assert entry["kind"] in KINDS, name
        assert str(entry["retrieved"]) == "2026-12-06", name
        assert entry["shows"].strip() and entry["exercises"].strip(), name
        assert URL.match(source.get("url", "")), f"{name}: no published URL"
        if "repo" in source:
            assert REPO_PATH.match(source["repo"]) and source.get("path"), f"{name}: repo without a path"
        if source.get("commit"):
            assert COMMIT.match(source["commit"]), f"{name}: commit {source['commit']!r}"
        assert source.get("excerpt"), f"{name}: how the text was cut from the page is not said"
        assert isinstance(entry["contradicts"], str), name


def test_every_artifact_is_exercised_by_a_test() -> None:
    used = _used()
    unknown = sorted(set(used) - set(manifest()))
    unused = sorted(set(manifest()) - set(used))
    assert not unknown, f"tests name artifacts that do not exist: {unknown}"
    assert not unused, f"artifacts no test runs the product on: {unused}"


def test_each_contradiction_has_a_strict_xfail_naming_issue_21() -> None:
    """An artifact that contradicts a belief is asserted as the truth, marked to flip when the product is fixed."""
    xfailed: set[str] = set()
    for module in sorted(HERE.glob("test_*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            marks = [ast.unparse(d) for d in node.decorator_list]
            if any("xfail" in m and "strict=True" in m and "issue 21" in m for m in marks):
                for d in node.decorator_list:
                    if isinstance(d, ast.Call) and getattr(d.func, "id", "") == "uses":
                        xfailed |= {a.value for a in d.args if isinstance(a, ast.Constant)}
    contradicting = {name for name, entry in manifest().items() if entry["contradicts"].strip()}
    assert contradicting <= xfailed, f"contradictions without a strict xfail: {sorted(contradicting - xfailed)}"


def test_artifacts_are_text_as_published() -> None:
    """Stored as published: UTF-8 text, no byte-order mark added, nothing but what the page has."""
    for path in ARTIFACTS.iterdir():
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), path.name
        data.decode("utf-8")
        assert Path(path).stat().st_size > 0, path.name
