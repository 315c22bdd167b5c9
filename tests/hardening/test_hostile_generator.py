"""The hostile-input generator (issue 23) over every file format and every command's flags.

`make test` runs a fixed-seed sample (GENERATOR_SAMPLE cases in all); `make fuzz` sets GPVERIFY_FUZZ_CASES (at
least 5,000 in all) and writes the figures to tests/hardening/fuzz-figures.json, which the README quotes.
Every case: 0 tracebacks, 0 hangs, 0 silent acceptances.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import math
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hardening_support import FIGURES, REPO, hardening_figures  # noqa: F401
from hostile_generator import (
    HOSTILE_NUMBERS,
    HOSTILE_TEXT,
    LINE_BREAKS,
    SPECIAL,
    Accepted,
    Case,
    Description,
    Figures,
    as_json,
    classify_call,
    classify_cli,
    damage_history,
    dump,
    has_control,
    mutated,
    outcome_of,
    run_subprocess,
    special_files,
    text_mutated,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from gpverify.audit.waivers import WaiverFile, load_waivers
from gpverify.cli.inventory import check_inventory
from gpverify.config.inventory import Inventory
from gpverify.declarative.schema import CheckFile, load_check_file
from gpverify.lab.scenario import Scenario, apply_scenario, load_scenario
from gpverify.runner.plan import FarmShape, Plan, load_plan

FULL = int(os.environ.get("GPVERIFY_FUZZ_CASES", "0"))  # make fuzz: the whole run
SEED = int(os.environ.get("GPVERIFY_FUZZ_SEED", "23"))
FIGURES_FILE = REPO / "tests" / "hardening" / "fuzz-figures.json"
# Cases per surface: a fixed-seed sample in `make test`, a share of GPVERIFY_FUZZ_CASES in `make fuzz`.
SHARE = {
    "inventory": 0.20,
    "plan": 0.13,
    "plan run": 0.03,
    "waiver": 0.11,
    "scenario": 0.13,
    "check file": 0.08,
    "history": 0.05,
    "cli": 0.25,
    "subprocess": 0.02,
}
SAMPLE = {
    "inventory": 60,
    "plan": 40,
    "plan run": 4,
    "waiver": 40,
    "scenario": 30,
    "check file": 30,
    "history": 12,
    "cli": 70,
    "subprocess": 4,
}


def examples(surface: str) -> int:
    return max(1, round(FULL * SHARE[surface])) if FULL else SAMPLE[surface]


def configured(surface: str) -> Any:
    """Hypothesis settings of one surface: a fixed seed, no example database (the sample is the same each run)."""

    def wrap(test: Any) -> Any:
        test = settings(
            max_examples=examples(surface),
            deadline=None,
            database=None,
            derandomize=not FULL,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )(test)
        return hypothesis_seed(SEED)(test) if FULL else test

    return wrap


RESULTS = Figures()
SHAPE = FarmShape(
    {
        "gpweb01.contoso.local": "web_server",
        "gpsh01.contoso.local": "session_host",
        "gpsh02.contoso.local": "session_host",
        "ws-fin-001.contoso.local": "client",
        "gpten01.contoso.local": "tenant_services",
    },
    "html",
)
WORK = Path(os.environ.get("GPVERIFY_FUZZ_DIR", "")) if os.environ.get("GPVERIFY_FUZZ_DIR") else None


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def specials(work: Path) -> dict[str, str]:
    return special_files(work / "specials")


def record(case: Case, outcome: str, message: str) -> str:
    final = outcome_of(case, outcome, message)
    detail = message if final != "silent" else f"accepted, but must refuse: {case.must_refuse}"
    if final != outcome or final in ("traceback", "hang"):
        detail += f" | input: {(case.text or ' '.join(case.argv or []))[:600]!r}"
    RESULTS.add(case, final, detail)
    return final


# --- the file formats ------------------------------------------------------------------------------------

INVENTORY = Description(Inventory)
PLAN = Description(Plan)
WAIVERS = Description(WaiverFile)
SCENARIO = Description(Scenario)


class CheckFileDescription(Description):
    """The check file's schema, where a number written for a version or a registry view is the text it was
    written as (declarative/schema.py `_as_text`: `min_version: 18.4` is "18.4"), as the loader reads it."""

    AS_TEXT = ("min_version", "version", "view")

    def fits(self, doc: Any) -> bool:
        return super().fits(self._as_text(doc))

    def _as_text(self, doc: Any, depth: int = 0) -> Any:
        if depth > 100:
            return doc
        if isinstance(doc, list):
            return [self._as_text(v, depth + 1) for v in doc]
        if not isinstance(doc, dict):
            return doc
        return {
            k: str(v)
            if k in self.AS_TEXT and isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            else self._as_text(v, depth + 1)
            for k, v in doc.items()
        }


CHECK_FILE = CheckFileDescription(CheckFile)

BASE_INVENTORY: dict[str, Any] = yaml.safe_load((REPO / "inventory.example.yml").read_text(encoding="utf-8"))
BASE_PLAN: dict[str, Any] = yaml.safe_load((REPO / "plans" / "example-plan.yml").read_text(encoding="utf-8"))
TODAY = dt.date(2026, 11, 20)
BASE_WAIVERS: dict[str, Any] = {
    "waivers": [
        {
            "check": "GP-POST-002",
            "host": "gp-sh02",
            "justification": "gp-sh02 is being rebuilt",
            "approver": "jane",
            "risk": "medium",
            "created": TODAY.isoformat(),
            "expires": (TODAY + dt.timedelta(days=10)).isoformat(),
        },
        {
            "check": "GP-PRE-004",
            "justification": "unused module",
            "approver": "john",
            "risk": "low",
            "created": TODAY.isoformat(),
            "expires": (TODAY + dt.timedelta(days=30)).isoformat(),
            "tables": ["LAB10200"],
        },
    ]
}
BASE_CHECK_FILE: dict[str, Any] = yaml.safe_load(
    (REPO / "tests" / "examples" / "custom_checks" / "acme.checks.yml").read_text(encoding="utf-8")
)
BASE_SCENARIO: dict[str, Any] = {
    "description": "hostile",
    "base": "healthy",
    "era": "html",
    "proves": ["GP-POST-002"],
    "hosts": {
        "gp-sh02": {
            "services": {"session_service": {"status": "Stopped"}},
            "latency": 0.0,
            "products": {"web_components": "18.4.1000"},
        },
        "gp-cl001": {
            "certificates": {
                "trusted_publisher_store": [{"subject": "CN=x", "issuer": "CN=y", "not_after": -10, "chain_ok": True}]
            }
        },
    },
    "sql": {"DYNAMICS": {"ACTIVITY": {"add": [{"USERID": "sa"}], "where": {}, "set": {}, "delete": False}}},
    "remove_hosts": ["gp-sh01"],
    "drop_databases": ["CONTO"],
    "web_site": {"cert_days_left": 5, "down": False},
}
# The shipped facts of each role (facts/windows.py), by section: an extra fact of one of these keys shadows it.
SHIPPED = {
    "services": {
        "session_central",
        "gp_service",
        "session_service",
        "dex_service_control",
        "dexterity_service",
        "tenant_discovery",
        "tenant_management",
    },
    "files": {"dynamics_exe", "dex_ini", "dynamics_set", "tenant_configuration"},
    "texts": {"dynamics_set", "tenant_configuration"},
    "products": {"web_components", "web_client_help", "gp_desktop", "tenant_services"},
    "registry": {"odbc_dsn", "web_components_config_db", "silverlight_trust_64", "silverlight_trust_32"},
}


def must_refuse(desc: Description, doc: Any, specials: dict[str, str], extra: str | None = None) -> str | None:
    """Why the description says this document must be refused, or None."""
    if extra:
        return extra
    if has_control(doc):
        return "text with a control character"
    special = {v for k, v in specials.items() if k in SPECIAL}
    if _special_path(doc, special):
        return "a special file where gpverify reads a file"
    if not desc.fits(doc):
        return "outside the JSON schema of the format"
    return None


def _special_path(doc: Any, special: set[str], depth: int = 0) -> bool:
    if depth > 100:  # no path field is that deep in any format
        return False
    if isinstance(doc, dict):
        return any(
            (
                k in ("ca_bundle", "cert_pem", "cert_key_pem", "history")
                and isinstance(v, str)
                and v in special
                and not (k == "history" and v.endswith("big.pem"))
            )
            or _special_path(v, special, depth + 1)
            for k, v in doc.items()
        )
    return isinstance(doc, list) and any(_special_path(v, special, depth + 1) for v in doc)


def inventory_rules(doc: Any) -> str | None:
    """The issue's own rules the JSON schema cannot say: a shipped fact shadowed, lab_dir outside a lab."""
    if not isinstance(doc, dict):
        return None
    sql = doc.get("sql")
    if isinstance(sql, dict) and sql.get("lab_dir") is not None and doc.get("lab") is None:
        return "sql.lab_dir in an inventory without lab:"
    extra = doc.get("extra_facts")
    for group in extra.values() if isinstance(extra, dict) else []:
        for section, keys in group.items() if isinstance(group, dict) else []:
            if isinstance(keys, dict) and set(map(str, keys)) & SHIPPED.get(section, set()):
                return f"an extra fact shadowing a shipped {section} fact"
    return None


