"""A one-line progress display while host facts are collected: hosts done of total, failures so far.

Shown only on an interactive terminal. Quiet when the stream is not a TTY, when CI is set (CI=true, as
GitHub Actions, GitLab CI and most CI systems export), when TERM=dumb, and in pytest-xdist workers (their
output is not the user's terminal line). The line is rewritten in place (carriage return) at most every
`interval` seconds. It is transient: once collection ends the line is erased and the cursor goes back to where
pytest's own output stood (`resume_column`), so the report reads as without it; failures show in the checks.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any, Self, TextIO

from gpverify.errors import FactsUnavailable

FALSE_WORDS = {"", "0", "false", "no", "off"}


def interactive(stream: Any, environ: Mapping[str, str] | None = None) -> bool:
    """True when progress may be drawn on this stream: a TTY, not in CI, not a dumb terminal, not an xdist worker."""
    env = os.environ if environ is None else environ
    if env.get("CI", "").strip().lower() not in FALSE_WORDS:
        return False
    if env.get("TERM", "") == "dumb" or "PYTEST_XDIST_WORKER" in env:
        return False
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


class CollectProgress:
    """Counts collected hosts; draws `facts: 12/200 hosts, 1 failed` on a terminal, nothing elsewhere.

    `update` is the on_done callback of Farm.collect / collect_hosts: (host name, HostFacts or FactsUnavailable).
    It is thread-safe, so it can also be called from collector threads.
    """

    def __init__(self, total: int, stream: TextIO | None = None, *, enabled: bool | None = None,
                 interval: float = 0.1, resume_column: int = 0, label: str = "gpverify facts") -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.__stderr__
        self.enabled = interactive(self.stream) if enabled is None else enabled
        self.interval = interval
        self.label = label
        self.done = 0
        self.failed: list[str] = []
        self._resume_column = resume_column  # pytest's output stood mid-line here: draw below, come back after
        self._started = time.monotonic()
        self._last_draw = 0.0
        self._drawn = False
        self._lock = threading.Lock()

    def update(self, name: str, outcome: object) -> None:
        with self._lock:
            self.done += 1
            if isinstance(outcome, (FactsUnavailable, BaseException)):
                self.failed.append(name)
            now = time.monotonic()
            if self.enabled and (now - self._last_draw >= self.interval or self.done == self.total):
                self._last_draw = now
                self._draw(self.line())

    __call__ = update

    def line(self) -> str:
        elapsed = time.monotonic() - self._started
        return f"{self.label}: {self.done}/{self.total} hosts, {len(self.failed)} failed ({elapsed:.1f} s)"

    def close(self) -> None:
        """Erase the progress line and put the cursor back where pytest's output stood (terminal only)."""
        with self._lock:
            if not self.enabled or not self._drawn:
                return
            back = f"\x1b[1A\x1b[{self._resume_column}C" if self._resume_column else ""
            self._write(f"\r\x1b[K{back}")
            self._drawn = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _draw(self, text: str) -> None:
        prefix = ""
        if not self._drawn:
            prefix = "\n" if self._resume_column else ""
            self._drawn = True
        self._write(f"{prefix}\r{text}\x1b[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)  # type: ignore[union-attr]
            self.stream.flush()  # type: ignore[union-attr]
        except (OSError, ValueError, AttributeError):
            self.enabled = False  # the terminal went away: stay quiet from now on
