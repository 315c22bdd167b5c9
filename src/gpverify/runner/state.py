"""The run record: reports/<run-id>/state.json, rewritten atomically after every step and gate."""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gpverify.errors import ConfigError

STATE = "state.json"
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


class RunState:
    """The state of one run; save() makes a crash or kill at any moment lose nothing already done."""

    def __init__(self, folder: Path, data: dict[str, Any]) -> None:
        self.folder = folder
        self.data = data

    @classmethod
    def create(cls, reports: Path, **fields: Any) -> RunState:
        run_id = new_run_id()
        state = cls(reports / run_id, {"run_id": run_id, "created": now(), "status": "running",
                                         "items": {}, "history": [], **fields})
        state.folder.mkdir(parents=True, exist_ok=False)
        state.save()
        return state

    @classmethod
    def load(cls, reports: Path, run_id: str | None) -> RunState:
        """A run by id, or the most recently created run under `reports`."""
        if run_id:
            folder = reports / run_id
            # Only a run folder directly inside the reports folder: a RUN-ID is a name, never a path elsewhere.
            if not _RUN_ID.fullmatch(run_id) or folder.resolve().parent != reports.resolve():
                raise ConfigError("--resume", "RUN-ID", f"the name of a run folder inside {reports} (such as "
                                  f"20261129-152000-ab12), got {run_id!r}")
        else:
            runs = [p.parent for p in reports.glob(f"*/{STATE}")]
            if not runs:
                raise ConfigError("--resume", "RUN-ID", f"a run to resume, but {reports} holds none")
            folder = max(runs, key=lambda p: p.name)  # run ids start with their UTC creation time
        path = folder / STATE
        try:
            return cls(folder, json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ConfigError("--resume", "RUN-ID", f"a run folder with a readable {STATE} ({path}: {exc})") from None

    @property
    def run_id(self) -> str:
        return str(self.data["run_id"])

    def item(self, item_id: str) -> dict[str, Any]:
        return self.data["items"].setdefault(item_id, {"status": "pending", "attempts": 0})

    def done(self, item_id: str) -> bool:
        return self.item(item_id)["status"] in ("done", "passed")

    def mark(self, item_id: str, status: str, **fields: Any) -> None:
        """Record a change of an item and save at once (before a step runs: 'started'; after: 'done')."""
        entry = self.item(item_id)
        entry.update(status=status, **fields)
        if status == "started":
            entry["attempts"] += 1
            entry["started_at"] = now()
        elif status != "pending":
            entry["finished_at"] = now()
        self.data["history"].append({"item": item_id, "status": status, "at": now()})
        self.save()

    def set(self, **fields: Any) -> None:
        self.data.update(fields)
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

    def save(self) -> None:
        # Write a temporary file, fsync it, then rename over the old one: a reader (or a resumed run after
        # SIGKILL) sees either the previous state or the new one, never half of one.
        path = self.folder / STATE
        tmp = path.with_name(f".{STATE}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dirfd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
