"""The README's performance section, rendered from a bench.json that `make bench` wrote.

    python bench/readme_table.py [reports/bench.json]    # prints the Markdown between the README's markers

The committed bench/last-run.json is the run the README shows; tests/test_readme.py checks they agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _fig(g: dict[str, Any]) -> str:
    return f"{g['wall_s']:.2f} s ({g['wall_min_s']:.2f}–{g['wall_max_s']:.2f})"


def _workers(key: str) -> str:
    return key.split("_", 1)[1]


def render(report: dict[str, Any]) -> str:
    """The Markdown: machine and settings, the comparison table, workers by latency, start-up, verdicts."""
    m, s = report["machine"], report["settings"]
    lines = [
        (f"`make bench` on {m['nproc']} cores ({m['processor']}), Python {m['python']}, load average "
        f"{' / '.join(map(str, m['load_avg_at_start']))} at the start and "
        f"{' / '.join(map(str, m.get('load_avg_at_end', ['?'])))} at the end (1, 5, 15 min), "
        f"{s['latency_s'] * 1000:g} ms added to every WinRM HTTP request, scenario {s['scenario']}, medians of "
        f"{s['repeats']} paired runs (min–max), Python's bytecode cache "
        f"{'off' if m.get('PYTHONDONTWRITEBYTECODE') else 'on'}, {report['created'][:10]}:"),
        "",
        ("| host cost | clients (hosts) | gpverify, whole pytest run | CPU s (gpverify / lab) | requests per host "
        "| peak RSS | testinfra per check, plain | testinfra, `-n 8` | ratio to the faster |"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    first = f"workers_{s['collect_workers'][0]}"
    for r in report["rows"]:
        g = r["gpverify"][first]
        pcs = r.get("per_check", {})
        plain, xdist = pcs.get("xdist_0"), pcs.get("xdist_8")
        fastest = pcs.get(r.get("per_check_fastest", ""), None)
        ratio = f"{fastest['wall_s'] / g['wall_s']:.1f}×" if fastest else "–"
        lines.append(
            f"| {r['command_cost_s']:g} s | {r['clients']} ({r['hosts']}) | {_fig(g)} | {g['cpu_s']:.2f} / "
            f"{g['lab_cpu_s']:.2f} | {g['requests_per_host_max']} | {g['peak_rss_mb']:.0f} MB | "
            f"{_fig(plain) + ' (' + str(plain['commands']) + ' commands)' if plain else 'not run'} | "
            f"{_fig(xdist) if xdist else 'not run'} | {ratio} |")
    if report.get("workers_by_latency"):
        lines += ["", "Collection workers at 200 clients, gpverify only (auto: one per host, at most 128):", "",
                  "| latency per request | " + " | ".join(f"{_workers(k)} workers" for k in
                                                        report["workers_by_latency"][0]["gpverify"]) + " |",
                  "|---|" + "---|" * len(report["workers_by_latency"][0]["gpverify"])]
        for r in report["workers_by_latency"]:
            lines.append(f"| {r['latency_s'] * 1000:g} ms | " + " | ".join(_fig(g) for g in r["gpverify"].values())
                         + " |")
    startup = report.get("startup") or {}
    if startup:
        lines += ["", "Start-up (bench/startup.py):", ""]
        lines += [f"- {line}" for line in startup.get("summary", [])]
    lines += ["", "Verdicts against issue 15's targets:", ""]
    lines += [f"- {line}" for line in report["verdict"]]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "reports/bench.json")
    print(render(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