def document(desc: Description, base: Any, specials: dict[str, str]) -> st.SearchStrategy[tuple[str, Any, str, Any]]:
    """("doc", document, how, None) from a mutated base or from the schema alone, or ("text", text, how, must
    refuse) from a mutation of the base's YAML text the parsed form cannot hold."""
    return st.one_of(
        mutated(desc, base, specials).map(lambda m: ("doc", m[0], m[1], None)),
        desc.values(desc.root).map(lambda d: ("doc", d, "generated from the schema", None)),
        text_mutated(dump(base)).map(lambda t: ("text", t[0], t[1], t[2])),
    )


def _file_case(
    surface: str, desc: Description, item: tuple[str, Any, str, Any], specials: dict[str, str], rules: Any = None
) -> Case:
    form, payload, how, text_rule = item
    if form == "text":
        return Case(surface, how, text=payload, must_refuse=text_rule)
    reason = must_refuse(desc, payload, specials, rules(payload) if rules else None)
    text = dump(payload)
    if len(text.encode()) > 1024 * 1024:
        reason = reason or "a file over 1 MB"
    return Case(surface, how, doc=payload, text=text, must_refuse=reason)


def _run_file(case: Case, folder: Path, load: Any) -> str:
    path = folder / f"{case.surface.replace(' ', '-')}.yml"
    path.write_text(case.text or "", encoding="utf-8")
    outcome, message = classify_call(lambda: load(path))
    return record(case, outcome, message)


