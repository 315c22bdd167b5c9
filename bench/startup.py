"""Benchmark: start-up, the import time of gpverify's pytest plugin and the wall time of two lab commands.

Each figure comes from subprocesses of the installed `gpverify` command (or `python -m gpverify.cli.main` when the
console script is not beside this Python), each run in a fresh empty temporary folder, as an operator would:

1. `python -c "import gpverify.plugin"` minus a bare `python -c pass` (medians), and the modules that cost most
   under `python -X importtime`: every pytest run of an environment where gpverify is installed loads the plugin.
2. `gpverify upgrade --lab --yes`: the whole upgrade of the simulated lab, every gate (median, min, max).
3. `gpverify audit --lab`: one audit of the lab into a new history (median, min, max), and where its time goes:
   the interpreter, importing exactly the modules an audit imports (its lab starts in a child process, on the
   other core), and the rest (pytest, the checks, any wait for the lab);
   audits repeated in one folder (the nightly case, its history already there).

2 and 3 run with Python's bytecode cache on, as an installed wheel does (pip compiles it at install), after one
unmeasured run that writes it; each is also reported without it (PYTHONDONTWRITEBYTECODE, set on this machine).

`measure()` returns it all with one verdict line per target; bench/collect.py puts it in reports/bench.json.
Alone, `python bench/startup.py [--repeats N]` prints it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# Issue 15's start-up targets (seconds, medians): a verdict line each, met or MISSED, never hidden.
TARGETS = {"upgrade_lab_s": 2.0, "audit_lab_s": 0.8}  # issue 25: upgrade --lab --yes < 2 s, audit --lab < 0.8 s
TIMEOUT = 300.0  # one command; a lab upgrade takes seconds, so this only stops a hang
TOP = 5
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")

_TIMED_IMPORT = "import time; t = time.perf_counter(); import gpverify.plugin; print(time.perf_counter() - t)"
# Runs an audit in-process and writes the names of the modules it imported to the file given (argv[1]).
_AUDIT_MODULES = """\
import contextlib, io, json, sys
from gpverify.cli.main import main
out = sys.argv[1]
sys.argv = ["gpverify", "audit", "--lab"]
with contextlib.redirect_stdout(io.StringIO()):
    code = main()
ours = ("checks.", "fixtures.", "gpverify.checks.", "gpverify.fixtures.", "__main__")
json.dump({"exit_code": code, "modules": [m for m in sys.modules if not m.startswith(ours) and "conftest" not in m]},
          open(out, "w", encoding="utf-8"))
"""
# Imports the modules named in the file given (argv[1]), in the order an audit imported them, and leaves as the
# gpverify command does (gpverify.cli.console: no module teardown).
_IMPORT_MODULES = """\
import importlib, json, os, sys
for name in json.load(open(sys.argv[1], encoding="utf-8"))["modules"]:
    try:
        importlib.import_module(name)
    except Exception:
        pass
os._exit(0)
"""


def gpverify_command() -> list[str]:
    """The installed console script beside this Python, else the module (the same main())."""
    script = Path(sys.executable).with_name("gpverify.exe" if os.name == "nt" else "gpverify")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gpverify.cli.main"]


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int | None]:
    """Wall seconds and exit code of one command (None when it did not end within TIMEOUT).

    Waited for without a timeout and killed by a timer instead: Popen.wait(timeout) polls the child every 50 ms,
    which would add up to 50 ms to each figure.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    timer = threading.Timer(TIMEOUT, proc.kill)
    timer.start()
    code = proc.wait()
    wall = time.perf_counter() - start
    expired = not timer.is_alive()
    timer.cancel()
    return wall, None if expired else code


def in_empty_folders(
    argv: list[str], repeats: int, env: dict[str, str] | None = None
) -> list[tuple[float, int | None]]:
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="gpverify-bench-startup-") as folder:
            runs.append(timed(argv, Path(folder), env))
    return runs


