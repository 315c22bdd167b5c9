"""Tables printed by gpverify commands, through rich: aligned columns with headers, at any width."""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table

PIPE_WIDTH = 240  # into a file or a pipe, lines stay whole so grep and diff see one row per line


def table_text(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, indent: int = 0, width: int | None = None
) -> str:
    """The rows as an aligned plain-text table with a header line (no colour codes)."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    out = io.StringIO()
    if width is None:
        width = Console().width if sys.stdout.isatty() else PIPE_WIDTH
    Console(file=out, width=max(width - indent, 40), no_color=True, highlight=False, markup=False, emoji=False).print(
        table
    )
    pad = " " * indent
    return "\n".join(pad + line.rstrip() for line in out.getvalue().rstrip("\n").splitlines() if line.strip())


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    print(table_text(headers, rows))