def assert_surface_clean(surface: str) -> None:
    bad = {k: [line for line in v if line.startswith(f"{surface}: ")] for k, v in RESULTS.bad.items()}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, json.dumps({k: v[:8] for k, v in bad.items()}, indent=1)[:6000]


def test_inventories(work: Path, specials: dict[str, str]) -> None:
    @configured("inventory")
    @given(item=document(INVENTORY, BASE_INVENTORY, specials))
    def one(item: Any) -> None:
        case = _file_case("inventory", INVENTORY, item, specials, inventory_rules)
        _run_file(case, work, lambda p: check_inventory(str(p)))

    one()
    assert_surface_clean("inventory")


def test_plans(work: Path, specials: dict[str, str]) -> None:
    @configured("plan")
    @given(item=document(PLAN, BASE_PLAN, specials))
    def one(item: Any) -> None:
        _run_file(_file_case("plan", PLAN, item, specials), work, lambda p: load_plan(p, SHAPE))

    one()
    assert_surface_clean("plan")


def test_waivers(work: Path, specials: dict[str, str]) -> None:
    @configured("waiver")
    @given(item=document(WAIVERS, BASE_WAIVERS, specials), as_list=st.booleans())
    def one(item: Any, as_list: bool) -> None:
        case = _file_case("waiver", WAIVERS, item, specials)
        if item[0] == "doc" and item[1] is None:
            case.must_refuse = None  # an empty waiver file: no waivers (as `waivers: []`)
        if as_list and isinstance(case.doc, dict) and set(case.doc) == {"waivers"}:
            case.text = dump(case.doc["waivers"])  # the same waivers as a list, the file's other form
        _run_file(case, work, load_waivers)

    one()
    assert_surface_clean("waiver")