def in_one_folder(argv: list[str], repeats: int, env: dict[str, str] | None = None) -> list[tuple[float, int | None]]:
    """The command run again and again in one folder, after a first run that is not counted: a nightly audit,
    whose history already exists."""
    with tempfile.TemporaryDirectory(prefix="gpverify-bench-nightly-") as folder:
        timed(argv, Path(folder), env)
        return [timed(argv, Path(folder), env) for _ in range(repeats)]


def bytecode_env(cache: str) -> dict[str, str]:
    """This environment with Python's bytecode cache on, its .pyc files in `cache`.

    An installed wheel has its .pyc files, which pip writes at install: the case the verdicts are about. An
    editable install under PYTHONDONTWRITEBYTECODE (this machine sets it) compiles every gpverify module and
    check from source on every run: reported beside, as "without the bytecode cache".
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def spread(runs: list[tuple[float, int | None]]) -> dict[str, Any]:
    walls = [wall for wall, _ in runs]
    return {
        "median": round(statistics.median(walls), 3),
        "min": round(min(walls), 3),
        "max": round(max(walls), 3),
        "runs": [round(w, 3) for w in walls],
        "exit_codes": [code for _, code in runs],
    }


def import_times(lines: list[str]) -> list[tuple[str, int, int, int]]:
    """(module, self µs, cumulative µs, depth) of each line of `python -X importtime`."""
    rows = []
    for line in lines:
        match = _IMPORT_LINE.match(line)
        if match:
            rows.append((match.group(4), int(match.group(1)), int(match.group(2)), len(match.group(3)) // 2))
    return rows


def importers(rows: list[tuple[str, int, int, int]]) -> list[str | None]:
    """The module that imported each row's module: -X importtime prints a module after those it imports, one
    level deeper, so the importer is the next line at a lesser depth (None at the top)."""
    found: list[str | None] = []
    for i, (_name, _self, _cumulative, depth) in enumerate(rows):
        found.append(next((r[0] for r in rows[i + 1 :] if r[3] < depth), None))
    return found


def plugin_import(repeats: int) -> dict[str, Any]:
    """Import time of gpverify.plugin net of the interpreter's own start, and its costliest modules."""
    with tempfile.TemporaryDirectory(prefix="gpverify-bench-startup-") as folder:
        cwd = Path(folder)
        bare = [timed([sys.executable, "-c", "pass"], cwd)[0] for _ in range(repeats)]
        plugin = [timed([sys.executable, "-c", "import gpverify.plugin"], cwd)[0] for _ in range(repeats)]
        inside = [
            float(
                subprocess.run(
                    [sys.executable, "-c", _TIMED_IMPORT],
                    cwd=cwd,
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT,
                    check=True,
                ).stdout
            )
            for _ in range(repeats)
        ]
        trace = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import gpverify.plugin"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    rows = import_times(trace.stderr.splitlines())
    inner = sorted((r for r in rows if r[0] != "gpverify.plugin"), key=lambda r: -r[2])
    packages: dict[str, int] = {}
    for (name, _self, cumulative, _depth), parent in zip(rows, importers(rows), strict=True):
        # What gpverify's own modules import (a package's imports of its own dependencies count in it).
        top = name.split(".")[0]
        if top != "gpverify" and parent is not None and parent.startswith("gpverify"):
            packages[top] = packages.get(top, 0) + cumulative
    heavy = ("sqlglot", "cryptography.x509", "gpverify.lab", "sqlalchemy", "alembic", "hypothesis")
    return {
        "median_s": round(statistics.median(plugin) - statistics.median(bare), 3),
        "bare_python_s": round(statistics.median(bare), 3),
        # The import alone, timed inside the process: the figure above also holds Python's teardown of the
        # modules at exit, which a pytest run pays once whatever it imported.
        "in_process_s": round(statistics.median(inside), 3),
        "with_python_s": {
            "median": round(statistics.median(plugin), 3),
            "min": round(min(plugin), 3),
            "max": round(max(plugin), 3),
        },
        "top_modules": [
            {"module": n, "cumulative_ms": round(c / 1000, 1), "self_ms": round(s / 1000, 1)}
            for n, s, c, _ in inner[:TOP]
        ],
        "top_packages": [
            {"package": p, "cumulative_ms": round(c / 1000, 1)}
            for p, c in sorted(packages.items(), key=lambda kv: -kv[1])[:TOP]
        ],
        "modules_imported": len(rows),
        "not_imported": {m: not any(n == m or n.startswith(m + ".") for n, *_ in rows) for m in heavy},
    }


