"""A simulated host behind the WS-Man stand-in: runs what the suite sends, from the host's state."""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field

from gpverify.facts.windows import BOOTSTRAP, COLLECTOR_SCRIPT, STDIN_SEPARATOR
from gpverify.lab import collector, upgrade
from gpverify.lab.models import FakeHost
from gpverify.lab.wsman import CommandOutput, fault_for

ENCODED = re.compile(r"-EncodedCommand\s+(\S+)", re.IGNORECASE)
# What powershell.exe writes to stderr while a module loads: a progress record, not an error (exit code 0).
CLIXML_PROGRESS = (
    '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T>'
    '<T>System.Object</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules for first use.</AV>'
    "<AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD> </SD></PR></MS></Obj></Objs>"
)


@dataclass
class ReceivedCommand:
    kind: str  # "collector" or "other"
    command_line: str
    script: str | None = None


@dataclass
class LabHost:
    """CommandHandler for one FakeHost; records every command it receives."""

    host: FakeHost
    read_timeout: float = 4.0  # the client's, so timing faults (slow) land just past it
    received: list[ReceivedCommand] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # A command's cost is owed here, not slept: the listener pays it before it sends the answer (WsmanServer._send),
    # asleep on a connection's own thread, as a timer on the loop thread. Per thread: the answer that pays it is
    # the one built on the thread that ran the command.
    _owed: threading.local = field(default_factory=threading.local, repr=False)

    def run(self, command_line: str, stdin: bytes) -> CommandOutput:
        if self.host.command_cost:  # powershell.exe's start-up on a real host, per command
            self._owed.seconds = self.take_owed() + self.host.command_cost
        match = ENCODED.search(command_line)
        script = base64.b64decode(match.group(1)).decode("utf-16-le") if match else None
        if script != BOOTSTRAP:
            with self._lock:
                self.received.append(ReceivedCommand("other", command_line, script))
            # The upgrade's install commands, when a runner attached the upgrade emulation (lab/upgrade.py).
            answer = upgrade.answer(self.host, command_line, script, stdin)
            return (
                answer
                if answer is not None
                else CommandOutput(stderr=b"The lab does not emulate this command.", exit_code=1)
            )
        with self._lock:
            self.received.append(ReceivedCommand("collector", command_line, script))
        return self._collect(stdin)

    def take_owed(self) -> float:
        """The command cost owed on this thread since last asked, now the caller's to pay."""
        owed: float = getattr(self._owed, "seconds", 0.0)
        self._owed.seconds = 0.0
        return owed

    def _collect(self, stdin: bytes) -> CommandOutput:
        body, _, request = stdin.partition(STDIN_SEPARATOR)
        if body.decode("ascii", errors="replace") != COLLECTOR_SCRIPT:
            return CommandOutput(stderr=b"The lab only runs the collector shipped with this version.", exit_code=1)
        # Collector faults (slow, timeout, clixml-error, ...) are classes in lab/wsman/hostfaults.py.
        output = fault_for(self.host.fault, self.read_timeout).collector(
            lambda: json.dumps(collector.answer(self.host, json.loads(request))).encode()
        )
        if self.host.stderr_progress and self.host.fault is None:
            return CommandOutput(stdout=output.stdout, stderr=CLIXML_PROGRESS.encode())
        return output