def test_scenarios(work: Path, specials: dict[str, str]) -> None:
    @configured("scenario")
    @given(item=document(SCENARIO, BASE_SCENARIO, specials))
    def one(item: Any) -> None:
        case = _file_case("scenario", SCENARIO, item, specials)
        _run_file(case, work, lambda p: apply_scenario(load_scenario(str(p))))

    one()
    assert_surface_clean("scenario")


def test_check_files(work: Path, specials: dict[str, str]) -> None:
    """Declarative NAME.checks.yml files, read as `--checks DIR` and pytest's collection read them."""

    @configured("check file")
    @given(item=document(CHECK_FILE, BASE_CHECK_FILE, specials))
    def one(item: Any) -> None:
        _run_file(_file_case("check file", CHECK_FILE, item, specials), work, load_check_file)

    one()
    assert_surface_clean("check file")


# --- a plan that passes --dry-run runs -------------------------------------------------------------------


def test_a_plan_that_passes_dry_run_runs(
    work: Path, specials: dict[str, str], lab_inventory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plans the loader accepts run to their end on the lab's inventory: gates and remote steps stubbed (the
    gates' checks are the checks' own tests), local commands run as `true` after the checks Popen makes."""
    from gpverify.runner import engine

    plan = copy.deepcopy(BASE_PLAN)
    plan["phases"] = [p for p in plan["phases"] if p["phase"] != "hosts"]  # the lab's hosts have other names
    for step in (step for phase in plan["phases"] for step in phase.get("steps", [])):
        if step.get("kind") == "remote":
            step["host"] = "gp-sh01"
        else:
            step.pop("host", None)
    lab_shape = FarmShape({"gp-web01": "web_server", "gp-sh01": "session_host"}, "html")
    _stub_execution(monkeypatch, engine)

    @configured("plan run")
    @given(item=document(PLAN, plan, specials))
    def one(item: Any) -> None:
        case = _file_case("plan run", PLAN, item, specials)
        path = work / "run-plan.yml"
        path.write_text(case.text or "", encoding="utf-8")
        if classify_call(lambda: load_plan(path, lab_shape))[0] != "accepted":
            return  # only plans the loader accepts are run (the others are test_plans')
        reports = work / f"run-{time.monotonic_ns()}"
        outcome, message = classify_cli(
            [
                "upgrade",
                "--inventory",
                str(lab_inventory),
                "--plan",
                str(path),
                "--yes",
                "--confirmed-by",
                "fuzz",
                "--reports",
                str(reports),
            ]
        )
        if outcome == "refused" and "STOPPED" in message:
            outcome = "accepted"  # a step that failed ran: the run ended as a run does
        record(case, outcome, message)
        shutil.rmtree(reports, ignore_errors=True)

    one()
    assert_surface_clean("plan run")


def _stub_execution(monkeypatch: pytest.MonkeyPatch, engine: Any) -> None:
    from gpverify.exitcodes import ExitCode
    from gpverify.runner.gates import GateResult

    def gate(
        checks: Path, phase: str, host: Any, inventory: Path, folder: Path, gate_id: str, *a: Any, **k: Any
    ) -> GateResult:
        report, results = folder / f"{gate_id}.html", folder / f"{gate_id}.results.json"
        report.write_text("<p>stub</p>", encoding="utf-8")  # the names a real gate writes: long ids fail here
        results.write_text("{}", encoding="utf-8")
        return GateResult(ExitCode.PASSED, report, results)

    real = engine.subprocess.Popen

    def popen(argv: list[str], **kw: Any) -> Any:
        if any("\0" in a for a in argv):  # what Popen itself refuses, before any program starts
            raise ValueError("embedded null byte")
        return real(["true"], **kw)

    class Shell:
        def __init__(self, *a: Any) -> None:
            pass

        def __enter__(self) -> Any:
            return self

        def __exit__(self, *a: object) -> None:
            pass

        def run(self, *a: Any) -> Any:
            return argparse.Namespace(exit_code=0, stdout=b"ok", stderr=b"")

    monkeypatch.setattr(engine, "run_gate", gate)
    monkeypatch.setattr(engine.subprocess, "Popen", popen)
    monkeypatch.setattr(engine, "WinRMTransport", Shell)


@pytest.fixture(scope="module")
def lab_inventory(work: Path) -> Iterator[Path]:
    """A lab inventory that opens (its password set) but whose hosts are never contacted by these tests."""
    from gpverify.lab.runtime import LAB_PASSWORD_ENV, temporary_lab

    with temporary_lab("healthy") as lab:
        path = work / "lab-inventory.yml"
        shutil.copy(lab.inventory_path, path)
        data = yaml.safe_load(path.read_text())
        data["sql"]["lab_dir"] = str(work / "lab-sql")
        shutil.copytree(lab.workdir / "sql", work / "lab-sql", dirs_exist_ok=True)
        data["web_server"]["ca_bundle"] = str(work / "lab-ca.pem")
        shutil.copy(lab.workdir / "lab-ca.pem", work / "lab-ca.pem")
        path.write_text(yaml.safe_dump(data))
        password = os.environ[LAB_PASSWORD_ENV]
    os.environ[LAB_PASSWORD_ENV] = password
    yield path


# --- the history commands read, row by row damaged ---------------------------------------------------------


@pytest.fixture(scope="module")
def history_template(work: Path) -> Path:
    from gpverify.history.store import History
    from gpverify.outcomes import Outcome
    from gpverify.results import CheckResult

    path = work / "template" / "history.sqlite"
    path.parent.mkdir()
    with History(path) as history:
        for n in range(2):
            run = history.start_run("farm", "inv.yml")
            result = CheckResult(
                check="GP-POST-002",
                test=f"t{n}",
                host="gp-sh01",
                outcome=Outcome.FAILED,
                message="stopped",
                waiver={"check": "GP-POST-002"},
            )
            history.finish_run(
                run,
                status="failed",
                exit_code=1,
                waited=0.0,
                rounds=1,
                reports={"html": "x.html"},
                results=[result],
                facts={"gp-sh01": {"services": {"a": 1}}},
            )
        history.save_baseline("default", "farm", "inv.yml", {"gp-sh01": {"services": {"a": 2}}})
    return path


def test_damaged_history_rows(work: Path, history_template: Path) -> None:
    from hostile_generator import DAMAGE, HISTORY_COLUMNS

    @configured("history")
    @given(table=st.sampled_from(sorted(HISTORY_COLUMNS)), data=st.data())
    def one(table: str, data: st.DataObject) -> None:
        column = data.draw(st.sampled_from(HISTORY_COLUMNS[table]))
        value = data.draw(st.sampled_from(DAMAGE))
        command = data.draw(
            st.sampled_from(
                [
                    ["fleet", "--format", "json"],
                    ["history"],
                    ["baseline", "diff", "last", "baseline"],
                    ["baseline", "diff", "1", "2"],
                ]
            )
        )
        reports = work / f"h-{time.monotonic_ns()}"
        reports.mkdir()
        shutil.copy(history_template, reports / "history.sqlite")
        damage_history(reports / "history.sqlite", table, column, value)
        case = Case("history", f"{table}.{column} = {str(value)[:40]!r}; gpverify {' '.join(command)}")
        record(case, *classify_cli([*command, "--reports", str(reports)]))
        shutil.rmtree(reports, ignore_errors=True)

    one()
    assert_surface_clean("history")


# --- every command's flags, walked from the parser ---------------------------------------------------------


def flags() -> list[tuple[tuple[str, ...], argparse.Action]]:
    """(command path, action) of every option and argument of every subcommand (argparse's own record)."""
    from gpverify.cli.main import parser

    found: list[tuple[tuple[str, ...], argparse.Action]] = []

    def walk(p: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))
            elif not isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                found.append((path, action))

    # `gpverify --help` lists the commands kept in their own modules by name only (gpverify.cli.commands): each
    # is walked in the command line made for it, where its module registers it whole.
    top = next(a for a in parser(None)._actions if isinstance(a, argparse._SubParsersAction))
    for name in top.choices:
        whole = next(a for a in parser(name)._actions if isinstance(a, argparse._SubParsersAction))
        walk(whole.choices[name], (name,))
    return found