def audit_breakdown(repeats: int, bare_s: float) -> dict[str, Any]:
    """Where an audit's time goes: the modules it imports, imported alone, against the whole command."""
    with tempfile.TemporaryDirectory(prefix="gpverify-bench-startup-") as folder:
        cwd = Path(folder)
        listing = cwd / "modules.json"
        subprocess.run(
            [sys.executable, "-c", _AUDIT_MODULES, str(listing)],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
        if not listing.exists():
            return {"error": "the in-process audit did not list its modules"}
        count = len(json.loads(listing.read_text(encoding="utf-8"))["modules"])
        floor = [timed([sys.executable, "-c", _IMPORT_MODULES, str(listing)], cwd)[0] for _ in range(repeats)]
        alone = {what: import_alone(statement, cwd, repeats) for what, statement in AUDIT_NEEDS.items()}
    return {
        "modules": count,
        "import_s": round(statistics.median(floor) - bare_s, 3),
        "interpreter_s": round(bare_s, 3),
        "imported_alone_s": alone,
    }


# What the audit must import, each package imported alone in a fresh interpreter (shared dependencies count in
# each, so the figures overlap and do not add up): the audit's import floor, by what it is for.
AUDIT_NEEDS = {
    # A new history is made from the metadata, a history at the head opened as it is: Alembic only migrates an
    # older one (gpverify/history/engine.py), so no audit of the lab imports it.
    "history (SQLAlchemy)": "import sqlalchemy",
    "SQL guard and lab SQL (sqlglot)": "import sqlglot, sqlglot.dialects.tsql, sqlglot.dialects.sqlite",
    "pytest": "import pytest",
    "inventory (pydantic)": "import gpverify.config.inventory",
    "WinRM (pywinrm, requests, pyspnego, cryptography)": "import winrm",
    "reports (Jinja2)": "import jinja2",
    # The lab starts in a child process of its own (gpverify.lab.process), on the other core; this is its import.
    "the lab (its own process)": "import gpverify.lab.runtime",
}


def import_alone(statement: str, cwd: Path, repeats: int) -> float:
    code = f"import os, time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t); os._exit(0)"
    return round(
        statistics.median(
            float(
                subprocess.run(
                    [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=True
                ).stdout
            )
            for _ in range(repeats)
        ),
        3,
    )


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the system has none, as on Windows)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):
        return []


def machine() -> dict[str, Any]:
    """What the figures were taken on: cores, Python, platform, load, and whether Python caches bytecode."""
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_avg_at_start": load_average(),
        # Set, Python writes no .pyc: every module of an editable install is compiled from source each run.
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
    }


def verdicts(result: dict[str, Any]) -> list[str]:
    """One line per target: met or MISSED, with the figure; a command that failed misses its target."""
    lines = []
    for key, words in (("upgrade_lab_s", "gpverify upgrade --lab --yes"), ("audit_lab_s", "gpverify audit --lab")):
        figure, target = result[key], TARGETS[key]
        failed = [c for c in figure["exit_codes"] if c != 0]
        met = figure["median"] < target and not failed
        note = f"; exit codes {figure['exit_codes']}" if failed else ""
        lines.append(
            f"[{'met' if met else 'MISSED'}] {words}: median {figure['median']:.2f} s (min "
            f"{figure['min']:.2f}, max {figure['max']:.2f}, {len(figure['runs'])} runs in empty folders, "
            "bytecode cache on) "
            f"(target < {target:g} s){note}"
        )
    imp = result["import_plugin"]
    clean = [m for m, absent in imp["not_imported"].items() if not absent]
    lines.append(
        f"[{'met' if not clean else 'MISSED'}] import gpverify.plugin: {imp['median_s']:.2f} s over a bare "
        f"interpreter, {imp['modules_imported']} modules; sqlglot, cryptography.x509, the lab, SQLAlchemy "
        f"and hypothesis not imported" + (f" (imported: {', '.join(clean)})" if clean else "")
    )
    return lines


