"""The audit history: every run (farm, site), its results per (check, test) and its fact snapshot, in
reports/history.sqlite or a PostgreSQL database shared by many runners (gpverify.history)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection, RowMapping, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from gpverify.catalogue import IMPACTS
from gpverify.history import schema as t
from gpverify.history.engine import Warn, open_engine, unavailable
from gpverify.history.status import AuditStatus
from gpverify.history.target import HISTORY_FILE, HistoryTarget, HistoryUnavailable, sqlite_target
from gpverify.outcomes import Outcome
from gpverify.results import CheckResult, outcomes_of

__all__ = ["HISTORY_FILE", "History", "HistoryUnavailable", "RunRecord", "site_name", "utcnow"]

SITE_ENV = "GPVERIFY_SITE"  # the runner's name in the history; default: this machine's host name
# A run that did not end normally (Ctrl-C, killed) is never what the next run is compared with.
NOT_COMPARABLE = (AuditStatus.RUNNING, AuditStatus.INTERRUPTED)


# How many rows back a reader looks past damaged ones for the newest sound run or baseline.
SCAN = 50


def _stderr(message: str) -> None:
    print(f"gpverify: {message}", file=sys.stderr)


def iso_time(value: Any, *, optional: bool = False) -> Any:
    """A stored time as it is (ISO 8601 text), after checking it is one; ValueError otherwise."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"a time as ISO 8601 text, found {type(value).__name__}")  # noqa: TRY004 - pydantic reads it
    dt.datetime.fromisoformat(value)  # ValueError: not ISO 8601 ("yesterday", "2026-13-01")
    return value


def json_object(value: Any) -> dict[str, Any]:
    """A stored JSON object (reports, summary, facts, waiver): {} for none; ValueError for anything else."""
    if value is None or value == "":
        return {}
    if not isinstance(value, str):
        raise ValueError(f"JSON text, found {type(value).__name__}")  # noqa: TRY004 - as json.loads does
    try:
        parsed = json.loads(value)  # json.JSONDecodeError is a ValueError
    except RecursionError:  # [[[[... thousands deep: Python's JSON decoder recurses per level
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"a JSON object, found {type(parsed).__name__}")  # noqa: TRY004 - as json.loads does
    return parsed


IsoTime = Annotated[str, AfterValidator(iso_time)]


class RunSummary(BaseModel):
    """What a run's `summary` column holds (fleet page): results per outcome, newly failing, worst impact."""

    model_config = ConfigDict(extra="ignore", strict=True)

    counts: dict[str, int] = {}
    newly_failing: int = 0
    worst_impact: str | None = None


class RunRecord(BaseModel):
    """A run as the history holds it: its row of `runs`, checked as this version reads it (a row that is not is
    skipped with a warning, History._skip), and, when read in full, its results and fact snapshot."""

    model_config = ConfigDict(extra="ignore", strict=True)

    id: int
    started: IsoTime
    finished: IsoTime | None
    farm: str
    source: str
    status: str
    exit_code: int | None
    waited: float
    rounds: int
    reports: dict[str, str]
    site: str = ""
    summary: RunSummary
    # Not columns of `runs`: filled from the results and facts tables after the row is checked.
    results: dict[tuple[str, str], CheckResult] = {}  # (check, test) -> its record
    facts: dict[str, Any] = {}  # host -> fact dump


class Baseline(BaseModel):
    """A captured baseline as the history holds it: the facts of each host at a known-good time."""

    model_config = ConfigDict(extra="ignore", strict=True)

    id: int
    name: str
    captured: IsoTime
    farm: str
    source: str
    facts: dict[str, dict[str, Any]]  # host -> its fact dump


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def site_name() -> str:
    return os.environ.get(SITE_ENV) or socket.gethostname()


def summarize(results: list[CheckResult], newly_failing: int) -> RunSummary:
    """What the fleet page shows of a run: results per outcome, newly failing, the worst impact that failed."""
    counts = {o.value: n for o, n in outcomes_of(results).items()}
    failing = [r.impact for r in results if r.failing]
    worst = min((i for i in failing if i in IMPACTS), key=IMPACTS.index, default=None)  # IMPACTS: worst first
    return RunSummary(counts=counts, newly_failing=newly_failing, worst_impact=worst)