FLAGS = flags()
FOLDERS = {"reports", "dir"}
OUT_FILES = {"html", "output"}
IN_FILES = {"inventory", "plan", "waivers", "file"}
NUMBERS = {"wait", "idle_timeout", "silent_after", "last"}
RUN_IDS = {"resume", "run_id", "a", "b", "redo"}


def baselines(work: Path, inventory: Path) -> dict[tuple[str, ...], list[str]]:
    """Per command, a command line it accepts: the mutated flag replaces its own part of it."""
    r = str(work / "cli-reports")
    return {
        ("run",): ["run", "post", "--inventory", str(inventory)],
        ("init",): ["init", str(work / "site")],
        ("lab",): ["lab", "--dir", str(work / "lab-dir")],
        ("demo",): ["demo", "--reports", r],
        ("checks",): ["checks"],
        ("profile",): ["profile"],
        ("discover",): ["discover", "--inventory", str(inventory)],
        ("upgrade",): ["upgrade", "--inventory", str(inventory), "--dry-run", "--reports", r],
        ("audit",): ["audit", "--inventory", str(inventory), "--reports", r],
        ("history",): ["history", "--reports", r],
        ("fleet",): ["fleet", "--reports", r, "--format", "json"],
        ("baseline", "capture"): ["baseline", "capture", "--inventory", str(inventory), "--reports", r],
        ("baseline", "diff"): ["baseline", "diff", "last", "baseline", "--reports", r],
        ("doctor",): ["doctor", "--inventory", str(inventory)],
        ("report",): ["report", "--reports", r, "--pdf", "no"],
        ("inventory", "check"): ["inventory", "check", str(inventory)],
    }


