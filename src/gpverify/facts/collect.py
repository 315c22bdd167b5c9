"""Gather every host's facts once: one shell and one collector run per host, hosts in parallel."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from gpverify.config.inventory import HostSpec
from gpverify.errors import FactsUnavailable, HostUnavailable
from gpverify.facts.windows import BOOTSTRAP, HostFacts, collector_stdin, parse_collector_output
from gpverify.transport import get_transport_class, sentences, transport_for
from gpverify.transport.base import CommandResult, encoded_command

# Hosts collected at once, by default every host of the farm up to MAX_WORKERS (workers_for).
# - WinRM's limits are per target host (MaxShellsPerUser, default 30; MaxConcurrentOperationsPerUser, 1500:
#   learn.microsoft.com/windows/win32/winrm/installation-and-configuration-for-windows-remote-management) and
#   a run opens one shell per host whatever the worker count, so no worker count can exceed them.
# - A host in flight spends its time waiting on round trips (seven requests and the collector's run), and waiting
#   costs no CPU: at 100 ms, 200 hosts took 7.0 s with 32 at once and 4.0 s with 128 (issue 15). On a LAN the run
#   is CPU-bound and the count barely matters (make bench measures both), so the farm's latency, unknown until
#   the hosts answer, need not be guessed: the larger count suits both.
# - MAX_WORKERS bounds the farm and the machine running the suite: connections at once, sockets and memory
#   (make bench: RSS at 200). Lean hosts wait on one event loop; only pywinrm's take a thread each.
MAX_WORKERS = 128
DEFAULT_WORKERS: int | None = None  # None: workers_for(number of hosts)
# Seconds a host may outlive its deadline (closing the shell, parsing) before the run stops waiting.
DEADLINE_GRACE = 5.0
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollectJob:
    spec: HostSpec
    request: dict[str, Any]
    password: str | None = field(repr=False)


def clean_stderr(stderr: bytes) -> str:
    """PowerShell errors arrive as CLIXML on stderr; keep only the error lines, as pywinrm does."""
    text = stderr.decode("utf-8", errors="replace")
    if text.startswith("#< CLIXML"):
        lines = re.findall(r'<S S="Error">(.*?)</S>', text, flags=re.DOTALL)
        text = "".join(lines).replace("_x000D__x000A_", "\n") if lines else "a PowerShell progress or error record"
    return " ".join(text.split())[:300]


def collect_host(job: CollectJob) -> HostFacts:
    """Run the collector on one host; raise HostUnavailable naming the host and the cause."""
    transport = get_transport_class(transport_for(job.spec))(job.spec, job.password)
    with transport:
        result = transport.run("powershell", encoded_command(BOOTSTRAP), collector_stdin(job.request))
    return _facts(job, result)


async def collect_host_async(job: CollectJob) -> HostFacts:
    """collect_host on the running event loop, for a host the lean client talks to (transport_for: "lean")."""
    transport = get_transport_class("lean")(job.spec, job.password)
    try:
        result = await transport.run_async("powershell", encoded_command(BOOTSTRAP), collector_stdin(job.request))
    except asyncio.CancelledError:  # the run is ending (its bound passed, or Ctrl-C): no shell to delete first
        transport.abort()
        raise
    except BaseException:
        await transport.close_async()
        raise
    await transport.close_async()
    return _facts(job, result)


def _facts(job: CollectJob, result: CommandResult) -> HostFacts:
    if not result.succeeded:
        raise HostUnavailable(
            job.spec.name, f"the collector failed (exit {result.exit_code}): {clean_stderr(result.stderr)}"
        )
    return parse_collector_output(job.spec.name, result.stdout)


HostOutcome = HostFacts | FactsUnavailable  # a host's facts, or why they could not be read


def _safe_collect(job: CollectJob) -> HostOutcome:
    """One host's facts or its error sentence: whatever goes wrong on one host stays with that host."""
    try:
        return collect_host(job)
    except FactsUnavailable as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a bug or an odd endpoint: the host's error, never the run's
        return _unexpected(job, exc)


async def _safe_collect_async(job: CollectJob) -> HostOutcome:
    """_safe_collect on the running event loop."""
    try:
        return await collect_host_async(job)
    except FactsUnavailable as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - as _safe_collect
        return _unexpected(job, exc)


def _unexpected(job: CollectJob, exc: Exception) -> HostUnavailable:
    # Only the type: an exception's text or locals may hold what the host sent, or a credential.
    _log.debug("collecting from %s failed with %s", job.spec.name, type(exc).__name__)
    return HostUnavailable(
        job.spec.name,
        f"collecting the facts failed unexpectedly ({type(exc).__name__}): "
        "run again with the host checked; if it persists, report it to the gpverify maintainers",
    )


def _deadline(job: CollectJob) -> float:
    return float(job.spec.winrm.deadline or 300)


def _overdue(name: str, job: CollectJob) -> HostUnavailable:
    return HostUnavailable(name, sentences.deadline(job.spec, "collecting its facts"))


def workers_for(hosts: int, requested: int | None = None) -> int:
    """Hosts collected at once for this many hosts: the number asked for, or all of them up to MAX_WORKERS."""
    return max(1, min(requested or MAX_WORKERS, hosts))


Then = Callable[[str, HostOutcome], list[CollectJob]]


