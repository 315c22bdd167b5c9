"""PowerShell the runner sends besides the step commands: fixed text, with values arriving on stdin."""

from __future__ import annotations

TAIL_LINES = 40
# The log path comes from the plan (and holds host names), so it travels on stdin, never in the script.
LOG_TAIL_SCRIPT = (
    "$ErrorActionPreference = 'Stop'\n"
    "$path = ($input | Out-String).Trim()\n"
    f"Get-Content -LiteralPath $path -Tail {TAIL_LINES}\n"
)