def cli_values(action: argparse.Action, specials: dict[str, str]) -> list[str]:
    dest = action.dest
    paths = [v for k, v in specials.items() if not k.startswith("_")] + [
        "",
        ".",
        "/",
        "/etc/hostname",
        "/nonexistent/x",
        "x" * 5000,
        "-",
    ]
    if action.choices:
        return [*map(str, action.choices), "", "INVALID", "é", "-1", "x" * 300]
    if dest in NUMBERS or getattr(action.type, "__name__", "") in ("seconds", "count", "hours"):
        return [str(v) for v in HOSTILE_NUMBERS] + ["nan", "inf", "", "0x10", "１２", "²", "1_000", " 5", "abc"]
    if dest in FOLDERS | OUT_FILES | IN_FILES | {"checks", "scenario", "lab"}:
        return paths
    if dest == "history":
        return [
            *paths,
            "postgresql://u:pw@h/db",
            "postgresql://u@h/db?password=pw",
            "sqlite://",
            "mysql://u@h/db",
            "postgresql://u@h:99999/db",
            "postgresql://u@h/db#pw",
        ]
    if dest in RUN_IDS:
        return [
            "../x",
            "/etc",
            "..",
            "a/b",
            "1",
            "#1",
            "#-1",
            "last",
            "baseline:",
            "99999999999999999999999",
            "x" * 300,
            "-",
        ]
    return [t for t in HOSTILE_TEXT if "\x00" not in t]  # a command line can hold no NUL


