"""What the wheel carries beyond src/: the top-level checks, fixtures, plans and example inventory."""

# The checks and fixtures stay at the top of the repository, where operators in a clone run `pytest checks/pre`;
# the build maps them to the packages gpverify.checks and gpverify.fixtures. The example inventory and plans are
# copied to gpverify/examples/ for `gpverify init`, with the site examples and scheduler templates it writes
# (gpverify/examples/site/). Everything else is in pyproject.toml.

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import find_namespace_packages, find_packages, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).parent
EXAMPLES = ["inventory.example.yml", *sorted(str(p.relative_to(HERE)) for p in (HERE / "plans").glob("*.yml"))]
# What `gpverify init` writes into a site folder (gpverify.config.shipped.SITE_FILES), packaged under
# gpverify/examples/site/: the custom-check examples the suite runs, their lab overlays, the scheduler templates.
CUSTOM = HERE / "tests" / "examples" / "custom_checks"
SITE = {
    **{f"checks/{p.name}": p for p in CUSTOM.glob("*") if p.name.endswith((".py", ".checks.yml"))},
    **{f"lab/{p.name}": p for p in CUSTOM.glob("*.yml") if not p.name.endswith(".checks.yml")},
    **{f"deploy/{p.relative_to(HERE / 'deploy').as_posix()}": p for p in (HERE / "deploy").rglob("*")
       if p.is_file() and p.parent.name in ("deploy", "systemd", "windows") and p.name != "README.md"},
}


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
        for place, source in SITE.items():
            (target / "site" / place).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / "site" / place)  # with its mode: the .sh wrapper stays executable


setup(
    package_dir={"": "src", "gpverify.checks": "checks", "gpverify.fixtures": "fixtures"},
    packages=[*find_namespace_packages("src"), "gpverify.fixtures", "gpverify.checks",
              *(f"gpverify.checks.{p}" for p in find_packages("checks"))],
    cmdclass={"build_py": BuildWithExamples},
)
