"""HTML pages of the history (Jinja2, autoescaped, self-contained): the fleet and the per-farm history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from gpverify.outcomes import Outcome
from gpverify.report.checks import anchor
from gpverify.report.render import page

CELL, LABEL_W, TOP = 22, 520, 70  # the outcome grid: a cell per run, the check's name left of its row


@dataclass(frozen=True)
class HistoryRow:
    """One check on one host (or object) over the runs: its name, title and outcome in each run (None: not run)."""

    name: str
    title: str
    outcomes: list[Outcome | None]


def history_rows(runs: list[Any]) -> list[HistoryRow]:
    """Every check of the runs, in the order of its name; the runs' records are keyed by (check, test id)."""
    keys = sorted({k for run in runs for k in run.results})
    rows = []
    for key in keys:
        record = next(run.results[key] for run in runs if key in run.results)
        rows.append(
            HistoryRow(
                record.name, record.title, [run.results[key].outcome if key in run.results else None for run in runs]
            )
        )
    return sorted(rows, key=lambda r: r.name)


def legend() -> str:
    """The symbols of the text grid (gpverify history), from the outcomes themselves."""
    return "  ".join([*(f"{o.symbol} {o.label}" for o in Outcome.worst_first()), ". not run"])


def fleet_html(rows: list[Any], *, history: str, now: dt.datetime, silent_after: dt.timedelta) -> str:
    return page(
        "fleet.html.j2",
        rows=rows,
        history=history,
        generated=now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        silent_after_seconds=int(silent_after.total_seconds()),
        silent_after_hours=silent_after.total_seconds() / 3600,
    )


def history_html(by_farm: dict[str, list[Any]], report_links: dict[int, str | None]) -> str:
    """Each farm's runs: the outcome grid, then the runs, each linked to its report where it can be read."""
    farms = []
    for farm, runs in by_farm.items():
        rows = history_rows(runs)
        farms.append(
            {
                "name": farm,
                "anchor": anchor(farm).replace("gpv-host-", "gpv-farm-"),
                "runs": runs,
                "rows": rows,
                "width": LABEL_W + CELL * max(len(runs), 1) + 20,
                "height": TOP + CELL * len(rows) + 40,
            }
        )
    return page("history.html.j2", farms=farms, links=report_links, cell=CELL, label_w=LABEL_W, top=TOP)