class History:
    """One history database; every method raises HistoryUnavailable (naming the setting) when it cannot."""

    def __init__(self, where: str | Path | HistoryTarget, *, warn: Warn | None = None) -> None:
        self.target = where if isinstance(where, HistoryTarget) else sqlite_target(where)
        self.warn: Warn = warn or _stderr
        self._warned: set[str] = set()
        self.engine = open_engine(self.target, warn)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, doing: str) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise unavailable(self.target, exc, doing) from None

    # --- runs ---------------------------------------------------------------------------------------------

    def start_run(self, farm: str, source: str, site: str | None = None) -> int:
        with self._tx("could not record the start of the run") as conn:
            res = conn.execute(
                insert(t.runs).values(
                    started=utcnow(), farm=farm, source=source, site=site if site is not None else site_name()
                )
            )
            return int(res.inserted_primary_key[0])  # type: ignore[index]

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        exit_code: int,
        waited: float,
        rounds: int,
        reports: dict[str, str],
        results: list[CheckResult],
        facts: dict[str, Any],
        newly_failing: int = 0,
    ) -> None:
        """Results, facts and the run's end in one transaction: a run is recorded whole or not at all."""
        rows = [
            {
                "run_id": run_id,
                "check_id": r.check,
                "test_id": r.test,
                "host": r.host,
                "outcome": r.outcome.value,
                "message": r.message,
                "impact": r.impact or None,
                "waiver": json.dumps(r.waiver) if r.waiver else None,
            }
            for r in {(r.check, r.test): r for r in results}.values()
        ]
        with self._tx("could not record the run's results") as conn:
            if rows:
                conn.execute(insert(t.results), rows)
            if facts:
                conn.execute(
                    insert(t.facts),
                    [
                        {"run_id": run_id, "host": host, "facts": json.dumps(f, sort_keys=True)}
                        for host, f in facts.items()
                    ],
                )
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id)
                .values(
                    finished=utcnow(),
                    status=status,
                    exit_code=exit_code,
                    waited=waited,
                    rounds=rounds,
                    reports=json.dumps(reports),
                    summary=json.dumps(summarize(results, newly_failing).model_dump()),
                )
            )

    def mark_interrupted(self, run_id: int) -> None:
        """A run stopped before its end (Ctrl-C): kept as interrupted, never a comparison base."""
        with self._tx("could not record the interrupted run") as conn:
            conn.execute(
                update(t.runs)
                .where(t.runs.c.id == run_id, t.runs.c.finished.is_(None))
                .values(finished=utcnow(), status=AuditStatus.INTERRUPTED)
            )

    def _skip(self, what: str, exc: object) -> None:
        """Say once that a damaged row is left out (a hand edit, another tool, a disk fault): never a traceback,
        and the run goes on with the rows that are sound."""
        if what not in self._warned:
            self._warned.add(what)
            self.warn(f"warning: {self.target.display}: {what} is damaged and was skipped ({exc})")

    def _record(self, conn: Connection, row: RowMapping, *, full: bool = True) -> RunRecord | None:
        try:
            rec = RunRecord.model_validate(
                {**row, "reports": json_object(row["reports"]), "summary": json_object(row["summary"])}
            )
        except (ValueError, ValidationError) as exc:
            self._skip(f"run #{row['id']}", exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else exc)
            return None
        if full:
            for r in conn.execute(select(t.results).where(t.results.c.run_id == rec.id)).mappings():
                outcome = Outcome.of(r["outcome"]) if isinstance(r["outcome"], str) else None
                if outcome is None:  # a word this version does not know: the row cannot be compared
                    continue
                if (
                    not all(isinstance(r[k], str) for k in ("check_id", "test_id"))
                    or not isinstance(r["host"] or "", str)
                    or not isinstance(r["message"] or "", str)
                ):
                    self._skip(f"a result of run #{rec.id}", "its check, test, host or message is not text")
                    continue
                try:
                    waiver = json_object(r["waiver"]) if r["waiver"] else None
                except ValueError as exc:
                    self._skip(f"the result {r['check_id']} {r['test_id']} of run #{rec.id}", exc)
                    continue
                rec.results[(r["check_id"], r["test_id"])] = CheckResult(
                    check=r["check_id"],
                    test=r["test_id"],
                    host=r["host"],
                    outcome=outcome,
                    message=r["message"] or "",
                    impact=r["impact"] or "",
                    waiver=waiver,
                )
            query = select(t.facts.c.host, t.facts.c.facts).where(t.facts.c.run_id == rec.id)
            for host, dump in conn.execute(query):
                try:
                    if not isinstance(host, str):
                        raise ValueError("the host name is not text")  # noqa: TRY004 - a damaged row, not a bug
                    rec.facts[host] = json_object(dump)
                except ValueError as exc:
                    self._skip(f"the facts of {host} in run #{rec.id}", exc)
        return rec

    def _records(self, conn: Connection, rows: Any, *, full: bool = True) -> list[RunRecord]:
        return [rec for row in rows if (rec := self._record(conn, row, full=full)) is not None]

    def run(self, run_id: int) -> RunRecord | None:
        with self._tx("could not read the history") as conn:
            row = conn.execute(select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
            return self._record(conn, row) if row else None

    def last_finished(self, *, farm: str | None = None, before: int | None = None) -> RunRecord | None:
        """The latest run of the farm that ended normally (optionally before a given run id): the comparison base."""
        query = select(t.runs).where(t.runs.c.finished.is_not(None), t.runs.c.status.not_in(NOT_COMPARABLE))
        if farm is not None:
            query = query.where(t.runs.c.farm == farm)
        if before is not None:
            query = query.where(t.runs.c.id < before)
        with self._tx("could not read the history") as conn:
            for row in conn.execute(query.order_by(t.runs.c.id.desc()).limit(SCAN)).mappings():
                rec = self._record(conn, row)  # a damaged run is skipped: the one before it is the base
                if rec is not None:
                    return rec
            return None

    def runs(self, limit: int = 10, *, farm: str | None = None, full: bool = True) -> list[RunRecord]:
        query = select(t.runs).where(t.runs.c.finished.is_not(None))
        if farm is not None:
            query = query.where(t.runs.c.farm == farm)
        with self._tx("could not read the history") as conn:
            rows = conn.execute(query.order_by(t.runs.c.id.desc()).limit(limit)).mappings().all()
            return self._records(conn, reversed(rows), full=full)

    def farms(self) -> list[str]:
        """Every farm with a run or a baseline, by name."""
        with self._tx("could not read the history") as conn:
            names = set(conn.execute(select(t.runs.c.farm).distinct()).scalars())
            names |= set(conn.execute(select(t.baselines.c.farm).distinct()).scalars())
        for damaged in [n for n in names if not isinstance(n, str)]:
            names.discard(damaged)
            self._skip(f"a farm name ({damaged!r})", "it is not text")
        return sorted(names)

    def latest_per_farm(self) -> list[RunRecord]:
        """The last normally ended run of every farm (the fleet page's rows), without results or facts."""
        last = (
            select(t.runs.c.farm, func.max(t.runs.c.id).label("id"))
            .where(t.runs.c.finished.is_not(None), t.runs.c.status.not_in(NOT_COMPARABLE))
            .group_by(t.runs.c.farm)
            .subquery()
        )
        with self._tx("could not read the history") as conn:
            rows = conn.execute(select(t.runs).join(last, t.runs.c.id == last.c.id).order_by(t.runs.c.farm)).mappings()
            return self._records(conn, rows.all(), full=False)

    def outcome_counts(self, run_id: int) -> dict[str, int]:
        """Results per outcome of a run (runs recorded before summaries were kept)."""
        with self._tx("could not read the history") as conn:
            rows = conn.execute(
                select(t.results.c.outcome, func.count())
                .where(t.results.c.run_id == run_id)
                .group_by(t.results.c.outcome)
            ).all()
        return {str(o): int(n) for o, n in rows}

    # --- baselines ----------------------------------------------------------------------------------------

    def save_baseline(self, name: str, farm: str, source: str, facts: dict[str, Any]) -> int:
        with self._tx("could not record the baseline") as conn:
            res = conn.execute(
                insert(t.baselines).values(
                    name=name,
                    captured=utcnow(),
                    farm=farm,
                    source=source,
                    site=site_name(),
                    facts=json.dumps(facts, sort_keys=True),
                )
            )
            return int(res.inserted_primary_key[0])  # type: ignore[index]

    def baseline(self, name: str = "default", *, farm: str | None = None) -> dict[str, Any] | None:
        query = select(t.baselines).where(t.baselines.c.name == name)
        if farm is not None:
            query = query.where(t.baselines.c.farm == farm)
        with self._tx("could not read the history") as conn:
            rows = conn.execute(query.order_by(t.baselines.c.id.desc()).limit(SCAN)).mappings().all()
        for row in rows:  # the newest sound one: a damaged baseline is skipped with a warning
            try:
                return Baseline.model_validate({**row, "facts": json_object(row["facts"])}).model_dump()
            except (ValueError, ValidationError) as exc:
                reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else exc
                self._skip(f"baseline #{row['id']} ({row['name']})", reason)
        return None
