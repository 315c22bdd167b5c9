"""Versioned GP knowledge: every identifier with its value, source and confidence."""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import yaml

from gpverify.config.yamlfile import SAFE_LOADER
from gpverify.errors import ConfigError

Confidence = Literal["confirmed", "third-party", "inferred", "unknown", "override"]
LEAF_KEYS = {"value", "source", "confidence"}
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$#@]{0,127}")  # what sqlguard.quote_identifier accepts


@dataclass(frozen=True)
class Identifier:
    """One piece of GP knowledge and where it comes from."""

    key: str
    value: Any
    source: str
    confidence: Confidence


def available() -> list[str]:
    """Return the names of the shipped release profiles."""
    names = (p.name for p in resources.files(__package__).iterdir())
    return sorted(n[:-4] for n in names if n.endswith(".yml") and n != "common.yml")


@functools.cache
def _parsed(name: str) -> dict[str, Any]:
    """One shipped profile file as parsed, once per process."""
    text = resources.files(__package__).joinpath(f"{name}.yml").read_text(encoding="utf-8")
    parsed: dict[str, Any] = yaml.load(text, Loader=SAFE_LOADER)
    return parsed


def _read(name: str) -> dict[str, Any]:
    data = copy.deepcopy(_parsed(name))  # a profile's values are its own: nothing shared with the cache
    base = data.pop("extends", None)
    return _merge(_read(base), data) if base else data


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        nested = isinstance(value, dict) and not LEAF_KEYS <= value.keys()
        out[key] = _merge(out.get(key, {}), value) if nested else value
    return out


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Identifier]:
    flat: dict[str, Identifier] = {}
    for key, node in tree.items():
        path = f"{prefix}{key}"
        if isinstance(node, dict) and LEAF_KEYS <= node.keys():
            flat[path] = Identifier(path, node["value"], node["source"], node["confidence"])
        elif isinstance(node, dict):
            flat.update(_flatten(node, f"{path}."))
    return flat


class Profile:
    """The identifiers of one GP release, with the inventory's overrides applied."""

    def __init__(self, name: str, identifiers: dict[str, Identifier]) -> None:
        self.name = name
        self.identifiers = identifiers

    def __getitem__(self, key: str) -> Any:
        return self.identifiers[key].value

    def get(self, key: str, default: Any = None) -> Any:
        ident = self.identifiers.get(key)
        return default if ident is None else ident.value

    @property
    def era(self) -> Literal["html", "silverlight"]:
        return self["era"]  # type: ignore[no-any-return]

    @property
    def version(self) -> str:
        return str(self["version"])

    def unconfirmed(self, *keys: str) -> list[str]:
        """The keys among these that no public source confirms and the inventory has not set (value null)."""
        return [k for k in keys if self.identifiers[k].value is None]


def load_profile(name: str, overrides: dict[str, Any] | None = None, *, origin: str = "inventory") -> Profile:
    """Load a release profile and apply overrides given as dotted keys."""
    if name not in available():
        raise ConfigError(origin, "profile", f"one of {', '.join(available())}, got {name!r}")
    identifiers = _flatten(_read(name))
    for key, value in (overrides or {}).items():
        if key not in identifiers:
            raise ConfigError(origin, f"overrides.{key}", f"a known profile identifier (see `gpverify profile {name}`)")
        _check_override(key, identifiers[key].value, value, origin)
        identifiers[key] = Identifier(key, value, f"{origin} override", "override")
    return Profile(name, identifiers)


REGISTRY_SHAPE = {"path": "", "name": "", "view": "64"}
VERSION = re.compile(r"\d{1,2}(\.\d{1,5}){0,3}")  # a SQL Server version as ProductVersion gives it, or its start
FLAGS = {"web.session_host_client_access_policy"}  # yes/no identifiers, null where no source says which
# The value a flag takes on a suspended host, as `gpverify discover --diff` saw it: a number, true/false or text.
SCALARS = {"config_db.session_host_suspended_when", "session_central.suspended_when"}


