"""WinRS actions: one short method per ``a:Action``, backed by a per-host shell table."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from gpverify.lab.wsman import serialize
from gpverify.lab.wsman.faults import (
    ActionNotEmulated,
    CommandLineTooLong,
    HandlerError,
    OperationTimedOut,
    UnknownCommand,
    UnknownShell,
    WsmanFault,
)
from gpverify.lab.wsman.serialize import ShellSpec, WsmanRequest

__all__ = ["CommandHandler", "CommandOutput", "Reply", "Shell", "ShellCommand", "WsmanResponder"]

# cmd.exe refuses lines over 8191 characters (research A.6: diyan/pywinrm#184, StackStorm/st2#4565);
# CreateProcess refuses lpCommandLine over 32767 (masterzen/winrm fixture, research A.5).
CMD_EXE_LIMIT = 8191
CREATE_PROCESS_LIMIT = 32767
CMD_TOO_LONG_STDERR = b"The command line is too long.\r\n"


@dataclass
class CommandOutput:
    """What one command produced; the lab streams it back over one or more Receives."""

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
    running_chunks: int = 0  # answer this many Receives with State=Running (stdout split across them) before Done


class CommandHandler(Protocol):
    """The host model: turns a command line and its stdin into output."""

    def run(self, command_line: str, stdin: bytes) -> CommandOutput: ...


@dataclass
class ShellCommand:
    """One WinRS command inside a shell."""

    command_id: str
    command_line: str
    skip_cmd_shell: bool = False
    stdin: bytearray = field(default_factory=bytearray)
    stdin_started: bool = False
    stdin_closed: bool = False
    output: CommandOutput | None = None
    receives_answered: int = 0
    done: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass
class Shell:
    """One open WinRS shell (the table entry ``Create`` adds and ``Delete`` removes)."""

    shell_id: str
    spec: ShellSpec
    options: dict[str, str]
    commands: dict[str, ShellCommand] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """HTTP status and SOAP body of one answered action (body may be empty), plus the fault if any."""

    status: int
    body: bytes
    fault: WsmanFault | None = None


def _split(data: bytes, parts: int) -> list[bytes]:
    """Split ``data`` into ``parts`` contiguous pieces (some may be empty)."""
    step = -(-len(data) // parts) if data else 0
    return [data[i * step : (i + 1) * step] for i in range(parts)]


class WsmanResponder:
    """Wire half of one emulated host: decodes actions, keeps shells, calls the `CommandHandler`.

    Not emulated: shell quotas (MaxShellsPerUser), shell idle expiry, MaxEnvelopeSize
    splitting of large output, any ResourceURI other than ``windows/shell/cmd``.
    """

    def __init__(self, handler: CommandHandler, *, machine: str = "127.0.0.1", owner: str = "gpadmin") -> None:
        self.handler = handler
        self.machine = machine
        self.owner = owner
        self.address = "http://127.0.0.1:5985/wsman"
        self.cmd_exe_limit: int | None = CMD_EXE_LIMIT
        self.create_process_limit: int | None = CREATE_PROCESS_LIMIT
        self.shells: dict[str, Shell] = {}
        # A fault knob: an action named here is answered with its fault instead (a w:TimedOut to a Create, say).
        self.faults: dict[str, WsmanFault] = {}
        self.handler_errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._actions: dict[str, Callable[[WsmanRequest], bytes]] = {
            "Create": self.create,
            "Command": self.command,
            "Send": self.send,
            "Receive": self.receive,
            "Signal": self.signal,
            "Delete": self.delete,
        }

    # ------------------------------------------------------------ dispatch

    def dispatch(self, req: WsmanRequest) -> Reply:
        """Run the action named by ``a:Action``; every `WsmanFault` becomes a SOAP fault here."""
        try:
            if req.action in self.faults:
                raise self.faults[req.action]
            return Reply(200, self._method_for(req)(req))
        except WsmanFault as fault:
            return self.fault_reply(fault, req.message_id)

    def fault_reply(self, fault: WsmanFault, relates_to: str | None) -> Reply:
        """HTTP status and body for a fault (empty body when the fault says so)."""
        body = b"" if fault.empty_body else serialize.fault_envelope(fault, relates_to, self.machine)
        return Reply(fault.http_status, body, fault)

    def _method_for(self, req: WsmanRequest) -> Callable[[WsmanRequest], bytes]:
        method = self._actions.get(req.action)
        if method is None or (req.resource_uri or "").strip() != serialize.RESOURCE_CMD:
            raise ActionNotEmulated(req.action_uri or "(empty)", req.resource_uri)
        return method

    def _shell(self, req: WsmanRequest) -> Shell:
        with self._lock:
            shell = self.shells.get(req.shell_id or "")
        if shell is None:
            raise UnknownShell(req.shell_id)
        return shell

    def _command(self, shell: Shell, command_id: str | None) -> ShellCommand:
        cmd = shell.commands.get(command_id or "")
        if cmd is None:
            raise UnknownCommand(f"The CommandId {command_id} is not valid for shell {shell.shell_id}.")
        return cmd

    # ------------------------------------------------------------ actions

    def create(self, req: WsmanRequest) -> bytes:
        """Open a shell and answer with its ShellId."""
        shell = Shell(serialize.new_guid(), serialize.parse_shell(req), dict(req.options))
        with self._lock:
            self.shells[shell.shell_id] = shell
        return serialize.create_response(req.message_id, shell.shell_id, self.address, shell.spec, self.owner)

    def command(self, req: WsmanRequest) -> bytes:
        """Start a command; CreateProcess's 32 K limit fails right here, as on Windows."""
        shell = self._shell(req)
        line = serialize.parse_command_line(req)
        if self.create_process_limit is not None and len(line) > self.create_process_limit:
            raise CommandLineTooLong()
        skip = req.options.get("WINRS_SKIP_CMD_SHELL", "FALSE").upper() == "TRUE"
        cmd = ShellCommand(serialize.new_guid(), line, skip_cmd_shell=skip)
        shell.commands[cmd.command_id] = cmd
        return serialize.command_response(req.message_id, cmd.command_id)

    def send(self, req: WsmanRequest) -> bytes:
        """Append stdin; ``End="true"`` closes it so the next Receive runs the handler."""
        shell = self._shell(req)
        for chunk in serialize.parse_send(req):
            cmd = self._command(shell, chunk.command_id)
            cmd.stdin += chunk.data
            cmd.stdin_started = True
            cmd.stdin_closed = cmd.stdin_closed or chunk.end
        return serialize.send_response(req.message_id)

    def receive(self, req: WsmanRequest) -> bytes:
        """Answer one Receive: Running chunks first (if asked for), then Done with the exit code."""
        shell = self._shell(req)
        cmd = self._command(shell, serialize.parse_receive(req))
        with cmd.lock:
            output = self._output(cmd)
            return self._next_chunk(req, cmd, output)

    def signal(self, req: WsmanRequest) -> bytes:
        """Terminate a command (pywinrm ``cleanup_command``); unknown CommandIds are ignored."""
        shell = self._shell(req)
        command_id, _code = serialize.parse_signal(req)
        shell.commands.pop(command_id or "", None)
        return serialize.signal_response(req.message_id)

    def delete(self, req: WsmanRequest) -> bytes:
        """Close the shell; a second Delete of the same id is an UnknownShell fault."""
        with self._lock:
            shell = self.shells.pop(req.shell_id or "", None)
        if shell is None:
            raise UnknownShell(req.shell_id)
        return serialize.delete_response(req.message_id)

    # ------------------------------------------------------------ output

    def _output(self, cmd: ShellCommand) -> CommandOutput:
        """Call the handler once it may run; a fault it raises answers this Receive, the next one retries."""
        if cmd.output is not None:
            return cmd.output
        if cmd.stdin_started and not cmd.stdin_closed:
            # The process is still waiting for stdin: Windows would hold the Receive for
            # OperationTimeout and then fault. The lab faults at once (no wait emulated).
            raise OperationTimedOut()
        if self.cmd_exe_limit is not None and not cmd.skip_cmd_shell and len(cmd.command_line) > self.cmd_exe_limit:
            cmd.output = CommandOutput(stderr=CMD_TOO_LONG_STDERR, exit_code=1)
            return cmd.output
        cmd.output = self._run_handler(cmd)
        return cmd.output

    def _run_handler(self, cmd: ShellCommand) -> CommandOutput:
        try:
            output = self.handler.run(cmd.command_line, bytes(cmd.stdin))
        except WsmanFault:
            raise
        except Exception as exc:  # surfaced to the test through handler_errors (guidance 10)
            self.handler_errors.append(exc)
            raise HandlerError(f"The lab command handler raised {type(exc).__name__}: {exc}") from exc
        if not isinstance(output, CommandOutput):
            err = TypeError(f"CommandHandler.run returned {type(output).__name__}, expected CommandOutput")
            self.handler_errors.append(err)
            raise HandlerError(str(err))
        return output

    def _next_chunk(self, req: WsmanRequest, cmd: ShellCommand, output: CommandOutput) -> bytes:
        n = max(output.running_chunks, 0)
        index = cmd.receives_answered
        cmd.receives_answered += 1
        if index < n and not cmd.done:
            piece = _split(output.stdout, n)[index]
            return serialize.receive_response(req.message_id, cmd.command_id, piece, b"", None)
        first_done = not cmd.done
        cmd.done = True
        stdout = output.stdout if n == 0 and first_done else b""
        stderr = output.stderr if first_done else b""
        return serialize.receive_response(req.message_id, cmd.command_id, stdout, stderr, output.exit_code)
