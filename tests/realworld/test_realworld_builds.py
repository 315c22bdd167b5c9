"""The builds Microsoft publishes, through gpverify's version judgement (versions.py) and the shipped profiles.

A release build of a profile's release is that release; a later hotfix build of it passes; an earlier release
or the next release does not.
"""

from __future__ import annotations

import re

import pytest
from realworld_corpus import text, uses

from gpverify.config.profiles import load_profile
from gpverify.config.versions import GpVersion, target_of

ISSUE = "issue 21"
BUILD = re.compile(r"\b1[2-8]\.\d{1,2}\.\d{3,4}\b")


def builds(name: str) -> list[str]:
    return BUILD.findall(text(name))


def problem(profile: str, build: str) -> str | None:
    return target_of(load_profile(profile)).problem(build)


@uses(
    "kb3098833-build-lines.md",
    "kb2966091-build-lines.md",
    "kb4073668-build-line.md",
    "builds-word-templates-fix.md",
    "builds-gp2015r2-payroll.md",
)
def test_published_builds_parse_as_gp_versions() -> None:
    found = [
        b
        for name in (
            "kb3098833-build-lines.md",
            "kb2966091-build-lines.md",
            "kb4073668-build-line.md",
            "builds-word-templates-fix.md",
            "builds-gp2015r2-payroll.md",
        )
        for b in builds(name)
    ]
    assert found == [
        "14.00.0725",
        "16.00.0404",
        "18.00.0628",
        "18.4.1361",
        "12.00.1570",
        "12.00.1745",
        "16.00.0541",
        "16.00.0814",
        "18.3.1200",
        "14.00.0898",
    ]
    assert GpVersion.parse("16.00.0404") == GpVersion(16, 0, 404)
    assert GpVersion.parse("18.4.1361") == GpVersion(18, 4, 1361)


@uses("kb2966091-build-lines.md", "kb3098833-build-lines.md", "kb4073668-build-line.md", "builds-us-year-end-2023.md")
@pytest.mark.parametrize(
    ("profile", "build"),
    [
        ("gp2013r2", "12.00.1745"),
        ("gp2015r2", "14.00.0725"),
        ("gp2016r2", "16.00.0541"),
        ("gp18.4", "18.4.1361"),
        ("gp18.5", "18.5.1556"),
    ],
)
def test_a_profiles_release_build_is_its_release(profile: str, build: str) -> None:
    assert problem(profile, build) is None
    assert GpVersion.parse(load_profile(profile).version) == GpVersion.parse(build)


@uses("builds-us-year-end-2023.md")
def test_183s_release_build_is_183() -> None:
    assert "18.3.1173" in builds("builds-us-year-end-2023.md")
    assert problem("gp18.3", "18.3.1173") is None


@uses("builds-word-templates-fix.md", "builds-email-mfa.md", "builds-arkansas-tax.md", "builds-gp2015r2-payroll.md")
@pytest.mark.parametrize(
    ("profile", "name"),
    [
        ("gp2016r2", "builds-word-templates-fix.md"),
        ("gp18.3", "builds-word-templates-fix.md"),
        ("gp18.4", "builds-email-mfa.md"),
        ("gp18.5", "builds-arkansas-tax.md"),
        ("gp2015r2", "builds-gp2015r2-payroll.md"),
    ],
)
def test_a_later_hotfix_build_of_the_release_passes(profile: str, name: str) -> None:
    major = GpVersion.parse(load_profile(profile).version).major  # type: ignore[union-attr]
    same = [b for b in builds(name) if GpVersion.parse(b).major == major]  # type: ignore[union-attr]
    assert same and all(problem(profile, b) is None for b in same), same


@uses("kb3098833-build-lines.md", "kb2966091-build-lines.md", "builds-us-year-end-2023.md", "builds-email-mfa.md")
@pytest.mark.parametrize(
    ("profile", "build", "why"),
    [
        ("gp2013r2", "12.00.1570", "earlier release"),  # GP 2013 SP2 and prior (KB 2966091)
        ("gp2016r2", "16.00.0404", "earlier release"),  # GP 2016 RTM (KB 3098833)
        ("gp18.3", "18.00.0628", "earlier release"),  # GP 2018 R2 (KB 3098833)
        ("gp18.3", "18.2.1013", "earlier release"),  # the 18.2 October release (us-year-end.md, 2023)
        ("gp18.4", "18.3.1200", "earlier release"),
        ("gp18.5", "18.4.1461", "earlier release"),  # an 18.4 hotfix (email-troubleshooting-guide.md)
        ("gp18.4", "18.5.1556", "or later, not"),  # the next release is not a hotfix of 18.4
    ],
)
def test_another_release_is_not_the_target(profile: str, build: str, why: str) -> None:
    found = problem(profile, build)
    assert found is not None and why in found, found


@uses("builds-us-year-end-2023-check.md", "builds-us-year-end-2025.md", "builds-us-year-end-2025-check.md")
@pytest.mark.parametrize("name", ["builds-us-year-end-2023-check.md", "builds-us-year-end-2025-check.md"])
def test_a_later_18x_release_is_not_185(name: str) -> None:
    assert re.search(r"18\.5\.1556, 18\.6 18\.7 and 18\.8", text("builds-us-year-end-2025.md"))
    (build,) = builds(name)
    assert GpVersion.parse(build).minor > 5  # type: ignore[union-attr]
    assert problem("gp18.5", build) is not None
