"""The README stays true: its catalogue is what `gpverify checks` prints, and it shows the two commands."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from gpverify.catalogue_cli import print_catalogue

REPO = Path(__file__).resolve().parents[2]


def test_readme_catalogue_matches_gpverify_checks() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_catalogue(REPO / "checks", "markdown")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"<!-- catalogue:start -->\n(.*?)<!-- catalogue:end -->", readme, flags=re.DOTALL)
    assert section, "README.md lacks the catalogue markers"
    assert section.group(1).strip() == out.getvalue().strip(), (
        "README catalogue is stale: paste `gpverify checks --format markdown` between the markers")


def test_readme_shows_the_two_commands_first() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block
