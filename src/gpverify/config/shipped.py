"""Files the product ships beside its code: the checks folder, and the site templates `gpverify init` writes."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from gpverify.errors import GpVerifyError

INVENTORY_TEMPLATE = "inventory.example.yml"
PLAN_TEMPLATE = "example-plan.yml"
# What `gpverify init` writes besides inventory, waivers and plan, by its place in the site folder: a Python check
# and a declarative one, lab overlays that make them fail, and the nightly audit's scheduler templates. Packaged as
# gpverify/examples/site/<place> (setup.py); in a checkout, checks/ and lab/ come from tests/examples/custom_checks
# (which the suite runs) and deploy/ from deploy/.
SITE_FILES = (
    "checks/test_acme_session_service.py",
    "checks/acme.checks.yml",
    "lab/acme-session-service-manual.yml",
    "lab/acme-faults.yml",
    "deploy/gpverify-audit.sh",
    "deploy/systemd/gpverify-audit.service",
    "deploy/systemd/gpverify-audit.timer",
    "deploy/windows/gpverify-audit.ps1",
    "deploy/windows/gpverify-audit-task.xml",
)
CHECKOUT_FOLDERS = {"checks": "tests/examples/custom_checks", "lab": "tests/examples/custom_checks", "deploy": "deploy"}


def checks_root() -> Path:
    """The shipped checks: gpverify.checks (the repository's checks/ folder, carried into the wheel by the build)."""
    import gpverify.checks

    return Path(next(iter(gpverify.checks.__path__)))


def example(name: str) -> Path:
    """A site template: gpverify/examples/NAME in a wheel, or the checkout's own file under `pip install -e`."""
    packaged = Path(__file__).parents[1] / "examples" / name
    if packaged.is_file():
        return packaged
    checkout = _editable_checkout()
    for candidate in [checkout / name, checkout / "plans" / name] if checkout else []:
        if candidate.is_file():
            return candidate
    raise GpVerifyError(f"{name}: not found in this installation of gpverify (reinstall it: pip install gpverify)")


def site_file(place: str) -> Path:
    """One of SITE_FILES: gpverify/examples/site/PLACE in a wheel, or its source in the checkout (pip install -e)."""
    packaged = Path(__file__).parents[1] / "examples" / "site" / place
    if packaged.is_file():
        return packaged
    checkout = _editable_checkout()
    folder, _, rest = place.partition("/")
    if checkout and (checkout / CHECKOUT_FOLDERS[folder] / rest).is_file():
        return checkout / CHECKOUT_FOLDERS[folder] / rest
    raise GpVerifyError(f"{place}: not found in this installation of gpverify (reinstall it: pip install gpverify)")


def _editable_checkout() -> Path | None:
    """The source folder of an editable install (PEP 610 direct_url.json): the build's copies are not made there."""
    try:
        text = metadata.distribution("gpverify").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    info = json.loads(text or "{}")
    if not info.get("dir_info", {}).get("editable"):
        return None
    url = urlparse(info.get("url", ""))
    return Path(url2pathname(url.path)) if url.scheme == "file" else None
