"""What the garbage collector walks during a check run: start-up, the farm and the run's results are frozen out."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Start-up: what pytest loads between the plugin's import and pytest_configure (the fixtures, the checks, their facts
# modules, the inventory and its profile) lives until the run ends, and a full garbage collection in that window
# walked all of it for nothing (about 50 ms a run, make bench). So a full collection waits for start_up_over(),
# called by pytest_configure in every run once a farm's run has frozen what it loaded. Only the third threshold
# (gen1 collections between full ones) is raised, and only tenfold, should configure never come.
_AT_IMPORT: list[tuple[int, int, int]] = [gc.get_threshold()]
gc.set_threshold(_AT_IMPORT[0][0], _AT_IMPORT[0][1], 10 * _AT_IMPORT[0][2])

_left_frozen = False  # an earlier session of this process froze what it loaded and left it so
_held_by_caller = False  # a session run by older_objects_frozen: the caller unfreezes


def start_up_over() -> None:
    """Python's thresholds back, once per process."""
    if _AT_IMPORT:
        gc.set_threshold(*_AT_IMPORT.pop())


def freeze_what_lives_until_the_end() -> None:
    """Move what is loaded now (modules, the inventory, the profile) out of the garbage collector's walks: it lives
    until the run ends, and every collection of the run walked it again (a tenth of a second at 200 hosts, make
    bench).

    Left frozen when the session ends, so the interpreter's last collection at exit skips it too (handing it back
    at the session's clean-up cost every run 0.2 s there). A later session in the same process (pytester, a tool
    embedding pytest) first hands back what an earlier one left and collects its garbage, so no session outlives
    the next one. Where the caller froze (older_objects_frozen: gates and audits), the caller unfreezes.
    """
    global _left_frozen
    if _left_frozen:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
    _left_frozen = not _held_by_caller


def freeze_what_the_run_made() -> None:
    """Freeze again, as the session finishes, what the run made (items, reports, results, facts), which lives until
    the process ends or the next session hands it back: pytest collects garbage in full twice as a run ends (its
    unraisableexception plugin), and walking all of it took a fifth of a second at 1,000 hosts (make bench)."""
    if _left_frozen:
        gc.freeze()


@contextlib.contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Leave what the process held before an in-process session out of the session's garbage collections.

    pytest collects garbage in full when a session ends (its unraisableexception plugin, to report finalizers'
    errors), and a full collection walks every object of the process: pytest, pydantic, SQLAlchemy and the lab
    already imported, about 0.1 s a session, seven times in a lab upgrade. Objects made during the session are
    still collected, so nothing it should report is missed; gc.unfreeze() hands the rest back afterwards
    (docs.python.org/3/library/gc.html#gc.freeze). A flag, not gc.get_freeze_count(), tells the plugin: that
    count walks every frozen object (11 ms a gate, make bench).
    """
    global _held_by_caller
    gc.freeze()
    _held_by_caller = True
    try:
        yield
    finally:
        _held_by_caller = False
        gc.unfreeze()