def cli_must_refuse(action: argparse.Action, value: str, specials: dict[str, str]) -> str | None:
    """What the description of the flag (its type, choices and kind) says must be refused."""
    dest, names = action.dest, {k for k, v in specials.items() if v == value}
    if action.choices and value not in map(str, action.choices):
        return "a value outside the choices"
    if dest in NUMBERS:
        try:
            number = float(value)
        except ValueError:
            return "not a number"
        if not (0 <= number <= 10**7) or (dest == "last" and not value.strip().isdigit()):
            return "a number out of range"
    if names & {"fifo", "socket", "zero", "full", "null", "urandom"} and dest in (
        FOLDERS | OUT_FILES | IN_FILES | {"checks", "history", "waivers"}
    ):
        return "a special file as a file or folder"
    if dest in FOLDERS and value in ("/etc/hostname", specials.get("big")):
        return "a regular file as a folder"
    if dest in IN_FILES and (names & {"folder", "missing", "big", "loop"} or value in ("/nonexistent/x", "/")):
        return "an input file that is no readable regular file"
    if dest == "history" and ("pw" in value or value in ("sqlite://", "mysql://u@h/db")):
        return "an unusable history URL"
    if dest in RUN_IDS - {"a", "b"} and ("/" in value or ".." in value):
        return "a run id that is a path"
    one_line = not has_control(value) and not any(c in LINE_BREAKS for c in value)
    if dest == "confirmed_by" and (not value.strip() or len(value) > 200 or not one_line):
        return "no person's name on one line"
    if dest in ("record", "diff") and (not value.strip() or not one_line):
        return "no record NAME on one line"
    return None


def _argv(base: list[str], action: argparse.Action, value: str) -> list[str]:
    argv = list(base)
    if not action.option_strings:  # a positional: the baseline holds it at its place
        positional = {"file": -1, "run_id": len(argv), "a": 2, "b": 3, "dir": 1, "phase": 1, "name": 1}
        at = positional.get(action.dest)
        if at is None:
            return [*argv, value]
        if at >= len(argv):
            return [*argv, value]
        argv[at] = value
        return argv
    flag = action.option_strings[-1]
    for name in action.option_strings:
        if name in argv:
            i = argv.index(name)
            del argv[i : i + (1 if action.nargs == 0 else 2)]
    if action.nargs == 0:
        return [*argv, flag]
    return [*argv, f"{flag}={value}"]


@pytest.fixture(scope="module")
def cli_stage(work: Path, lab_inventory: Path, history_template: Path) -> dict[tuple[str, ...], list[str]]:
    """The folders the baselines read: a history and a run under the reports folder."""
    from gpverify.runner.state import RunState

    reports = work / "cli-reports"
    reports.mkdir(exist_ok=True)
    shutil.copy(history_template, reports / "history.sqlite")
    state = RunState.create(
        reports,
        inventory=str(lab_inventory),
        plan_source="built-in",
        plan={"phases": [{"phase": "post", "gate": False}]},
    )
    state.set(status="complete", message="every step done and every gate passed")  # a record it can sign
    return baselines(work, lab_inventory)


def stub_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where each command would start its real work (a lab, pytest, the network), it ends as accepted."""
    import gpverify.audit.runner as audit_runner
    import gpverify.cli.checks as cli_checks
    import gpverify.cli.discover as cli_discover
    import gpverify.cli.doctor as cli_doctor
    import gpverify.cli.report as cli_report
    import gpverify.cli.site as cli_site
    import gpverify.cli.upgrade as cli_upgrade
    from gpverify import extension
    from gpverify.facts.farm import Farm

    # The class of the instance the product holds (extension.lab() is cached): another test may have imported
    # gpverify.lab.extension again since, and a stub on the newer class would not reach this instance.
    Lab = type(extension.lab())

    def accept(*a: Any, **k: Any) -> Any:
        raise Accepted()

    def lab(self: Any, scenario: str, *a: Any, **k: Any) -> Any:
        load_scenario(scenario)  # the scenario is validated as a real start would
        raise Accepted()

    monkeypatch.setattr(audit_runner, "_run", accept)
    monkeypatch.setattr(cli_checks, "collect_catalogue", accept)
    monkeypatch.setattr(cli_discover, "discover", accept)
    monkeypatch.setattr(cli_doctor, "run_doctor", accept)
    monkeypatch.setattr(cli_report, "write_pdf", lambda *a: False)
    monkeypatch.setattr(cli_site, "run_checks", accept)
    monkeypatch.setattr(cli_upgrade, "_execute", accept)
    monkeypatch.setattr(cli_upgrade, "run_demo", accept)
    monkeypatch.setattr(Farm, "collect", accept)
    monkeypatch.setattr(Lab, "temporary_lab", lab)
    monkeypatch.setattr(Lab, "start_lab", lab)


def test_every_baseline_command_is_accepted(
    cli_stage: dict[tuple[str, ...], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control of the CLI walk: unmutated, every command line is accepted (so a refusal is the value's)."""
    stub_work(monkeypatch)
    commands = {path for path, _ in FLAGS}
    assert commands == set(cli_stage), commands ^ set(cli_stage)
    for path, argv in cli_stage.items():
        outcome, message = classify_cli(argv)
        assert outcome == "accepted", (path, message)


