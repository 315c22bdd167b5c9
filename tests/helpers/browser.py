"""Headless Chromium, for the tests that read a page as a browser shows it (after its scripts ran)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CHROMIUM: str | None = next(
    (
        p
        for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or "")
        if p and Path(p).exists()
    ),
    None,
)
NO_CHROMIUM = "headless Chromium is not installed (Debian: apt-get install chromium; `make test` installs it)"


def chromium(*args: str, profile: Path, timeout: int = 90) -> subprocess.CompletedProcess[str]:
    """Chromium with a profile folder of its own and nothing fetched in the background; `args` say what to do."""
    assert CHROMIUM is not None, NO_CHROMIUM
    quiet = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", *quiet, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def dump_dom(page: Path, profile: Path, *args: str, timeout: int = 90) -> subprocess.CompletedProcess[str]:
    """The page's DOM once its scripts ran (`args`: more Chromium options, such as a window size)."""
    return chromium(*args, "--dump-dom", page.resolve().as_uri(), profile=profile, timeout=timeout)
