"""The README's performance section, rendered from a bench.json that `make bench` wrote.

    python bench/readme_table.py [reports/bench.json]    # prints the Markdown between the README's markers

The committed bench/last-run.json is the run the README shows; tests/unit/test_readme.py checks they agree.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _fig(g: dict[str, Any]) -> str:
    if g.get("repeats", 1) > 1:
        return f"{g['wall_s']:.2f} s ({g['wall_min_s']:.2f}–{g['wall_max_s']:.2f})"
    return f"{g['wall_s']:.2f} s"


def _bytecode(report: dict[str, Any]) -> str:
    """On when the children ran with it (settings.bytecode_cache), else as the bench's own environment had it."""
    cached = report["settings"].get("bytecode_cache")
    return cached or ("off" if report["machine"].get("PYTHONDONTWRITEBYTECODE") else "on")


def _head(report: dict[str, Any]) -> str:
    m, s = report["machine"], report["settings"]
    return (
        f"`make bench` on {m['nproc']} cores ({m['processor']}), Python {m['python']}, load average "
        f"{' / '.join(map(str, m['load_avg_at_start']))} at the start and "
        f"{' / '.join(map(str, m.get('load_avg_at_end', ['?'])))} at the end (1, 5, 15 min), "
        f"{s['latency_s'] * 1000:g} ms added to every WinRM HTTP request, scenario {s['scenario']}, gpverify "
        f"medians of {s['repeats']} paired runs (min–max), the per-check way {s['per_check_repeats']} run each, "
        f"Python's bytecode cache {_bytecode(report)}, {report['created'][:10]}:"
    )


def _scale(report: dict[str, Any]) -> list[str]:
    lines = [
        (
            "| clients (hosts) | whole pytest run | collection | its latency floor | CPU s (gpverify / lab) "
            "| requests per host | peak RSS |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        g = r["gpverify"]["workers_auto"]
        lines.append(
            f"| {r['clients']} ({r['hosts']}) | {_fig(g)} | {g['collect_s']:.2f} s | {r['floor_s']:.2f} s | "
            f"{g['cpu_s']:.2f} / {g['lab_cpu_s']:.2f} | {g['requests_per_host_max']} | "
            f"{g['peak_rss_mb']:.0f} MB |"
        )
    return lines


def _comparison(report: dict[str, Any]) -> list[str]:
    cost = report["settings"]["command_cost_s"]
    lines = [
        f"With the host cost on ({cost:g} s per command), against the same checks the per-check way:",
        "",
        (
            "| clients (hosts) | gpverify, whole pytest run | testinfra per check, plain | testinfra, `-n 8` "
            "| ratio to the faster |"
        ),
        "|---|---|---|---|---|",
    ]
    for r in report["comparison"]:
        g = r["gpverify"]["workers_auto"]
        pcs = r.get("per_check", {})
        plain, xdist = pcs.get("xdist_0"), pcs.get("xdist_8")
        fastest = pcs.get(r.get("per_check_fastest", ""), None)
        ratio = f"{fastest['wall_s'] / g['wall_s']:.1f}×" if fastest else "–"
        lines.append(
            f"| {r['clients']} ({r['hosts']}) | {_fig(g)} | "
            f"{_fig(plain) + ' (' + str(plain['commands']) + ' commands)' if plain else 'not run'} | "
            f"{_fig(xdist) if xdist else 'not run'} | {ratio} |"
        )
    return lines


def render(report: dict[str, Any]) -> str:
    """The Markdown: machine and settings, the fleet-scale table, the comparison, start-up, verdicts."""
    lines = [_head(report), "", *_scale(report)]
    if report.get("comparison"):
        lines += ["", *_comparison(report)]
    startup = report.get("startup") or {}
    if startup:
        lines += ["", "Start-up (bench/startup.py):", ""]
        lines += [f"- {line}" for line in startup.get("summary", [])]
    lines += ["", "Verdicts against issue 25's targets:", ""]
    lines += [f"- {line}" for line in report["verdict"]]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "reports/bench.json")
    print(render(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
