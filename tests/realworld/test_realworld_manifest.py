"""The corpus is honest: every artifact has one manifest entry naming where it was published, and every
artifact is run through the product by at least one test."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml
from realworld_corpus import ARTIFACTS, HERE, MANIFEST, manifest

KINDS = {
    "dex_ini",
    "dynamics_set",
    "tenant_configuration",
    "sql_query",
    "sql_output",
    "service_list",
    "registry_export",
    "msiexec",
    "powershell",
    "event_log",
    "error_message",
    "build_list",
    "other",
}
URL = re.compile(r"^https://[\w.-]+/\S+$")
REPO_PATH = re.compile(r"^[\w.-]+/[\w.-]+$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


def _constants(tree: ast.Module) -> dict[str, object]:
    """The module's top-level NAME = <literal> assignments (artifact names, ISSUE), for reading decorators."""
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = _value(node.value, found)
            except ValueError:
                continue
    return found


def _value(node: ast.expr, constants: dict[str, object]) -> object:
    """A decorator argument's value: a literal, a module constant, or a + of them."""
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _value(node.left, constants) + _value(node.right, constants)  # type: ignore[operator]
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise ValueError(ast.unparse(node)) from None


def _marks() -> list[tuple[str, set[str], bool]]:
    """(test, the artifacts its `@uses(...)` names, whether it is a strict xfail naming issue 21) per test."""
    found = []
    for module in sorted(HERE.glob("test_*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        constants = _constants(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            names: set[str] = set()
            contradiction = False
            for decorator in node.decorator_list:
                if not isinstance(decorator, ast.Call):
                    continue
                if getattr(decorator.func, "id", "") == "uses":
                    for arg in decorator.args:
                        value = _value(arg.value if isinstance(arg, ast.Starred) else arg, constants)
                        names |= set(value) if isinstance(value, (list, tuple)) else {str(value)}
                if ast.unparse(decorator.func).endswith("mark.xfail"):
                    keywords = {k.arg: _value(k.value, constants) for k in decorator.keywords}
                    contradiction = keywords.get("strict") is True and "issue 21" in str(keywords.get("reason", ""))
            if names:
                found.append((f"{module.name}::{node.name}", names, contradiction))
    return found


def _used() -> dict[str, list[str]]:
    """artifact -> the tests whose `@uses(...)` names it, read from the test modules' source."""
    used: dict[str, list[str]] = {}
    for test, names, _ in _marks():
        for name in names:
            used.setdefault(name, []).append(test)
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
    xfailed = set().union(*(names for _, names, contradiction in _marks() if contradiction))
    contradicting = {name for name, entry in manifest().items() if entry["contradicts"].strip()}
    assert contradicting <= xfailed, f"contradictions without a strict xfail: {sorted(contradicting - xfailed)}"


def test_artifacts_are_text_as_published() -> None:
    """Stored as published: UTF-8 text, no byte-order mark added, nothing but what the page has."""
    for path in ARTIFACTS.iterdir():
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), path.name
        data.decode("utf-8")
        assert Path(path).stat().st_size > 0, path.name
