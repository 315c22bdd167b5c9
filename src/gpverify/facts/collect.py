"""Gather every host's facts once: one shell and one collector run per host, hosts in parallel."""

from __future__ import annotations

import logging
import math
import queue
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Self

from gpverify.config.inventory import HostSpec
from gpverify.errors import FactsUnavailable, HostUnavailable
from gpverify.facts.windows import BOOTSTRAP, HostFacts, collector_stdin, parse_collector_output
from gpverify.transport import get_transport_class, sentences, transport_for
from gpverify.transport.base import encoded_command

# Hosts collected at once, by default every host of the farm up to MAX_WORKERS (workers_for).
# - WinRM's limits are per target host (MaxShellsPerUser, default 30; MaxConcurrentOperationsPerUser, 1500:
#   learn.microsoft.com/windows/win32/winrm/installation-and-configuration-for-windows-remote-management) and
#   a run opens one shell per host whatever the worker count, so no worker count can exceed them.
# - A worker spends its time waiting on round trips (seven requests and the collector's run), and a waiting
#   thread costs no CPU: at 100 ms, 200 hosts took 7.0 s with 32 workers and 4.0 s with 128 (issue 15). On a
#   LAN the run is CPU-bound and the count barely matters (make bench measures both), so the farm's latency,
#   unknown until the hosts answer, need not be guessed: the larger count suits both.
# - MAX_WORKERS bounds the machine running the suite: threads, sockets and memory (make bench: RSS at 200).
MAX_WORKERS = 128
DEFAULT_WORKERS: int | None = None  # None: workers_for(number of hosts)
# Seconds a host's thread may outlive its deadline (closing the shell, parsing) before the run stops waiting.
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
        # Only the type: an exception's text or locals may hold what the host sent, or a credential.
        _log.debug("collecting from %s failed with %s", job.spec.name, type(exc).__name__)
        return HostUnavailable(
            job.spec.name,
            f"collecting the facts failed unexpectedly ({type(exc).__name__}): "
            "run again with the host checked; if it persists, report it to the gpverify "
            "maintainers",
        )


def _deadline(job: CollectJob) -> float:
    return float(job.spec.winrm.deadline or 300)


def _overdue(name: str, job: CollectJob) -> HostUnavailable:
    return HostUnavailable(name, sentences.deadline(job.spec, "collecting its facts"))


def workers_for(hosts: int, requested: int | None = None) -> int:
    """Collection threads for this many hosts: the number asked for, or one per host up to MAX_WORKERS."""
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

    `then(name, facts or error)`, called as each host finishes, may return hosts to collect next in the same pool
    (at most `later` of them in all): the session hosts, once the web server has said where their runtime is.
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
    with _Collection(workers, on_done) as run:
        run.submit(jobs)
        run.gather(time.monotonic() + bound, then)
        return run.results()


class _Collection:
    """One pool of collection threads, and each host's outcome in the order the hosts finish."""

    def __init__(self, workers: int, on_done: Callable[[str, HostOutcome], None] | None) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gpverify-collect")
        self.on_done = on_done
        self.jobs: list[CollectJob] = []
        self.outcomes: dict[str, HostOutcome] = {}
        # Each future puts itself here when it ends: one wake-up per host, however many are pending.
        self.finished: queue.SimpleQueue[Future[HostOutcome]] = queue.SimpleQueue()
        self.running: dict[Future[HostOutcome], CollectJob] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)  # an overdue thread is left to its own deadline

    def submit(self, batch: list[CollectJob]) -> None:
        self.jobs.extend(batch)
        for job in batch:
            future = self.pool.submit(_safe_collect, job)
            self.running[future] = job
            future.add_done_callback(self.finished.put)

    def gather(self, deadline: float, then: Then | None) -> None:
        """Each host's outcome as it finishes (one slow host stalls nothing), until all are in or the deadline
        passes; the hosts `then` releases join the pool as they are released."""
        while self.running:
            try:
                future = self.finished.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:  # the deadline passed: results() names what is missing
                return
            job = self.running.pop(future)
            self._record(job.spec.name, future.result())
            if then is not None:
                self.submit(then(job.spec.name, self.outcomes[job.spec.name]))

    def results(self) -> dict[str, HostOutcome]:
        """Every host's outcome, in the order the hosts were given; a host that did not end in time is overdue."""
        for future, job in self.running.items():
            future.cancel()
            self._record(job.spec.name, _overdue(job.spec.name, job))
        return {job.spec.name: self.outcomes[job.spec.name] for job in self.jobs}

    def _record(self, name: str, outcome: HostOutcome) -> None:
        self.outcomes[name] = outcome
        if self.on_done:
            self.on_done(name, outcome)