def test_every_flag(
    cli_stage: dict[tuple[str, ...], list[str]], specials: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_work(monkeypatch)

    @configured("cli")
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        path, action = data.draw(st.sampled_from(FLAGS))
        value = data.draw(st.sampled_from(cli_values(action, specials)))
        argv = _argv(cli_stage[path], action, value)
        case = Case(
            "cli",
            f"gpverify {' '.join(path)} {action.dest}={value[:60]!r}",
            argv=argv,
            must_refuse=cli_must_refuse(action, value, specials) if action.nargs != 0 else None,
        )
        record(case, *classify_cli(argv))

    one()
    assert_surface_clean("cli")


def test_a_sample_as_real_processes(work: Path, specials: dict[str, str]) -> None:
    """Real `gpverify` processes (no stubs, a real timeout): the in-process classification holds outside too."""
    env = {**os.environ, "GPVERIFY_WINRM_PASSWORD": "x"}

    @configured("subprocess")
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        kind = data.draw(st.sampled_from(["inventory", "plan", "history"]))
        if kind == "inventory":
            case = _file_case(
                "subprocess",
                INVENTORY,
                data.draw(document(INVENTORY, BASE_INVENTORY, specials)),
                specials,
                inventory_rules,
            )
            (work / "sub.yml").write_text(case.text or "", encoding="utf-8")
            argv = ["inventory", "check", str(work / "sub.yml")]
        elif kind == "plan":
            case = _file_case("subprocess", PLAN, data.draw(document(PLAN, BASE_PLAN, specials)), specials)
            (work / "sub.yml").write_text(case.text or "", encoding="utf-8")
            argv = [
                "upgrade",
                "--inventory",
                str(REPO / "inventory.example.yml"),
                "--plan",
                str(work / "sub.yml"),
                "--dry-run",
                "--reports",
                str(work / "sub-reports"),
            ]
        else:
            value = data.draw(st.sampled_from([v for k, v in specials.items() if k in SPECIAL - {"big"}]))
            case = Case("subprocess", f"--history {value}", must_refuse="a special file as the history")
            argv = ["fleet", "--history", value, "--reports", str(work / "sub-reports")]
        case.argv = argv
        record(case, *run_subprocess(argv, env))

    one()
    assert_surface_clean("subprocess")


# --- the figures ---------------------------------------------------------------------------------------------


def test_zz_figures() -> None:
    """Runs last in this module: the figures of the whole generator run, to the README's figures and the file."""
    if not RESULTS.total():
        pytest.skip("the generator's cases ran in another process (pytest -n): each surface's test checked its own")
    FIGURES["hostile inputs generated"] = RESULTS.total()
    for outcome in ("traceback", "hang", "silent"):
        FIGURES[f"generated inputs: {outcome}"] = RESULTS.total(outcome)
    RESULTS.seconds = time.monotonic() - STARTED
    if FULL:
        FIGURES_FILE.write_text(as_json(RESULTS) + "\n", encoding="utf-8")
    if os.environ.get("GPVERIFY_FUZZ_REPORT"):  # everything found, for whoever fixes it
        Path(os.environ["GPVERIFY_FUZZ_REPORT"]).write_text(json.dumps(RESULTS.bad, indent=1), encoding="utf-8")
    assert not RESULTS.bad, json.dumps(RESULTS.bad, indent=1)[:5000]
    # Under pytest -n, this process ran only the surfaces xdist gave it: the sample is owed for those.
    owed = 5000 if FULL >= 5000 and len(RESULTS.counts) == len(SAMPLE) else sum(map(examples, RESULTS.counts)) // 2
    assert RESULTS.total() >= owed, RESULTS.counts


STARTED = time.monotonic()
