"""Start-up: what gpverify imports and which pytest plugins its own sessions load (never how long they take)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from gpverify.cli import main as cli
from gpverify.cli.site import run_phase
from gpverify.errors import UnsafeQuery
from gpverify.pytestrun import run_checks
from gpverify.results import CheckResult
from gpverify.transport import sqlguard
from helpers.checks import CHECKS

CUSTOM = Path(__file__).resolve().parents[1] / "examples" / "custom_checks"
# Installed pytest plugins other than gpverify's (hypothesis, xdist, pytest-html and pytest-metadata in .[dev]).
OTHER_PLUGINS = sorted({ep.name for ep in entry_points(group="pytest11")} - {"gpverify"})


def imported_by(statement: str) -> set[str]:
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout))


def under(modules: set[str], *packages: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


def test_importing_the_plugin_leaves_sql_parsing_certificates_history_and_the_lab_alone() -> None:
    modules = imported_by("import gpverify.plugin")
    assert "gpverify.plugin" in modules
    assert under(modules, "sqlglot", "cryptography", "gpverify.lab", "sqlalchemy", "alembic", "hypothesis") == []


def test_the_public_api_is_there_and_the_package_alone_imports_none_of_it() -> None:
    assert under(imported_by("import gpverify"), "pytest", "pydantic", "requests", "sqlglot") == []
    modules = imported_by(
        "from gpverify import check, HostView, warn, not_verified, GpSqlView, WebSiteView, "
        "Profile, ConfigError, CertificateFact"
    )
    assert {"gpverify.catalogue", "gpverify.facts.view", "gpverify.facts.gpsql", "gpverify.facts.web"} <= modules
    import gpverify

    assert sorted(gpverify.__all__) == sorted(n for n in dir(gpverify) if n in gpverify.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing_such'"):
        gpverify.nothing_such  # noqa: B018 - the lookup is the test


def test_an_audit_without_notifications_leaves_apprise_alone() -> None:
    # apprise takes a tenth of a second to import: only a run that sends a notification needs it.
    modules = imported_by("import gpverify.audit.runner, gpverify.audit.notify")
    assert under(modules, "apprise") == []


def last_line_json(code: str, cwd: Path) -> object:
    env = {**os.environ, "CI": "true"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False, cwd=cwd, env=env
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_a_run_outside_a_terminal_imports_neither_requests_nor_rich_nor_the_declarative_format() -> None:
    # requests cost every run 40 ms of import for one GET per URL (the web probe uses urllib), rich 30 ms for a
    # progress bar drawn only on an interactive terminal, the YAML checks' format 20 ms where there are none.
    run = ["checks/post", "checks/clients", "--lab", "-q", "-p", "no:cacheprovider", "-k", "GP-CLI-003 or GP-POST-002"]
    code = f"import json, sys, pytest; rc = pytest.main({run!r}); print(); print(json.dumps([rc, sorted(sys.modules)]))"
    rc, modules = last_line_json(code, CHECKS.parent)  # type: ignore[misc]
    assert rc == 0
    assert "gpverify.facts.web" in modules and "gpverify.declarative.plugin" in modules
    assert under(set(modules), "requests", "rich", "gpverify.declarative.schema") == []


def test_full_garbage_collections_wait_for_configure_and_the_threshold_comes_back(tmp_path: Path) -> None:
    code = (
        "import gc, json, pytest; before = gc.get_threshold(); import gpverify.plugin; during = gc.get_threshold(); "
        f"rc = pytest.main(['--co', '-q', '-p', 'no:cacheprovider', {str(tmp_path)!r}]); print(); "
        "print(json.dumps([before, during, gc.get_threshold()]))"
    )
    before, during, after = last_line_json(code, tmp_path)  # type: ignore[misc]
    assert during[:2] == before[:2] and during[2] > before[2]
    assert after == before


def test_what_a_farm_run_made_is_frozen_before_pytests_last_full_collections() -> None:
    # pytest collects garbage in full as a run ends; the plugin freezes the run's items, reports and facts first.
    code = """
import gc, json, pytest
seen = {}
class Spy:
    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config):
        seen["configured"] = gc.get_freeze_count()
    @pytest.hookimpl(tryfirst=True)
    def pytest_unconfigure(self, config):
        seen["ending"] = gc.get_freeze_count()
