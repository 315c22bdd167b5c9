"""The small interface every host transport implements."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Protocol


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
