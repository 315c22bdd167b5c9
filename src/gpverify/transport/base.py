"""The small interface every host transport implements."""

from __future__ import annotations

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