def measure(repeats: int = 3) -> dict[str, Any]:
    """Start-up figures of the installed gpverify, with targets and verdict lines (see the module docstring)."""
    command = gpverify_command()
    result: dict[str, Any] = {
        "machine": machine(),
        "command": " ".join(Path(command[0]).name if i == 0 else a for i, a in enumerate(command)),
        "repeats": repeats,
        "targets": dict(TARGETS),
    }
    result["import_plugin"] = plugin_import(repeats)
    upgrade = [*command, "upgrade", "--lab", "--yes", "--confirmed-by", "bench"]
    audit = [*command, "audit", "--lab"]
    with tempfile.TemporaryDirectory(prefix="gpverify-bench-pycache-") as cache:
        env = bytecode_env(cache)
        in_empty_folders(upgrade, 1, env)  # unmeasured: writes the bytecode cache, as pip does at install
        in_empty_folders(audit, 1, env)
        result["upgrade_lab_s"] = spread(in_empty_folders(upgrade, repeats, env))
        result["audit_lab_s"] = spread(in_empty_folders(audit, repeats, env))
        result["audit_lab_s_nightly"] = spread(in_one_folder(audit, repeats, env))
    result["upgrade_lab_s_no_bytecode_cache"] = spread(in_empty_folders(upgrade, repeats))
    result["audit_lab_s_no_bytecode_cache"] = spread(in_empty_folders(audit, repeats))
    breakdown = audit_breakdown(repeats, result["import_plugin"]["bare_python_s"])
    if "import_s" in breakdown:  # importtime runs without the cache: set against the figure without it
        uncached = result["audit_lab_s_no_bytecode_cache"]["median"]
        breakdown["rest_s"] = round(uncached - breakdown["import_s"] - breakdown["interpreter_s"], 3)
    result["audit_where_the_time_goes"] = breakdown
    result["summary"] = summary(result)
    result["verdict"] = verdicts(result)
    return result


def summary(result: dict[str, Any]) -> list[str]:
    """A line per figure, for the README (bench/readme_table.py)."""
    imp, up, audit = result["import_plugin"], result["upgrade_lab_s"], result["audit_lab_s"]
    uncached, where = result["audit_lab_s_no_bytecode_cache"], result["audit_where_the_time_goes"]
    up_uncached, nightly = result["upgrade_lab_s_no_bytecode_cache"], result["audit_lab_s_nightly"]
    costliest = ", ".join(f"{p['package']} {p['cumulative_ms']:.0f} ms" for p in imp["top_packages"][:3])
    lines = [
        (
            f"`import gpverify.plugin`: {imp['median_s']:.2f} s over a bare interpreter ({imp['in_process_s']:.2f} s "
            f"timed inside it), {imp['modules_imported']} modules; costliest: {costliest}"
        ),
        (
            f"`gpverify upgrade --lab --yes`: {up['median']:.2f} s ({up['min']:.2f}–{up['max']:.2f}), its gates "
            f"in one process, with Python's bytecode cache on (an installed wheel's case); {up_uncached['median']:.2f} "
            "s without it"
        ),
        (
            f"`gpverify audit --lab`: {audit['median']:.2f} s ({audit['min']:.2f}–{audit['max']:.2f}) in an empty "
            f"folder with the bytecode cache on; {uncached['median']:.2f} s without it; "
            f"{nightly['median']:.2f} s ({nightly['min']:.2f}–{nightly['max']:.2f}) again in the same folder, its "
            "history there already (the nightly case)"
        ),
    ]
    if "import_s" in where:
        history = where["imported_alone_s"].get("history (SQLAlchemy)", 0.0)
        lines.append(
            f"where an audit's time goes: {where['interpreter_s']:.2f} s the interpreter, "
            f"{where['import_s']:.2f} s importing its {where['modules']} modules (SQLAlchemy "
            f"for the history alone {history:.2f} s), {where['rest_s']:.2f} s pytest, the checks and any wait for "
            "the lab's own process"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command (default 3)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.repeats), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
