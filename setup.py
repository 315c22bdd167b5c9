"""What the wheel carries beyond src/: the top-level checks, fixtures, plans and example inventory."""

# The checks and fixtures stay at the top of the repository, where operators in a clone run `pytest checks/pre`;
# the build maps them to the packages gpverify.checks and gpverify.fixtures. The example inventory and plans are
# copied to gpverify/examples/ for `gpverify init`. Everything else is in pyproject.toml.

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import find_namespace_packages, find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
EXAMPLES = ["inventory.example.yml", *sorted(str(p.relative_to(HERE)) for p in (HERE / "plans").glob("*.yml"))]


class BuildWithExamples(build_py):
    """build_py, plus the site templates copied into gpverify/examples/ (the wheel's only copies)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads them from the checkout (gpverify.config.shipped)
            return
        target = Path(self.build_lib) / "gpverify" / "examples"
        target.mkdir(parents=True, exist_ok=True)
        for name in EXAMPLES:
            shutil.copyfile(HERE / name, target / Path(name).name)


setup(
    package_dir={"": "src", "gpverify.checks": "checks", "gpverify.fixtures": "fixtures"},
    packages=[*find_namespace_packages("src"), "gpverify.fixtures", "gpverify.checks",
              *(f"gpverify.checks.{p}" for p in find_packages("checks"))],
    cmdclass={"build_py": BuildWithExamples},
)
