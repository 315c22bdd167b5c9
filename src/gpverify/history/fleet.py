"""The fleet: one row per farm from the history (last audit, its age, result counts, newly failing, worst
impact, report), silent farms flagged, as data for the HTML page and for --format json."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gpverify.history.status import AuditStatus
from gpverify.history.store import History, RunRecord

SILENT_AFTER_HOURS = 36.0  # a nightly audit plus half a day of slack


@dataclass
class FarmRow:
    farm: str
    silent: bool
    site: str = ""
    run: int | None = None
    finished: str | None = None  # ISO 8601 UTC of the last audit that ended normally
    age_seconds: int | None = None
    age: str = "never audited"
    status: str = "never audited"
    exit_code: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    newly_failing: int = 0
    worst_impact: str | None = None
    report: str | None = None  # path of the run's HTML report on the runner
    report_href: str | None = None  # a link to it, when this machine can reach the file

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def age_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def report_link(path: str | None, page_dir: Path | None) -> str | None:
    """A relative link (or file URI) to a report this machine can read; None when it is elsewhere."""
    if not path or not Path(path).is_file():
        return None
    if page_dir is not None:
        try:
            return Path(os.path.relpath(Path(path).resolve(), page_dir.resolve())).as_posix()
        except ValueError:  # another drive on Windows
            pass
    return Path(path).resolve().as_uri()


def farm_row(
    run: RunRecord, history: History, *, now: dt.datetime, silent_after: dt.timedelta, page_dir: Path | None
) -> FarmRow:
    finished = run.finished or run.started
    age = now - parse_time(finished)
    counts = run.summary.counts or history.outcome_counts(run.id)  # runs recorded before summaries
    report = run.reports.get("html")
    return FarmRow(
        farm=run.farm,
        silent=age > silent_after,
        site=run.site,
        run=run.id,
        finished=finished,
        age_seconds=int(age.total_seconds()),
        age=age_text(age.total_seconds()),
        status=run.status,
        exit_code=run.exit_code,
        counts=counts,
        newly_failing=run.summary.newly_failing,
        worst_impact=run.summary.worst_impact,
        report=report,
        report_href=report_link(report, page_dir),
    )


def fleet_rows(
    history: History,
    *,
    now: dt.datetime | None = None,
    silent_after: dt.timedelta = dt.timedelta(hours=SILENT_AFTER_HOURS),
    page_dir: Path | None = None,
) -> list[FarmRow]:
    """Every farm in the history, silent ones first, then failing, then by name."""
    now = now or dt.datetime.now(dt.UTC)
    rows = {
        run.farm: farm_row(run, history, now=now, silent_after=silent_after, page_dir=page_dir)
        for run in history.latest_per_farm()
    }
    for farm in history.farms():  # a farm with a baseline or only interrupted runs has never been audited
        rows.setdefault(farm, FarmRow(farm=farm, silent=True))
    return sorted(rows.values(), key=lambda r: (_urgency(r), r.farm))


def _urgency(row: FarmRow) -> int:
    """Silent farms first, then by their last run's status (a word no status knows last)."""
    if row.silent:
        return -1
    return AuditStatus(row.status).rank if row.status in set(AuditStatus) else len(AuditStatus)
