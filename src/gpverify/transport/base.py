"""The small interface every host transport implements, and the WinRM exchange both WinRM clients share."""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar, cast

from gpverify.config.inventory import HostSpec
from gpverify.errors import HostUnavailable
from gpverify.transport import sentences

# WinRS Send envelopes stay well under the default MaxEnvelopeSize of 150 KB (pywinrm sends 153600).
STDIN_CHUNK = 32 * 1024
# The whole collector output of one host; its JSON is a few hundred KB on a large farm.
MAX_OUTPUT_BYTES = 64 * 1024 * 1024
# Consecutive w:TimedOut answers before giving up; a fast-failing endpoint is also paused between Receives.
RECEIVE_RETRIES = 100
RECEIVE_PAUSE_MAX = 1.0


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    stdout: bytes
    stderr: bytes

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0


class HostTransport(Protocol):
    """One open session to one host: commands run in a single shell until close()."""

    def run(self, command: str, args: list[str], stdin: bytes | None = None) -> CommandResult: ...

    def close(self) -> None: ...


def encoded_command(script: str) -> list[str]:
    """powershell.exe arguments that run a script given as -EncodedCommand (UTF-16LE base64)."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return ["-NoLogo", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", encoded]


def stdin_chunks(data: bytes | None) -> Iterator[tuple[bytes, bool]]:
    """The WinRS Send pieces of a command's stdin: (chunk, is the last one); none for no stdin."""
    data = data or b""
    for start in range(0, len(data), STDIN_CHUNK):
        yield data[start : start + STDIN_CHUNK], start + STDIN_CHUNK >= len(data)


# ---- a host's exchange as steps
# A transport's exchange with one host is written once, as a generator of the waits it needs (a Pause here, an
# HTTP request in transport/lean.py), and driven either blocking, one host per thread (`drive`), or on an asyncio
# event loop with many hosts on one thread (lean.py's run_async): the same requests and the same sentences.


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait this many seconds before the next step."""

    seconds: float


T = TypeVar("T")
Steps = Generator[Any, Any, T]  # yields what to wait for, is sent what the wait brought, returns the T


def drive(steps: Steps[T], perform: Callable[[Any], Any]) -> T:
    """Run `steps` blocking: each wait is `perform`ed and its result sent back, or its exception thrown in (where
    the steps put it in words)."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            wait = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as stop:
            return cast(T, stop.value)
        try:
            value, error = perform(wait), None
        except Exception as exc:  # noqa: BLE001 - thrown into the steps, which say what it means
            value, error = None, exc


async def drive_async(steps: Steps[T], perform: Callable[[Any], Awaitable[Any]]) -> T:
    """`drive` on the running event loop: each wait awaited, many hosts' steps on one thread."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            wait = steps.send(value) if error is None else steps.throw(error)
        except StopIteration as stop:
            return cast(T, stop.value)
        try:
            value, error = await perform(wait), None
        except Exception as exc:  # noqa: BLE001 - as drive's
            value, error = None, exc


def at_once(call: Callable[[], T]) -> Steps[T]:
    """Steps that wait for nothing: `call`'s value (or exception) when the steps are run."""
    return call()
    yield  # unreachable: makes this a generator


def pause_blocking(wait: Any) -> None:
    """`drive`'s perform for steps whose only wait is a Pause."""
    assert isinstance(wait, Pause)
    time.sleep(wait.seconds)


class ReceiveTimedOut(Exception):
    """A Receive answered w:TimedOut: nothing yet, ask again."""


class Received(NamedTuple):
    """What one Receive answered."""

    stdout: bytes
    stderr: bytes
    done: bool
    exit_code: int


def receive_all(
    spec: HostSpec, receive: Callable[[], Steps[Received]], remaining: Callable[[], float]
) -> Steps[CommandResult]:
    """Ask `receive` (one Receive; ReceiveTimedOut for w:TimedOut, HostUnavailable for any other failure) until
    the command is done, within winrm.read_timeout and the host's time left (`remaining`), its output bounded."""
    out: list[bytes] = []
    err: list[bytes] = []
    size, timed_out = 0, 0
    until = time.monotonic() + min(spec.winrm.read_timeout or 60, max(0.0, remaining()))
    while time.monotonic() < until:
        asked = time.monotonic()
        try:
            answer = yield from receive()
        except ReceiveTimedOut:
            timed_out += 1
            if timed_out >= RECEIVE_RETRIES:
                raise HostUnavailable(spec.name, sentences.collector_hangs(timed_out)) from None
            if pause := _pause(spec, asked, timed_out, until):
                yield pause
            continue
        timed_out = 0
        size += len(answer.stdout) + len(answer.stderr)
        if size > MAX_OUTPUT_BYTES:
            raise HostUnavailable(spec.name, sentences.output_too_large(MAX_OUTPUT_BYTES))
        out.append(answer.stdout)
        err.append(answer.stderr)
        if answer.done:
            return CommandResult(answer.exit_code, b"".join(out), b"".join(err))
    if remaining() <= 0:
        raise HostUnavailable(spec.name, sentences.deadline(spec, "reading output"))
    raise HostUnavailable(spec.name, sentences.read_timeout_passed())


def _pause(spec: HostSpec, asked: float, timed_out: int, until: float) -> Pause | None:
    """w:TimedOut only means "nothing yet": Windows sends it after the operation timeout and expects the client to
    ask again, so an endpoint that sends it at once is paused, increasingly, before it is asked again."""
    if time.monotonic() - asked >= (spec.winrm.operation_timeout or 20) / 2:
        return None
    return Pause(min(RECEIVE_PAUSE_MAX, 0.05 * 2 ** min(timed_out, 5), max(0.0, until - time.monotonic())))