rc = pytest.main(["checks/post", "--lab", "-q", "-p", "no:cacheprovider", "-k", "GP-POST-002"], plugins=[Spy()])
print()
print(json.dumps([rc, seen]))
"""
    rc, seen = last_line_json(code, CHECKS.parent)  # type: ignore[misc]
    assert rc == 0 and seen["ending"] > seen["configured"] > 0


def test_a_command_imports_only_its_own_subcommand_module() -> None:
    modules = imported_by("from gpverify.cli.main import parser; parser('upgrade')")
    assert "gpverify.cli.upgrade" in modules
    assert under(modules, "gpverify.audit", "gpverify.history", "sqlalchemy", "gpverify.cli.report") == []


@pytest.mark.parametrize("module", sorted(cli.EXTENSIONS))
def test_each_subcommand_module_registers_the_commands_listed_for_it(module: str) -> None:
    sub = argparse.ArgumentParser().add_subparsers()
    import_module(module).register(sub)
    assert tuple(sub.choices) == tuple(cli.EXTENSIONS[module])
    assert not set(sub.choices) & set(cli.BUILT_IN)
    for name, text in cli.EXTENSIONS[module].items():  # the help --help lists is the help the command has
        assert sub._choices_actions[list(sub.choices).index(name)].help == text


def test_the_full_command_line_still_lists_every_command() -> None:
    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == [*cli.BUILT_IN, *(c for cs in cli.EXTENSIONS.values() for c in cs)]


HEAVY = (
    "pytest",
    "pydantic",
    "sqlalchemy",
    "alembic",
    "jinja2",
    "rich",
    "sqlglot",
    "requests",
    "apprise",
    "gpverify.lab",
    "gpverify.facts",
)


def imported_by_command(*argv: str, cwd: Path | None = None) -> set[str]:
    """The modules loaded once `gpverify ARGV` has parsed and run (its output and exit swallowed)."""
    code = (
        "import contextlib, io, json, sys\nfrom gpverify.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        f"    main({list(argv)!r})\nprint(json.dumps(sorted(sys.modules)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout))


# Bounds measured with some room (issue 25.2: `gpverify --version` imported 839 modules): a command that starts
# importing another command's stack fails here, never on a stopwatch.
@pytest.mark.parametrize(
    ("argv", "bound", "allowed"),
    [
        (("--version",), 150, ()),
        (("--help",), 150, ()),
        (("bogus",), 150, ()),
        (("profile",), 220, ()),
        (("inventory", "--help"), 350, ("pydantic",)),
        (("audit", "--help"), 400, ("sqlalchemy", "alembic")),
        (("fleet", "--help"), 400, ("sqlalchemy", "alembic")),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) and v and isinstance(v[0], str) else None,
)
def test_a_command_imports_only_what_it_uses(argv: tuple[str, ...], bound: int, allowed: tuple[str, ...]) -> None:
    modules = imported_by_command(*argv)
    heavy = [p for p in HEAVY if p not in allowed]
    assert under(modules, *heavy) == []
    assert len(modules) <= bound, f"gpverify {' '.join(argv)} imports {len(modules)} modules"


# `gpverify audit --lab` in an empty folder (issue 25: 1,122 modules, 1.1-1.3 s against a target of 0.8 s). A new
# history is made from the metadata without Alembic (tests/history/test_history_schema.py), and the nightly audit
# finds it at the head: neither imports Alembic or its Mako; with no --checks folder and no check file collected,
# the declarative check format's models are not loaded either, nor sqlglot (the audit's checks send the lab no
# SQL to translate, gpverify.lab.tsql), nor requests or rich. Checks and conftest modules count in the bound.
# The lab runs in a process of its own (gpverify.lab.process): this one loads only its SQL connector.
AUDIT_LAB_BOUND = 800  # 784 on 2026-12-07 (808 with the lab in this process): not Alembic (150) or sqlglot (38)


def test_an_audit_of_the_lab_imports_no_alembic_new_history_or_nightly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPVERIFY_LAB_PROCESS", "1")  # the lab in its own process even when no core is free now
    for run in ("new history", "nightly"):
        modules = imported_by_command("audit", "--lab", cwd=tmp_path)
        unneeded = ("alembic", "mako", "apprise", "gpverify.declarative.schema", "sqlglot", "requests", "rich")
        unneeded += ("gpverify.lab.runtime", "gpverify.lab.models", "gpverify.lab.wsman", "gpverify.lab.scenario")
        assert under(modules, *unneeded) == [], run
        assert len(modules) <= AUDIT_LAB_BOUND, f"{run}: gpverify audit --lab imports {len(modules)} modules"
    assert len(list((tmp_path / "reports").glob("audit-*-run2.json"))) == 1  # both recorded, in one history


class PluginProbe:
    """Records the names of the plugins registered in the session it is handed to."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def pytest_configure(self, config: pytest.Config) -> None:
        self.names = {name for name, _plugin in config.pluginmanager.list_name_plugin() if name}


