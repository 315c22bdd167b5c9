"""A simulated lab in a process of its own, so its imports, start and serving use another core than the checks."""

# The parent (gpverify audit --lab) starts `python -m gpverify.lab.process` and talks to it over its standard
# streams: one JSON line in (scenario, folder, password), one JSON line back (the inventory, or why the lab could
# not start). The password goes through the pipe, never in argv, the environment or a file. The child then reads
# its standard input to the end: when the parent closes the pipe, or goes away however it ends, the child stops
# its servers and exits. Its servers bind loopback only (gpverify.lab.runtime) and end on their idle timeout too.
#
# This module stays light on purpose: the parent imports it, and none of the lab's servers, models or crypto.

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from gpverify.errors import ConfigError, GpVerifyError
from gpverify.lab.password import LAB_PASSWORD_ENV, lab_password

PROCESS_ENV = "GPVERIFY_LAB_PROCESS"  # 1: the lab in its own process wherever it can run apart, 0: never
START_TIMEOUT = 120.0  # seconds for the child to start the lab (a few on a loaded machine); it is killed after
STOP_TIMEOUT = 30.0  # seconds for the child to stop its servers once told; it is killed after


class LabProcess:
    """A lab started in a child process: its inventory once the child says the lab is up; stop() ends it."""

    def __init__(self, spec: str, workdir: Path) -> None:
        self.spec = spec
        self.workdir = workdir
        self._inventory: Path | None = None
        # The child gets this environment without the lab password; the checks here read it (lab_password).
        request = {"scenario": spec, "workdir": str(workdir), "password": lab_password()}
        env = {k: v for k, v in os.environ.items() if k != LAB_PASSWORD_ENV}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "gpverify.lab.process"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
        )
        if self._proc.stdin is None or self._proc.stdout is None:  # never: both are pipes
            raise GpVerifyError("the simulated lab's process has no pipes")
        self._to_child, self._from_child = self._proc.stdin, self._proc.stdout
        with contextlib.suppress(OSError):  # a child that ended at once: _reply() says why
            _say(self._to_child, request)

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def inventory_path(self) -> Path:
        """The lab's inventory, waiting for the child to start the lab; ConfigError / GpVerifyError if it did not."""
        if self._inventory is None:
            self._inventory = Path(self._reply()["inventory"])
        return self._inventory

    def _reply(self) -> dict[str, Any]:
        with _killed_after(self._proc, START_TIMEOUT) as expired:
            line = self._from_child.readline()
        if expired.is_set():
            raise GpVerifyError(f"the simulated lab did not start within {START_TIMEOUT:g} s")
        try:
            reply: dict[str, Any] = json.loads(line) if line else {}
        except ValueError:
            reply = {}
        if "inventory" in reply:
            return reply
        if "config_error" in reply:
            raise ConfigError(*reply["config_error"])
        why = str(reply.get("failure") or "").strip() or f"its process ended first (exit code {self._proc.wait()})"
        raise GpVerifyError(f"the simulated lab could not start: {why}")

    def stop(self) -> None:
        """Tell the child to stop (its standard input closes) and wait for it; killed if it does not end."""
        with contextlib.suppress(OSError):  # the child is gone already
            self._to_child.close()
        with _killed_after(self._proc, STOP_TIMEOUT):
            self._proc.wait()
        self._from_child.close()


@contextmanager
def _killed_after(proc: subprocess.Popen[bytes], seconds: float) -> Iterator[threading.Event]:
    """The child killed if the block lasts longer than `seconds`; the event says whether it was.

    A timer rather than Popen.wait(timeout), which polls the child with sleeps of up to 50 ms each.
    """
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        proc.kill()

    timer = threading.Timer(seconds, kill)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity where the system has one, as on Linux)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def can_run_apart() -> bool:
    """A second core to run the lab's process on, and a Python interpreter to start it with (not a frozen build).

    On one core a second process only adds its own start (about 0.15 s of CPU: the interpreter, and the modules
    both processes import) to the audit's.
    """
    return usable_cores() >= 2 and bool(sys.executable) and not getattr(sys, "frozen", False)


def runnable_now() -> int | None:
    """The tasks running or ready to run on this machine at this instant, this process among them (the fourth
    field of Linux's /proc/loadavg, man 5 proc); None where the system does not say."""
    try:
        return int(Path("/proc/loadavg").read_text(encoding="ascii").split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


def start_apart() -> bool:
    """Whether a lab starts in a process of its own: GPVERIFY_LAB_PROCESS=1 wherever it can run apart, 0 never;
    unset, where it can and a core is free at this instant. A busy machine gives each process a share of the
    cores, and a second one then slows the audit (measured: 1.46 s against 0.99 s in this process, load 3.4 on
    2 cores) where on a free core it saves a tenth of a second."""
    choice = os.environ.get(PROCESS_ENV, "")
    if choice not in ("", "0", "1"):
        raise ConfigError(PROCESS_ENV, "(environment variable)", f"1, 0 or unset, got {choice!r}")
    if choice == "0" or not can_run_apart():
        return False
    running = runnable_now()
    return choice == "1" or running is None or running < usable_cores()


@contextmanager
def lab_process(spec: str, *, prefix: str = "gpverify-lab-") -> Iterator[LabProcess]:
    """A lab in a child process and a folder of its own; on leaving, the child stops and the folder goes."""
    with tempfile.TemporaryDirectory(prefix=prefix, ignore_cleanup_errors=True) as folder:
        lab = LabProcess(spec, Path(folder).resolve())
        try:
            yield lab
        finally:
            lab.stop()


def _say(stream: IO[bytes], message: dict[str, Any]) -> None:
    stream.write(json.dumps(message).encode("utf-8") + b"\n")
    stream.flush()


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> int:
    """The child: start the lab the request names, say so (or why not), serve until stdin ends, stop."""
    line = stdin.readline()
    if not line:
        return 0  # the parent went away before asking
    request = json.loads(line)
    workdir = Path(request["workdir"])
    try:
        from gpverify.lab.runtime import start_lab

        lab = start_lab(request["scenario"], workdir, password=request["password"])  # never in this environment
    except ConfigError as exc:
        _say(stdout, {"config_error": [exc.file, exc.field, exc.expected]})
        return 3
    except Exception as exc:  # noqa: BLE001 - told to the parent as one line, never a traceback
        _say(stdout, {"failure": (str(exc).strip().splitlines() or [type(exc).__name__])[0]})
        return 2
    try:
        _say(stdout, {"inventory": str(lab.inventory_path)})
        while stdin.read(65536):  # nothing more is sent: this returns b"" when the parent closes the pipe or ends
            pass
    except OSError:
        pass
    finally:
        lab.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # the parent removes it too, unless it went away first
    return 0


def main() -> None:
    """`python -m gpverify.lab.process`: Ctrl-C reaches the parent, which stops this child by closing the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout.flush()
    protocol = open(os.dup(sys.stdout.fileno()), "wb")  # noqa: SIM115 - the reply's own copy of the pipe, for life
    # Nothing the lab prints, from Python or below it, may be taken for the reply or fill a pipe nobody reads.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    try:
        code = serve(sys.stdin.buffer, protocol)
    except OSError:  # the parent went away before the reply
        code = 0
    sys.stderr.flush()
    os._exit(code)  # no teardown of the lab's modules: the parent waits for this exit


if __name__ == "__main__":
    main()
