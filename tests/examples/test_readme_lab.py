"""The README's lab examples are real: each `pytest ... --lab` line runs and ends with the exit code it states."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def readme_lab_examples() -> list[tuple[list[str], int]]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## The simulated lab", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    examples = []
    for line in block.splitlines():
        match = re.match(r"(pytest [^#]+?)\s+# exit (\d)", line)
        if match:
            examples.append((shlex.split(match.group(1)), int(match.group(2))))
    return examples


def test_the_readme_has_lab_examples() -> None:
    assert len(readme_lab_examples()) >= 4


@pytest.mark.parametrize(
    ("argv", "code"), readme_lab_examples(), ids=lambda v: " ".join(v) if isinstance(v, list) else str(v)
)
def test_readme_lab_example(argv: list[str], code: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", *argv, "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == code, proc.stdout[-2000:] + proc.stderr[-2000:]
