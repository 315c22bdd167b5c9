"""The README stays true: its catalogue is what `gpverify checks` prints, and it shows the two commands."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from gpverify.cli.checks import print_catalogue

REPO = Path(__file__).resolve().parents[2]


def test_readme_catalogue_matches_gpverify_checks() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print_catalogue(REPO / "checks", "markdown")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"<!-- catalogue:start -->\n(.*?)<!-- catalogue:end -->", readme, flags=re.DOTALL)
    assert section, "README.md lacks the catalogue markers"
    assert section.group(1).strip() == out.getvalue().strip(), (
        "README catalogue is stale: paste `gpverify checks --format markdown` between the markers"
    )


def test_readme_shows_the_two_commands_first() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block


def test_readme_performance_figures_are_the_committed_bench_run() -> None:
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("readme_table", REPO / "bench" / "readme_table.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = json.loads((REPO / "bench" / "last-run.json").read_text(encoding="utf-8"))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"<!-- bench:start -->\n(.*?)<!-- bench:end -->", readme, flags=re.DOTALL)
    assert section, "README.md lacks the bench markers"
    assert section.group(1).strip() == module.render(report).strip(), (
        "README performance figures are stale: paste `python bench/readme_table.py bench/last-run.json` "
        "between the markers"
    )


def test_readme_hostile_input_figures_are_the_committed_fuzz_run() -> None:
    import importlib.util
    import json
    import sys

    path = REPO / "tests" / "hardening" / "hostile_generator.py"
    spec = importlib.util.spec_from_file_location("hostile_generator", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("hostile_generator", module)
    spec.loader.exec_module(module)
    figures = json.loads((REPO / "tests" / "hardening" / "fuzz-figures.json").read_text(encoding="utf-8"))
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = re.search(r"<!-- fuzz:start -->\n(.*?)<!-- fuzz:end -->", readme, flags=re.DOTALL)
    assert section, "README.md lacks the fuzz markers"
    assert section.group(1).strip() == module.readme_table(figures).strip(), (
        "README hostile-input figures are stale: paste `python tests/hardening/hostile_generator.py` between the "
        "markers"
    )
    # What the issue requires of a full run (make fuzz): enough inputs, and nothing bad among them.
    assert figures["generated"] >= 5000
    assert (figures["traceback"], figures["hang"], figures["silent"]) == (0, 0, 0)
