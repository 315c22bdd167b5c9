"""The run record: reports/<run-id>/state.json, a typed model rewritten atomically after every step and gate."""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpverify.config.paths import MAX_STATE_BYTES, read_file
from gpverify.errors import ConfigError

STATE = "state.json"
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
RunStatus = Literal["running", "stopped", "interrupted", "complete", "incomplete"]
ItemStatus = Literal["pending", "started", "waiting", "done", "passed", "failed"]
DONE: tuple[ItemStatus, ...] = ("done", "passed")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


class _Tolerant(BaseModel):
    # As pytest's stepwise plugin (src/_pytest/stepwise.py) keeps its state between runs in a typed dataclass read
    # tolerantly: fields another gpverify version wrote are kept (extra="allow"), missing ones take defaults, and
    # anything unreadable is one ConfigError naming the file (RunState.load).
    model_config = ConfigDict(extra="allow", validate_assignment=True)  # statuses stay literal

    def get(self, key: str, default: Any = None) -> Any:
        """Mapping-style read of a field or an extra one (plans and older callers read entries so)."""
        value = getattr(self, key, None)
        return default if value is None else value


class ItemRecord(_Tolerant):
    """One step or gate of the run: its status, attempts and what the last attempt left behind."""

    status: ItemStatus = "pending"
    attempts: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    kind: str | None = None
    host: str | None = None
    title: str | None = None
    phase: str | None = None
    exit_code: int | None = None
    output_tail: str | None = None
    run_by: str | None = None
    confirmed_by: str | None = None
    confirmed_at: str | None = None
    confirmed_how: str | None = None
    confirmed_account: str | None = None  # the operating system account the confirmation was given under
    report: str | None = None  # the gate's report of its latest attempt (earlier ones stay beside it)
    results: str | None = None
    counts: dict[str, int] = {}
    failed_checks: list[str] = []

    @property
    def done(self) -> bool:
        return self.status in DONE


class HistoryEntry(_Tolerant):
    item: str
    status: str
    at: str


class RunRecord(_Tolerant):
    run_id: str
    created: str = ""
    status: RunStatus = "running"
    inventory: str = ""
    plan_source: str | None = None
    plan: dict[str, Any] = {}
    lab: dict[str, Any] | None = None
    checks: list[str] = []  # the site's own check folders (--checks), absolute: the gates of a resumed run keep them
    message: str | None = None
    stopped_at: str | None = None
    items: dict[str, ItemRecord] = Field(default_factory=dict)
    history: list[HistoryEntry] = Field(default_factory=list)


class RunState:
    """The state of one run; save() makes a crash or kill at any moment lose nothing already done."""

    def __init__(self, folder: Path, record: RunRecord) -> None:
        self.folder = folder
        self.record = record

    @classmethod
    def create(cls, reports: Path, **fields: Any) -> RunState:
        run_id = new_run_id()
        state = cls(reports / run_id, RunRecord(run_id=run_id, created=now(), **fields))
        state.folder.mkdir(parents=True, exist_ok=False)
        state.save()
        return state

    @classmethod
    def load(cls, reports: Path, run_id: str | None, origin: str = "--resume") -> RunState:
        """A run by id, or the most recently created run under `reports`; `origin` is where the RUN-ID was given
        (the option or command a bad one is blamed on)."""
        wanted = "a run to resume" if origin == "--resume" else "a run of gpverify upgrade"
        if run_id:
            folder = reports / run_id
            # Only a run folder directly inside the reports folder: a RUN-ID is a name, never a path elsewhere.
            if not _RUN_ID.fullmatch(run_id) or folder.resolve().parent != reports.resolve():
                raise ConfigError(
                    origin,
                    "RUN-ID",
                    f"the name of a run folder inside {reports} (such as 20261129-152000-ab12), got {run_id!r}",
                )
        else:
            runs = [p.parent for p in reports.glob(f"*/{STATE}")]
            if not runs:
                raise ConfigError(origin, "RUN-ID", f"{wanted}, but {reports} holds none")
            folder = max(runs, key=lambda p: p.name)  # run ids start with their UTC creation time
        path = folder / STATE
        try:
            text = read_file(path, "run state file", MAX_STATE_BYTES).decode("utf-8")  # never a FIFO's hang
            return cls(folder, RunRecord.model_validate(json.loads(text)))
        except ConfigError as exc:
            raise ConfigError(origin, "RUN-ID", f"a run folder with a readable {STATE} ({exc.expected})") from None
        except (OSError, ValueError, RecursionError, ValidationError) as exc:
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else exc
            raise ConfigError(origin, "RUN-ID", f"a run folder with a readable {STATE} ({path}: {reason})") from None

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def data(self) -> dict[str, Any]:
        """The record as JSON data (a copy: change the run through mark() and set())."""
        return self.record.model_dump(mode="json")

    def item(self, item_id: str) -> ItemRecord:
        return self.record.items.setdefault(item_id, ItemRecord())

    def done(self, item_id: str) -> bool:
        return self.item(item_id).done

    def mark(self, item_id: str, status: ItemStatus, **fields: Any) -> None:
        """Record a change of an item and save at once (before a step runs: 'started'; after: 'done')."""
        entry = self.item(item_id)
        entry.status = status
        for key, value in fields.items():
            setattr(entry, key, value)
        if status == "started":
            entry.attempts += 1
            entry.started_at = now()
        elif status != "pending":
            entry.finished_at = now()
        self.record.history.append(HistoryEntry(item=item_id, status=status, at=now()))
        self.save()

    def set(self, **fields: Any) -> None:
        for key, value in fields.items():
            setattr(self.record, key, value)
        self.save()

    def probe(self) -> None:
        """Raise OSError when the run folder cannot take a write (disk full, read-only, quota)."""
        probe = self.folder / f".probe.{os.getpid()}"
        try:
            with open(probe, "wb") as fh:
                fh.write(b"\0" * 65536)
                fh.flush()
                os.fsync(fh.fileno())
        finally:
            probe.unlink(missing_ok=True)

    def status_line(self) -> str:
        """One line for people: the run, its status, how far it got, and why it stopped."""
        r = self.record
        done = sum(1 for i in r.items.values() if i.done)
        where = f" at {r.stopped_at}" if r.stopped_at and r.status != "complete" else ""
        why = f": {r.message}" if r.message else ""
        return f"run {r.run_id}: {r.status}{where} ({done} of {len(r.items)} item(s) done){why}"

    def save(self) -> None:
        # Write a temporary file, fsync it, then rename over the old one: a reader (or a resumed run after
        # SIGKILL) sees either the previous state or the new one, never half of one.
        path = self.folder / STATE
        tmp = path.with_name(f".{STATE}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(self.record.model_dump_json(indent=1))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        if os.name != "nt":  # a directory cannot be opened for fsync on Windows; the rename is durable there
            dirfd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dirfd)
            finally:
                os.close(dirfd)
