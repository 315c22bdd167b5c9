"""Benchmark: one check on 1,000 unreachable session hosts (issue 23 item 4): the cost of an error per check.

The lab's farm (its web server and SQL Server) with 1,000 more session hosts, each at a closed loopback port, so
each host is refused at once and every GP-POST-002 (the Session Service runs) on them could not run. Measured:
the wall time of `pytest checks/post/test_services.py -k GP-POST-002` in a subprocess, gpverify as it is (each
error's report made from the check's sentence), and the same run with a plugin that makes those reports as pytest
does by default (`pytest.TestReport.from_item_and_call`: a formatted traceback per error, which gpverify threw
away before issue 23), so the difference is the formatting gpverify no longer pays.

    python bench/unreachable.py [--hosts 1000] [--repeat 1] [--gpverify-only]

Prints a line per variant and writes reports/bench-unreachable.json. A benchmark, never a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
# Loaded with -p by the "pytest's report" variant: pytest's own report for every phase, made before gpverify's
# (registered later, so called first), as gpverify's plugin let pytest do before it made these reports itself.
DEFAULT_REPORTS = """\
import pytest


class DefaultReports:
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        return pytest.TestReport.from_item_and_call(item, call)


def pytest_configure(config):
    config.pluginmanager.register(DefaultReports(), "bench-default-reports")
"""


def closed_ports(count: int) -> list[int]:
    """Loopback ports nothing listens on (bound, then closed: refused until something takes them)."""
    ports = []
    for _ in range(count):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    return ports


def inventory(lab_inventory: Path, hosts: int, folder: Path) -> Path:
    data = yaml.safe_load(lab_inventory.read_text(encoding="utf-8"))
    data["session_hosts"] = [
        {
            "name": f"gp-sh{i:04d}",
            "address": "127.0.0.1",
            "winrm": {"scheme": "http", "port": port, "connect_timeout": 5},
        }
        for i, port in enumerate(closed_ports(hosts))
    ]
    path = folder / "inventory.yml"
    # One line per host (flow style), so 10,000 hosts stay within an inventory's 1 MB (config/paths.py).
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=200), encoding="utf-8")
    return path


def timed(inventory_path: Path, folder: Path, extra: list[str]) -> dict[str, Any]:
    args = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO / "checks" / "post" / "test_services.py"),
        "-k",
        "GP-POST-002",
        f"--inventory={inventory_path}",
        "-p",
        "no:cacheprovider",
        "-q",
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": str(folder)}
    start = time.perf_counter()
    proc = subprocess.run(args, cwd=folder, env=env, capture_output=True, text=True, timeout=3600, check=False)
    wall = time.perf_counter() - start
    summary = next((line for line in reversed(proc.stdout.splitlines()) if " in " in line or "result" in line), "")
    summary = summary or (proc.stderr.strip().splitlines() or [""])[-1]  # bad input: gpverify's one line
    # The largest resident set of any child so far (Linux: KiB); the gpverify variant runs first, so its figure is
    # its own (issue 23: 10,000 unreachable hosts must not run out of memory).
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "wall_s": round(wall, 2),
        "exit": proc.returncode,
        "summary": summary.strip(),
        "peak_rss_mb": round(peak_mb),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--gpverify-only", action="store_true", help="skip pytest's report (13 min at 10,000 hosts)")
    ns = parser.parse_args()
    from gpverify.lab.runtime import temporary_lab

    results: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "hosts": ns.hosts,
        "nproc": os.cpu_count(),
        "load_avg_at_start": os.getloadavg(),
    }
    with temporary_lab("healthy", prefix="gpverify-bench-") as lab, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bench_default_reports.py").write_text(DEFAULT_REPORTS, encoding="utf-8")
        path = inventory(lab.inventory_path, ns.hosts, folder)
        variants = [("gpverify", []), ("pytest's report", ["-p", "bench_default_reports"])]
        for name, extra in variants[:1] if ns.gpverify_only else variants:
            runs = [timed(path, folder, extra) for _ in range(ns.repeat)]
            results[name] = {
                **runs[-1],
                "wall_s": statistics.median(r["wall_s"] for r in runs),
                "runs": [r["wall_s"] for r in runs],
            }
            print(
                f"{name:16} {results[name]['wall_s']:8.2f} s  peak RSS {runs[-1]['peak_rss_mb']} MB  "
                f"exit {runs[-1]['exit']}  {runs[-1]['summary']}"
            )
    out = REPO / "reports" / "bench-unreachable.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
