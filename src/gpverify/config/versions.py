"""GP versions: parse them, and judge a found version against the target release and build.

GP writes versions as major.minor.build, zero-padded (14.00.0725); Dynamics.exe adds a fourth part. Builds only grow
within a major version, and each shipped profile's build marks where its release starts (a later hotfix build of
the same release passes; the next release's first build does not). From the October 2019 release, GP 18 names its
releases by the minor version too (18.2.1013, 18.3.1173, 18.4.1361: payroll/us-year-end.md), so where both versions
carry a minor above 0 the minor decides the release; how 18.x stores its minor version in DB_Upgrade (4 or 0) is not
public (docs/sources.md), so a minor of 0 falls back to the builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from gpverify.config.profiles import Profile, available, load_profile


@dataclass(frozen=True, order=True)
class GpVersion:
    major: int
    minor: int
    build: int

    @classmethod
    def parse(cls, text: str | None) -> GpVersion | None:
        """'18.04.1361.0' -> 18.4.1361; None when it is not a version."""
        parts = []
        for part in (text or "").strip().split("."):
            if not part.isdigit():
                break
            parts.append(int(part))
        return cls(parts[0], parts[1], parts[2]) if len(parts) >= 3 else None

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"


def same_build(found: str | None, expected: str | None) -> bool:
    """True when major and build agree (what GP needs of a client and its databases)."""
    a, b = GpVersion.parse(found), GpVersion.parse(expected)
    return a is not None and b is not None and (a.major, a.build) == (b.major, b.build)


@lru_cache(maxsize=1)
def _release_starts() -> tuple[tuple[GpVersion, str, str], ...]:
    """(first build, release name, profile name) of every shipped profile, oldest first."""
    starts = []
    for name in available():
        profile = load_profile(name, origin="profile")
        version = GpVersion.parse(profile.version)
        if version is not None:
            starts.append((version, str(profile.get("release", name)), name))
    return tuple(sorted(starts))


def _named_by_minor(a: GpVersion, b: GpVersion) -> bool:
    """Both are GP 18 October releases, whose minor version names the release (18.2 and later)."""
    return a.major == b.major and a.minor > 0 and b.minor > 0


@dataclass(frozen=True)
class Target:
    """The release a farm is upgraded to, and the lowest build of it that counts (a hotfix raises it)."""

    release: str
    version: GpVersion
    next_release: tuple[GpVersion, str] | None = None  # where the next shipped release of this major starts

    @property
    def text(self) -> str:
        return f"{self.version} or a later build of {self.release}"

    def problem(self, found: str | None) -> str | None:
        """None when `found` is the target release at or above the target build, else what was found."""
        version = GpVersion.parse(found)
        if version is None:
            return f"{found or 'no version'} (not a GP version)"
        if version.major != self.version.major:
            return f"{version}" + (" (an earlier release)" if version < self.version else " (another release)")
        if _named_by_minor(version, self.version):
            if version.minor != self.version.minor:
                return f"{version}" + (
                    " (an earlier release)"
                    if version.minor < self.version.minor
                    else f" ({version.major}.{version.minor} or later, not {self.release})"
                )
            return None if version.build >= self.version.build else f"{version} (an earlier build of {self.release})"
        if version.build < self.version.build:
            return f"{version} (an earlier release)"
        if self.next_release and version.build >= self.next_release[0].build:
            return f"{version} ({self.next_release[1]} or later, not {self.release})"
        return None


def same_release(found: GpVersion, release: GpVersion) -> bool:
    """A build of the release: at or above its build, or (GP 18 October releases) of the same minor version."""
    return found.major == release.major and (
        found.build >= release.build or (_named_by_minor(found, release) and found.minor == release.minor)
    )


def target_of(profile: Profile, target_build: str | None = None) -> Target:
    """The profile's release; `target_build` (inventory) sets the lowest build accepted within it."""
    base = GpVersion.parse(target_build or profile.version)
    assert base is not None, "profile and inventory versions are validated at load"
    later = [
        (v, r)
        for v, r, name in _release_starts()
        if name != profile.name and v.major == base.major and v.build > base.build
    ]
    release = str(profile.get("release", profile.name))
    return Target(release, base, later[0] if later else None)