def test_a_gate_session_loads_gpverify_and_no_other_installed_plugin() -> None:
    before = dict(os.environ)
    probe = PluginProbe()
    run = run_checks([str(CHECKS / "post"), "--collect-only", "-q"], [probe], keep_output=True)
    assert run.exit_code == 0, run.output
    assert "gpverify" in probe.names
    assert OTHER_PLUGINS, "the dev extra installs hypothesis, xdist and pytest-html: this test needs them"
    assert sorted(probe.names & set(OTHER_PLUGINS)) == []
    assert not any("hypothesis" in name for name in probe.names)
    assert dict(os.environ) == before  # no PYTEST_DISABLE_PLUGIN_AUTOLOAD (or anything) left behind


def test_a_sites_custom_checks_run_in_such_a_session_on_the_lab() -> None:
    probe = PluginProbe()
    run = run_checks([str(CUSTOM), "--lab", "-q"], [probe], keep_output=True)
    acme = [r for r in run.results if r.check == "ACME-001"]
    assert run.exit_code == 0, run.output
    assert sorted(r.host or "" for r in acme) == ["gp-sh01", "gp-sh02"]
    assert all(isinstance(r, CheckResult) and r.outcome == "passed" for r in acme)
    assert sorted(probe.names & set(OTHER_PLUGINS)) == []


def test_gpverify_run_is_the_administrators_pytest_and_keeps_every_installed_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "site_checks"
    folder.mkdir()
    record = tmp_path / "plugins.json"
    (folder / "conftest.py").write_text(
        "import json\n\n\ndef pytest_configure(config):\n"
        f"    names = [n for n, _ in config.pluginmanager.list_name_plugin() if n]\n"
        f"    open({str(record)!r}, 'w').write(json.dumps(names))\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    run_phase("post", [str(folder)], ["--collect-only", "-q", "-p", "no:cacheprovider"])
    names = set(json.loads(record.read_text(encoding="utf-8")))
    assert "gpverify" in names and set(OTHER_PLUGINS) <= names  # pytest-html's --html, xdist's -n still work


def test_the_sql_guard_parses_a_query_once_and_names_each_caller() -> None:
    query = "SELECT name FROM sys.databases WHERE name = ? -- test_startup, once"
    sqlguard.check_read_only(query, source="first.sql")
    hits = sqlguard._verdict.cache_info().hits
    sqlguard.check_read_only(query, source="second.sql")
    assert sqlguard._verdict.cache_info().hits == hits + 1
    unsafe = "DELETE FROM SY01500 -- test_startup"
    for source in ("a.sql", "b.sql", "a.sql"):  # the cached verdict, never the first caller's name
        with pytest.raises(UnsafeQuery) as err:
            sqlguard.check_read_only(unsafe, source=source)
        assert err.value.source == source and "DELETE" in err.value.reason


def test_the_command_exits_with_mains_code_after_atexit_handlers_and_with_its_output_whole(tmp_path: Path) -> None:
    code = (
        "import atexit, sys; from gpverify.cli.main import console; "
        "atexit.register(lambda: print('atexit ran', file=sys.stderr)); "
        "sys.argv = ['gpverify', 'checks', '--format', 'json']; console()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)  # block-buffered into a pipe: whole only if flushed before the exit
    assert len(rows) >= 40 and rows[0]["id"].startswith("GP-")
    assert "atexit ran" in proc.stderr
    bad = subprocess.run(
        [sys.executable, "-c", code.replace("'checks', '--format', 'json'", "'audit', '--wait', 'soon', '--lab'")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert bad.returncode == 3 and "error:" in bad.stderr