def _check_override(key: str, shipped: Any, value: Any, origin: str) -> None:
    """An override has the shape of the value it replaces, so bad input stops the run instead of every check."""
    if shipped is None and key.startswith("registry."):
        shipped = REGISTRY_SHAPE  # an unknown registry location is set as {path, name, view}
    if (expected := _expected(key, shipped, value)) is not None:
        where, what = expected  # where: "" for the value itself, or ".view" for one field of a mapping
        found = value[where[1:]] if where else value
        raise ConfigError(origin, f"overrides.{key}{where}", f"{what}, got {found!r}")


def _expected(key: str, shipped: Any, value: Any) -> tuple[str, str] | None:
    """(".sub-field" or "", what was expected) when the value does not fit, else None."""
    if key in SCALARS:
        ok = isinstance(value, (str, int, float, bool)) and str(value).strip() != ""
        return None if ok else ("", "the value the flag takes on a suspended host (a number, true/false or text)")
    if key in FLAGS:
        return None if isinstance(value, bool) else ("", "true or false")
    if key in SPECIAL:
        test, what = SPECIAL[key]
        return None if test(value) else ("", what)
    if isinstance(shipped, dict):
        return _expected_mapping(shipped, value)
    if isinstance(shipped, int) and not isinstance(shipped, bool):  # a number such as sql_server.min_major
        return None if _whole(value) and value >= 0 else ("", "a whole number")
    if not isinstance(value, str) or not value.strip():
        return "", "a non-empty string"
    sql_name = key.startswith(("config_db.", "old_session_db.")) or key.endswith(("_table", "_column"))
    if sql_name and not IDENTIFIER.fullmatch(value):
        kind = "a column name" if key.endswith("_column") else "a table name"
        return "", f"{kind} (letters, digits, _; no schema prefix)"
    return None


def _expected_mapping(shipped: dict[str, Any], value: Any) -> tuple[str, str] | None:
    if not isinstance(value, dict) or set(value) != set(shipped):
        return "", f"a mapping with exactly {', '.join(sorted(shipped))}"
    if "view" in value and str(value["view"]) not in ("32", "64"):
        return ".view", "'32' or '64' (the registry view)"
    return None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _levels(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(str(k).isdigit() and _whole(v) for k, v in value.items())


# Identifiers whose values have a shape of their own: (test, what was expected).
SPECIAL: dict[str, tuple[Callable[[Any], bool], str]] = {
    "session_central.scheme": (
        lambda v: v in ("http", "https"),
        "'http' or 'https' (the scheme Session Central answers on)",
    ),
    "sql_server.compatibility_levels": (
        _levels,
        ("a mapping of SQL Server major version to compatibility level, such as {'13': 130}"),
    ),
    "sql_server.min_version": (
        lambda v: isinstance(v, str) and VERSION.fullmatch(v) is not None,
        "a SQL Server version such as '12.0' or '10.50.2500'",
    ),
    "era": (lambda v: v in ("html", "silverlight"), "'html' or 'silverlight'"),
}


# The sections of a host's facts an inventory's extra_facts may add to, and where the profile keeps their keys.
FACT_SECTIONS = {
    "services": "services",
    "files": "files",
    "registry": "registry",
    "products": "products",
    "texts": "files",
}


@functools.cache
def _shipped_keys() -> frozenset[str]:
    """Every identifier key of every shipped profile (services.session_service.name, files.dynamics_exe...)."""
    return frozenset(key for name in available() for key in _flatten(_read(name)))


def shipped_fact(section: str, key: str) -> str | None:
    """The shipped fact an extra fact `section.key` would replace (e.g. services.session_service), or None.

    Facts are keyed by the profiles' identifiers, so a key a profile names (in any release) is gpverify's own:
    an extra fact of that key would stand in for it and the shipped checks would judge the administrator's value.
    """
    name = f"{FACT_SECTIONS.get(section, section)}.{key}"
    keys = _shipped_keys()
    return name if name in keys or any(k.startswith(f"{name}.") for k in keys) else None
