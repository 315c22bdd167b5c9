"""The lab states GP itself (src/gpverify/lab/statement.py) and never reads the profiles the checks use, so a wrong
profile value fails here and on the healthy lab: every profile identifier of every release is compared with the
lab's statement; the names the lab makes up for what no source states appear in nothing gpverify ships."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

import gpverify
from gpverify.config.profiles import available, load_profile
from gpverify.config.versions import GpVersion
from gpverify.facts import dynamicsset, tenantconfig
from gpverify.lab.statement import RELEASES, Stated, statement

SRC = Path(gpverify.__file__).parent
LAB = SRC / "lab"
REPO = SRC.parent.parent
# The lab's own values that are not names (they would match ordinary words in shipped text).
NOT_NAMES = {"MachineName", "SessionKey", "UserName", "windows-1252", "Machine", "Suspended"}


def _profile_keys() -> list[tuple[str, str]]:
    return [(name, key) for name in available() for key in load_profile(name, origin="test").identifiers]


def test_the_lab_never_reads_the_profiles() -> None:
    """What `grep -n "load_profile\\|gpverify.config.profiles\\|gpverify.profiles" src/gpverify/lab` checks."""
    found = [
        f"{path.relative_to(SRC)}:{n}"
        for path in LAB.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"load_profile|gpverify.config.profiles|gpverify.profiles", line)
    ]  # as grep reads it
    assert not found, found


def test_the_lab_states_every_release_gpverify_ships_a_profile_for() -> None:
    assert sorted(RELEASES) == available()


def _agrees(profile: Any, lab: Any) -> bool:
    """A profile value agrees with the lab's: equal, a wildcard matching it (as -like), or the same GP version."""
    if isinstance(profile, str) and isinstance(lab, str):
        if "*" in profile:
            return fnmatchcase(lab.lower(), profile.lower())
        if GpVersion.parse(profile) and GpVersion.parse(lab) and profile.count(".") == lab.count("."):
            return GpVersion.parse(profile) == GpVersion.parse(lab)
        return profile.lower() == lab.lower()
    return bool(profile == lab)


@pytest.mark.parametrize(("release", "key"), _profile_keys(), ids=lambda v: str(v))
def test_every_profile_identifier_agrees_with_the_labs_statement(release: str, key: str) -> None:
    """A wrong profile value (a service name, a path, a build) fails here, whatever the checks would say."""
    ident = load_profile(release, origin="test").identifiers[key]
    stated = statement(release)
    assert key in stated, f"{release} {key}: the lab states nothing about it (add it to lab/statement.py)"
    fact: Stated = stated.fact(key)
    if ident.value is None:  # unknown to the profile: the lab can only have made its own up, never found a source
        assert fact.basis == "lab", f"{release} {key}: the profile says unknown, the lab cites {fact.source}"
        return
    if fact.basis == "lab":  # the lab's own: the profile must not claim a source for it either
        assert ident.confidence in ("unknown", "inferred"), (
            f"{release} {key}: {ident.confidence} in the profile, "
            "while no public source states it (the lab's own value)"
        )
        return
    assert _agrees(ident.value, fact.value), (
        f"{release} {key}: the profile says {ident.value!r}, the lab states {fact.value!r} ({fact.source})"
    )


def test_the_facts_readers_name_what_the_lab_states() -> None:
    gp = statement("gp18.4")
    assert tenantconfig.RUNTIME_ELEMENTS == {
        k: gp[f"tenant_configuration.{k}"] for k in ("dynamics_exe", "dynamics_set", "dex_ini")
    }
    assert dynamicsset.DEFAULT_LOCATION == gp["dynamics_set.default_location"]
    assert dynamicsset.workstation2(f"{gp['dex_ini.location_key']}=Windows\r\n") == "Windows"


def test_every_stated_value_names_its_source() -> None:
    for name in RELEASES:
        gp = statement(name)
        for key in gp:
            fact = gp.fact(key)
            assert fact.basis in ("confirmed", "third-party", "inferred", "lab"), (name, key)
            assert fact.source.strip(), (name, key)
            if fact.basis == "lab":
                assert fact.source.startswith("no public source"), (name, key)
            else:
                assert re.search(r"https://|MicrosoftDocs/|KB \d{6,7}|third-party|KBs quoting", fact.source), (
                    name,
                    key,
                    fact.source,
                )


def _lab_own_names() -> set[str]:
    names: set[str] = set()
    for name in RELEASES:
        gp = statement(name)
        for key in gp:
            fact = gp.fact(key)
            if fact.basis != "lab":
                continue
            values = fact.value.values() if isinstance(fact.value, dict) else [fact.value]
            names |= {v for v in values if isinstance(v, str) and re.fullmatch(r"[A-Za-z][\w.]{5,}", v)}
            names |= {part for v in values if isinstance(v, str) for part in v.split("\\") if part.startswith("Lab")}
    return names - NOT_NAMES


def test_the_labs_own_names_are_in_nothing_gpverify_ships() -> None:
    """Where no source states a name (GPCONFIGURATION's tables, the feature IDs, a session host's setting), the lab
    makes one up; a check or profile that knew it would be copying the lab, so none may."""
    shipped = [
        p
        for p in SRC.rglob("*")
        if p.is_file() and p.suffix in (".py", ".yml", ".sql", ".ps1", ".j2") and LAB not in p.parents
    ]
    shipped += [p for d in ("checks", "fixtures") for p in (REPO / d).rglob("*.py")]
    names = _lab_own_names()
    assert {"LabSessionHostRegistry", "LabWebClientRuntime", "LabSessionService"} <= names
    found = {
        (name, str(p.relative_to(REPO)))
        for p in shipped
        for name in names
        if name in p.read_text(encoding="utf-8", errors="replace")
    }
    assert not found, sorted(found)