def collect_hosts(
    jobs: Iterable[CollectJob],
    *,
    max_workers: int | None = DEFAULT_WORKERS,
    on_done: Callable[[str, HostOutcome], None] | None = None,
    then: Then | None = None,
    later: int = 0,
) -> dict[str, HostOutcome]:
    """Collect all hosts concurrently; a failed host yields its error and never affects the others.

    `then(name, facts or error)`, called as each host finishes, may return hosts to collect next, before the hosts
    still waiting for room (at most `later` of them in all): the session hosts, once the web server has said
    where their runtime is.
    """
    jobs = list(jobs)
    if not jobs:
        return {}
    workers = workers_for(len(jobs) + later, max_workers)
    # Each host ends within its own deadline (the transport closes its sockets then); the run waits at most
    # that long for every round of workers (one more for the hosts `then` releases), plus a grace, so no host can
    # keep the run going.
    rounds = math.ceil((len(jobs) + later) / workers) + (1 if later else 0)
    bound = rounds * (max(_deadline(j) for j in jobs) + DEADLINE_GRACE)
    collection = _Collection(workers, on_done, then)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(collection.collect(jobs, bound))
    return _beside_a_running_loop(collection, jobs, bound)


def _beside_a_running_loop(collection: _Collection, jobs: list[CollectJob], bound: float) -> dict[str, HostOutcome]:
    """collect_hosts called from a running event loop (an application's own): the collection's loop runs in a
    thread of its own, and ends when the caller's task is cancelled (asyncio.run's answer to Ctrl-C) or Ctrl-C
    reaches this thread."""
    caller = asyncio.current_task()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gpverify-collect-loop") as one:
        running = one.submit(asyncio.run, collection.collect(jobs, bound))
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    return running.result(timeout=0.1)
                if caller is not None and caller.cancelling():
                    raise asyncio.CancelledError
        except (KeyboardInterrupt, asyncio.CancelledError):
            collection.stop()
            raise


class _Collection:
    """One run's hosts, at most `workers` in flight: the lean client's on the event loop, pywinrm's in a pool of
    threads; each host's outcome recorded as it finishes."""

    def __init__(self, workers: int, on_done: Callable[[str, HostOutcome], None] | None, then: Then | None) -> None:
        self.workers = workers
        self.on_done = on_done
        self.then = then
        self.jobs: dict[str, CollectJob] = {}
        self.outcomes: dict[str, HostOutcome] = {}
        self.waiting: collections.deque[CollectJob] = collections.deque()
        self.running: dict[str, asyncio.Task[None]] = {}
        self.pool: ThreadPoolExecutor | None = None  # for pywinrm's hosts, made when the first one comes
        self.broken: Exception | None = None  # on_done or then failed: the run's error, not a host's
        self.display: ThreadPoolExecutor | None = None  # on_done's one thread, made with the first host done

    async def collect(self, jobs: list[CollectJob], bound: float) -> dict[str, HostOutcome]:
        """Each host's outcome, in the order the hosts were given; a host not done within `bound` is overdue."""
        self.loop = asyncio.get_running_loop()
        self.all_done = asyncio.Event()
        try:
            self.submit(jobs)
            with contextlib.suppress(TimeoutError):  # the bound passed: the hosts not done are overdue
                async with asyncio.timeout(bound):
                    await self.all_done.wait()
            if self.broken is not None:
                raise self.broken
            return self.results()
        finally:
            for task in self.running.values():
                task.cancel()
            for pool in (self.pool, self.display):
                if pool is not None:
                    pool.shutdown(wait=False, cancel_futures=True)  # an overdue thread is left to its deadline

    def stop(self) -> None:
        """End the collection from another thread: the hosts not done are overdue."""
        with contextlib.suppress(AttributeError, RuntimeError):  # not started yet, or already ended
            self.loop.call_soon_threadsafe(self.all_done.set)

    def submit(self, batch: list[CollectJob], *, first: bool = False) -> None:
        """Queue hosts (`first`: before those still waiting) and start as many as there is room for."""
        self.jobs.update((job.spec.name, job) for job in batch)
        if first:
            self.waiting.extendleft(reversed(batch))
        else:
            self.waiting.extend(batch)
        while self.waiting and len(self.running) < self.workers:
            job = self.waiting.popleft()
            self.running[job.spec.name] = asyncio.create_task(self._host(job))

    async def _host(self, job: CollectJob) -> None:
        if transport_for(job.spec) == "lean":
            outcome = await _safe_collect_async(job)
        else:
            if self.pool is None:
                self.pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="gpverify-collect")
            outcome = await asyncio.get_running_loop().run_in_executor(self.pool, _safe_collect, job)
        try:
            self.outcomes[job.spec.name] = outcome
            if self.on_done is not None:
                await self._displayed(job.spec.name, outcome)
            del self.running[job.spec.name]
            # The hosts `then` releases wait on this one (the session hosts on the web server): they go first.
            self.submit(self.then(job.spec.name, outcome) if self.then else [], first=True)
        except Exception as exc:  # noqa: BLE001 - raised by collect(), where the run waits
            self.broken = exc
        if not self.running or self.broken is not None:
            self.all_done.set()

    async def _displayed(self, name: str, outcome: HostOutcome) -> None:
        """on_done in a thread of its own: a display that blocks (a terminal nobody reads) must not hold up the
        loop, where another host's timeout would then fire before its answer is read. One thread: the display
        sees the hosts one at a time, in the order they finished."""
        if self.display is None:
            self.display = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gpverify-progress")
        assert self.on_done is not None
        await asyncio.get_running_loop().run_in_executor(self.display, self.on_done, name, outcome)

    def results(self) -> dict[str, HostOutcome]:
        for name in [*self.running, *(job.spec.name for job in self.waiting)]:
            self._record(name, _overdue(name, self.jobs[name]))
        return {name: self.outcomes[name] for name in self.jobs}

    def _record(self, name: str, outcome: HostOutcome) -> None:
        self.outcomes[name] = outcome
        if self.on_done:
            self.on_done(name, outcome)
