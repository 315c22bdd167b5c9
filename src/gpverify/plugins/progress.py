"""A transient progress bar while host facts are collected (rich): hosts done of total, failures so far.

Shown only on an interactive terminal: quiet when the stream is not a TTY, when CI is set (CI=true, as GitHub
Actions, GitLab CI and most CI systems export), when TERM=dumb, and in pytest-xdist workers (their output is not
the user's terminal). It is drawn before the first check runs, at the start of a line, and erased when
collection ends, so the report reads as without it; the hosts that could not be read show in the checks.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

FALSE_WORDS = {"", "0", "false", "no", "off"}
LABEL = "gpverify facts"
OnDone = Callable[[str, object], None]  # (host name, HostFacts or FactsUnavailable): Farm.collect's on_done


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


@contextmanager
def collect_progress(total: int, stream: TextIO, *, enabled: bool | None = None) -> Iterator[OnDone | None]:
    """Yield the on_done callback of Farm.collect: on an interactive `stream` one that advances a transient bar,
    else None (no callback to call for each host)."""
    if not (interactive(stream) if enabled is None else enabled):
        yield None
        return
    # rich only where a bar is drawn: importing it cost every run in CI or into a file 30 ms (make bench).
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=stream, force_terminal=True)
    columns = (
        TextColumn(LABEL),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("hosts, {task.fields[failed]} failed"),
        TimeElapsedColumn(),
    )
    lock = threading.Lock()
    failed: list[str] = []
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(LABEL, total=total, failed=0)

        def done(name: str, outcome: object) -> None:
            from gpverify.errors import FactsUnavailable

            with lock:  # collector threads call this at once
                if isinstance(outcome, FactsUnavailable):
                    failed.append(name)
                bar.update(task, advance=1, failed=len(failed))

        yield done
