"""Bad input, said once: reading YAML files and turning validation errors into one ConfigError line."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import yaml

from gpverify.config.paths import read_file
from gpverify.errors import ConfigError

if TYPE_CHECKING:  # only named in a signature: `gpverify profile` reads YAML without loading pydantic
    from pydantic import ValidationError

# Nodes aliases may add to a document once they are followed: generous for hand-written files, and a "billion
# laughs" of a few hundred bytes (which expands to 10^9 nodes) is refused before it is built. What the file writes
# out itself is bounded by its size (config/paths.py), so a large inventory without aliases is never refused here.
MAX_EXPANDED_NODES = 100_000

# YAML 1.2 booleans only: YAML 1.1 also reads yes/no/on/off/y/n as booleans, so `encrypt: yes` would arrive as
# True. With this resolver such words stay text, which the settings that take them document.
_BOOL_12 = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


# Regular expressions of validated fields -> how a reader should hear them (modules register their own).
PATTERN_WORDS: dict[str, str] = {}


class YamlFloat(float):
    """A float that remembers how it was written, so `profile: 18.10` can be read back as the text "18.10"."""

    text: str


# libyaml's loader where PyYAML has it (its wheels do): the pure-Python one took a quarter of a millisecond per host
# of an inventory and a tenth of a second for the shipped profiles (make bench); libyaml also bounds nesting.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(SAFE_LOADER):  # type: ignore[valid-type,misc]  # chosen at import, as above
    """SafeLoader with YAML 1.2 booleans, duplicate keys refused and alias expansion bounded."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL_12, list("tTfF"))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key ([a]: b); construct_mapping names it below
            continue
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"each key once, but {key!r} appears on line {first + 1} and line {key_node.start_mark.line + 1}",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> YamlFloat:
    value = YamlFloat(yaml.SafeLoader.construct_yaml_float(loader, node))
    value.text = str(node.value)
    return value


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:  # 2026-02-30, month 13: the text looks like a date but is none
        raise yaml.constructor.ConstructorError(
            None, None, f"a real date, got {node.value!r} ({exc})", node.start_mark
        ) from None


# A YamlFloat written back (the lab folds a site inventory's settings into its own) is the float it is.
yaml.SafeDumper.add_representer(YamlFloat, yaml.SafeDumper.represent_float)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _written_size(root: yaml.Node) -> int:
    """Nodes the document writes out: each node once, an alias's target not again."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
    return len(seen)


def _expanded_size(node: yaml.Node, memo: dict[int, int], open_nodes: set[int], cap: int) -> int:
    """Nodes the document has once every alias is copied out, counted without copying (memoised per node, and
    never above cap + 1)."""
    if id(node) in open_nodes:
        raise yaml.constructor.ConstructorError(
            None, None, "aliases that do not contain themselves (this one does)", node.start_mark
        )
    if id(node) in memo:
        return memo[id(node)]
    open_nodes.add(id(node))
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, memo, open_nodes, cap) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(
            _expanded_size(k, memo, open_nodes, cap) + _expanded_size(v, memo, open_nodes, cap) for k, v in node.value
        )
    open_nodes.discard(id(node))
    memo[id(node)] = min(size, cap + 1)
    return memo[id(node)]


def _load(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        cap = _written_size(node) + MAX_EXPANDED_NODES
        if _expanded_size(node, {}, set(), cap) > cap:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"aliases that add at most {MAX_EXPANDED_NODES:,} values once expanded (the anchors and "
                "aliases here add more)",
                node.start_mark,
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_yaml(text: str, origin: str) -> Any:
    """Parsed YAML, or a ConfigError naming the line that is not valid YAML (or the key given twice, the date that
    does not exist, the aliases that expand too far)."""
    try:
        return _load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        problem = str(getattr(exc, "problem", None) or exc)
        ours = problem.startswith(("each key once", "a real date", "at most", "aliases that"))
        raise ConfigError(origin, where, problem if ours else f"valid YAML ({problem})") from None
    except RecursionError:  # deeply nested flow collections ([[[[...]]]]) exhaust the parser's stack
        raise ConfigError(origin, "(file)", "valid YAML nested less deeply") from None


def read_yaml(path: str | os.PathLike[str], what: str) -> Any:
    """Parsed YAML of a file; `what` names the file's kind in the message when it cannot be read."""
    data = read_file(path, what)  # the one path guard: a regular file of at most MAX_FILE_BYTES
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "(file)", f"a readable {what} ({exc})") from None
    return parse_yaml(text.removeprefix("\ufeff"), str(path))


def field_path(loc: tuple[int | str, ...]) -> str:
    """('session_hosts', 1, 'name') -> 'session_hosts[1].name'."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def expected(error: Any, example: str = "inventory.example.yml", known: Iterable[str] = ()) -> str:
    """A pydantic error phrased as what was expected (ConfigError prefixes 'expected')."""
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        name = str(error["loc"][-1]) if error.get("loc") else ""
        close = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.75)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"a known field (there is no field {name!r}; {hint}see {example})"
    if kind == "missing":
        return "a value (this field is required)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        msg = "a mapping (field: value)"
    if kind == "too_short":
        return f"at least {error.get('ctx', {}).get('min_length', 1)} entry"
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") in PATTERN_WORDS:
        msg = PATTERN_WORDS[error["ctx"]["pattern"]]
    for prefix in ("Value error, ", "Input should be "):
        msg = msg.removeprefix(prefix)
    got = error.get("input")
    if kind == "literal_error" and isinstance(got, bool):
        msg += " (a word in quotes: YAML reads true/false as yes/no values)"
    if isinstance(got, str) and len(got) > 80:
        got = got[:77] + "..."
    return msg if isinstance(got, (dict, list)) or kind == "value_error" else f"{msg}, got {got!r}"


def config_error(
    exc: ValidationError, origin: str, example: str = "inventory.example.yml", known: Iterable[str] = ()
) -> ConfigError:
    """The first validation problem as one ConfigError, counting the others."""
    # A misspelt field comes first: it usually explains the "missing" errors that come with it.
    first = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return ConfigError(origin, field_path(first["loc"]), expected(first, example, known) + more)
