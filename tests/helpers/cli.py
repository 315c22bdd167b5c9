"""gpverify's command line run in the test's own process."""

from __future__ import annotations

import pytest

from gpverify.cli.main import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """gpverify in this process: (exit code, everything it printed)."""
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out + err
