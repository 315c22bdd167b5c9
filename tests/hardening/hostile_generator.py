"""A hostile-input generator that is not hand-picked (issue 23).

Documents are generated from each file format's own description (the pydantic models' JSON schema) and
mutated where that description says what belongs: wrong types, values past their bounds, unicode, control
characters, huge values, special files and paths outside, unknown and duplicate keys. Every command's flags
are walked from the argparse parser and given hostile values. Each case runs through the real loader or
command, in this process, under a timer, and is classified:

- refused: one clean message (ConfigError or a non-zero exit with a message, no traceback);
- accepted;
- traceback: any other exception, or a traceback in the output;
- hang: no end within HANG_SECONDS;
- silent: accepted although the description says it must be refused (`Case.must_refuse` says why).

The oracle for "must be refused" is the description, checked independently of the loader: the JSON schema
(jsonschema), text with control characters, special files where a file is read, duplicate keys, and the rules
the issue names (a shipped fact shadowed, sql.lab_dir outside a lab).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from gpverify.errors import GpVerifyError

REPO = Path(__file__).resolve().parents[2]
HANG_SECONDS = 30.0  # a hang detector, not a speed limit (the machine may be shared and slow)
OUTCOMES = ("refused", "accepted", "traceback", "hang", "silent")
# What the product refuses in any text (config/schema.py), restated here so the oracle is no copy of it: C0 but tab
# and line breaks, DEL, C1, Unicode's line and paragraph separators, the bidi embeddings, overrides and isolates.
CONTROL = "".join(
    map(chr, [*range(9), 11, 12, *range(14, 32), *range(127, 160), 0x2028, 0x2029, *range(0x202A, 0x202F)])
) + "".join(map(chr, range(0x2066, 0x206A)))
LINE_BREAKS = "\t\n\r"  # refused too in text that is one line (a person's name, a record NAME)
# Text that breaks naive code: NUL, escapes, bidi override, BOM, combining and astral characters, shell and
# format metacharacters, Windows and UNC paths, option-looking words.
HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    "\u202eevil",
    "\u2066isolated\u2069",
    "para\u2029graph",
    "next\x85line",
    "\x9b31mcsi",
    "\ufeffbom",
    "ü",
    "e\u0301",
    "𝔘𝔫𝔦",
    "'\"`;$(id)",
    "%s%n{0}",
    "C:\\Windows\\..\\..",
    "\\\\srv\\share\\x",
    "-",
    "--help",
    "~",
    "${HOME}",
    "line\nbreak",
    "tab\there",
    "x" * 300,
    "x" * 70_000,
    "../../../../etc/passwd",
    "null",
    "true",
    "1e3",
]
HOSTILE_NUMBERS: list[Any] = [
    -1,
    0,
    1,
    -(2**63),
    2**63,
    2**64,
    10**30,
    -(10**30),
    1e300,
    -1e300,
    1e-300,
    float("inf"),
    float("-inf"),
    float("nan"),
    0.5,
    100_000_000,
    99999999999999999999999,
]
# Keys whose values are paths gpverify opens on this machine.
PATH_KEYS = {"ca_bundle", "cert_pem", "cert_key_pem", "history", "lab_dir"}


class Hang(Exception):
    """Raised by the timer: the case did not end within HANG_SECONDS."""


class Accepted(Exception):
    """Raised by a stub where a command would start its real work: everything before it accepted the input."""


@dataclass
class Case:
    surface: str
    how: str
    doc: Any = None
    text: str | None = None
    argv: list[str] | None = None
    must_refuse: str | None = None

    def label(self) -> str:
        return f"{self.surface}: {self.how}"


@dataclass
class Figures:
    """What a generator run found, per surface and outcome, with the first cases of each bad outcome."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    bad: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, case: Case, outcome: str, message: str) -> None:
        per = self.counts.setdefault(case.surface, dict.fromkeys(OUTCOMES, 0))
        per[outcome] += 1
        if outcome in ("traceback", "hang", "silent"):
            self.bad.setdefault(outcome, []).append(f"{case.label()} -> {message[:400]}")

    def total(self, outcome: str | None = None) -> int:
        return sum(n for per in self.counts.values() for o, n in per.items() if outcome in (None, o))

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated": self.total(),
            **{o: self.total(o) for o in OUTCOMES},
            "surfaces": self.counts,
            "seconds": round(self.seconds, 1),
            "first_bad": {k: v[:20] for k, v in self.bad.items()},
        }


# --- special files ------------------------------------------------------------------------------------------


def special_files(folder: Path) -> dict[str, str]:
    """Paths that are not regular files (or not small ones), made once per run: what a path field is given."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "folder": str(folder / "a-folder"),
        "missing": str(folder / "missing.yml"),
        "big": str(folder / "big.pem"),
        "loop": str(folder / "loop"),
    }
    Path(files["folder"]).mkdir(exist_ok=True)
    with open(files["big"], "wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: 64 MB that take no disk
    with contextlib.suppress(FileExistsError):
        os.symlink(files["loop"], files["loop"])
    if hasattr(os, "mkfifo"):
        files["fifo"] = str(folder / "fifo")
        with contextlib.suppress(FileExistsError):
            os.mkfifo(files["fifo"])
    if hasattr(socket, "AF_UNIX"):
        files["socket"] = str(folder / "sock")
        if not Path(files["socket"]).exists():
            sock = socket.socket(socket.AF_UNIX)
            sock.bind(files["socket"])  # left bound: a socket file stays a socket
            files["_socket_keepalive"] = str(id(sock))
            _KEEP.append(sock)
    for device in ("/dev/zero", "/dev/full", "/dev/null", "/dev/urandom"):
        if Path(device).exists():
            files[device.rsplit("/", 1)[1]] = device
    files.pop("_socket_keepalive", None)
    return files


_KEEP: list[Any] = []
NOT_READABLE = {"folder", "missing", "big", "loop", "fifo", "socket", "zero", "full", "null", "urandom"}
SPECIAL = {"fifo", "socket", "zero", "full", "null", "urandom", "folder", "big", "loop"}


# --- the description: a JSON schema walked ------------------------------------------------------------------


class Description:
    """One file format's JSON schema, as the pydantic model gives it: valid values from it, the schema of any
    node of a document, and whether a document fits it."""

    def __init__(self, model: Any) -> None:
        self.root = model.model_json_schema()
        self.validator = Draft202012Validator(self.root)

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.root["$defs"][node["$ref"].rsplit("/", 1)[1]]
        if "allOf" in node and len(node["allOf"]) == 1:
            return self.resolve(node["allOf"][0])
        return node

    def branches(self, node: dict[str, Any]) -> list[dict[str, Any]]:
        node = self.resolve(node)
        options = node.get("anyOf") or node.get("oneOf")
        return [b for option in options for b in self.branches(option)] if options else [node]

    def types(self, node: dict[str, Any]) -> set[str]:
        found: set[str] = set()
        for branch in self.branches(node):
            if "const" in branch or "enum" in branch:
                values = [branch["const"]] if "const" in branch else branch["enum"]
                found |= {json_type(v) for v in values}
            elif "type" in branch:
                kinds = branch["type"] if isinstance(branch["type"], list) else [branch["type"]]
                found |= set(kinds) | ({"integer"} if "number" in kinds else set())
            else:
                found |= {"null", "boolean", "integer", "number", "string", "array", "object"}
        return found

    def at(self, path: tuple[Any, ...]) -> dict[str, Any] | None:
        """The schema of the node at `path` of a document (None where the schema allows nothing there)."""
        node: dict[str, Any] | None = self.root
        for part in path:
            if node is None:
                return None
            nxt = None
            for branch in self.branches(node):
                if isinstance(part, int) and branch.get("type") == "array":
                    nxt = branch.get("items", {})
                elif isinstance(part, str) and branch.get("type") == "object":
                    extra = branch.get("additionalProperties", True)
                    nxt = branch.get("properties", {}).get(part, extra if isinstance(extra, dict) else None)
                    if nxt is None and extra is True:
                        nxt = {}
                if nxt is not None:
                    break
            node = nxt
        return node

    def fits(self, doc: Any) -> bool:
        try:
            return bool(self.validator.is_valid(json_safe(doc)))
        except (RecursionError, ValueError, TypeError):
            return False

    def values(self, node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
        """Values the schema allows at a node (bounded sizes)."""
        return st.one_of([self._branch(b, depth) for b in self.branches(node)])

    def _branch(self, b: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        if "const" in b:
            return st.just(b["const"])
        if "enum" in b:
            return st.sampled_from(b["enum"])
        kind = b.get("type")
        if isinstance(kind, list):
            return st.one_of([self._branch({**b, "type": k}, depth) for k in kind])
        simple = {"null": st.none(), "boolean": st.booleans()}
        if kind in simple:
            return simple[kind]
        if kind in ("integer", "number"):
            return _numbers(b)
        if kind == "string":
            return _strings(b)
        if kind == "array":
            if depth > 3:
                return st.just([])
            return st.lists(
                self.values(b.get("items", {}), depth + 1),
                min_size=b.get("minItems", 0),
                max_size=max(b.get("minItems", 0), 2),
            )
        if kind == "object":
            return self._object(b, depth)
        return st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=8))

    def _object(self, b: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
        if depth > 3:
            return st.just({})
        props = b.get("properties", {})
        required = set(b.get("required", []))
        fixed = st.fixed_dictionaries(
            {k: self.values(v, depth + 1) for k, v in props.items() if k in required},
            optional={k: self.values(v, depth + 1) for k, v in props.items() if k not in required},
        )
        extra = b.get("additionalProperties")
        if isinstance(extra, dict) and not props:
            names = b.get("propertyNames", {})
            keys = st.sampled_from(names["enum"]) if "enum" in names else st.from_regex(r"[a-z_]{1,10}", fullmatch=True)
            return st.dictionaries(keys, self.values(extra, depth + 1), max_size=2)
        return fixed


def _numbers(b: dict[str, Any]) -> st.SearchStrategy[Any]:
    low = b.get("minimum", b.get("exclusiveMinimum"))
    high = b.get("maximum", b.get("exclusiveMaximum"))
    if b["type"] == "integer":
        lo = None if low is None else math.floor(low) + ("exclusiveMinimum" in b)
        hi = None if high is None else math.ceil(high) - ("exclusiveMaximum" in b)
        return st.integers(lo if lo is not None else -1000, hi if hi is not None else 100_000)
    return st.floats(
        low if low is not None else -1000.0,
        high if high is not None else 100_000.0,
        exclude_min="exclusiveMinimum" in b,
        exclude_max="exclusiveMaximum" in b,
        allow_nan=False,
        allow_infinity=False,
    )


def _strings(b: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "pattern" in b:
        pattern = b["pattern"].removeprefix("^").removesuffix("$")
        return st.from_regex(pattern, fullmatch=True).filter(lambda s: len(s) <= b.get("maxLength", 300))
    if b.get("format") == "date-time":
        return st.datetimes().map(lambda d: d.isoformat())
    if b.get("format") == "date":
        return st.dates().map(lambda d: d.isoformat())
    alphabet = st.characters(blacklist_categories=("Cs", "Cc"))
    return st.text(alphabet, min_size=b.get("minLength", 0), max_size=min(b.get("maxLength", 30), 30))


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def json_safe(doc: Any, depth: int = 0) -> Any:
    """The document as JSON data for the oracle: dates as ISO text (YAML gives date objects where a schema says
    string/date); non-string keys kept (the schema refuses them)."""
    if depth > WALK_DEPTH:
        return doc
    if isinstance(doc, dict):
        return {k: json_safe(v, depth + 1) for k, v in doc.items()}
    if isinstance(doc, list):
        return [json_safe(v, depth + 1) for v in doc]
    if hasattr(doc, "isoformat"):
        return doc.isoformat()
    return doc


# How deep the generator's own walks go: a "deep" mutation nests up to 200 lists, and Python's stack (with
# Hypothesis and pytest under it) holds a few hundred frames more, not thousands.
WALK_DEPTH = 100


def has_control(doc: Any, depth: int = 0) -> bool:
    if isinstance(doc, str):
        return any(c in CONTROL for c in doc)
    if depth > WALK_DEPTH:
        return False
    if isinstance(doc, dict):
        return any(has_control(k, depth + 1) or has_control(v, depth + 1) for k, v in doc.items())
    return isinstance(doc, list) and any(has_control(v, depth + 1) for v in doc)


def paths_of(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if len(prefix) > 30:  # mutating deeper inside a deep nest adds nothing the nest itself does not
        return out
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths_of(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths_of(v, (*prefix, i))
    return out


def get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def put(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = get(doc, path[:-1])
    parent[path[-1]] = value
    return doc


# --- mutations --------------------------------------------------------------------------------------------

WRONG = {"null": None, "boolean": True, "integer": 7, "number": 2.5, "string": "x", "array": ["x"], "object": {"x": 1}}


@st.composite
def mutated(draw: Any, desc: Description, base: Any, specials: dict[str, str]) -> tuple[Any, str]:
    """The base document with one to three mutations, each where the description says what belongs there."""
    doc = copy.deepcopy(base)
    hows = []
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_of(doc)))
        node = desc.at(path) or {}
        kind = draw(
            st.sampled_from(
                ["valid", "wrong type", "bound", "text", "number", "unknown key", "drop key", "path", "huge", "deep"]
            )
        )
        doc, how = _mutate(draw, desc, doc, path, node, kind, specials)
        hows.append(how)
    return doc, "; ".join(hows)


def _mutate(
    draw: Any,
    desc: Description,
    doc: Any,
    path: tuple[Any, ...],
    node: dict[str, Any],
    kind: str,
    specials: dict[str, str],
) -> tuple[Any, str]:
    where = ".".join(map(str, path)) or "(top)"
    current = get(doc, path)
    if kind == "unknown key" and isinstance(current, dict):
        key = draw(st.one_of(st.sampled_from(["x", "passwrd", "Farm", "hosts", "id ", ""]), st.text(max_size=6)))
        current[key] = draw(st.sampled_from(["x", 1, None]))
        return doc, f"{where}: key {key!r} added"
    if kind == "drop key" and isinstance(current, dict) and current:
        key = draw(st.sampled_from(sorted(current, key=str)))
        del current[key]
        return doc, f"{where}: key {key!r} dropped"
    if kind == "path" and path and path[-1] in PATH_KEYS:
        name = draw(st.sampled_from(sorted(specials)))
        return put(doc, path, specials[name]), f"{where}: the {name} {specials[name]}"
    value = _value(draw, desc, node, kind, current)
    return put(doc, path, value), f"{where} = {_short(value)}"


def _value(draw: Any, desc: Description, node: dict[str, Any], kind: str, current: Any) -> Any:
    if kind == "valid":
        return draw(desc.values(node))
    if kind == "wrong type":
        others = sorted(set(WRONG) - desc.types(node)) or sorted(WRONG)
        return WRONG[draw(st.sampled_from(others))]
    if kind == "bound":
        return draw(st.sampled_from(_edges(desc, node)))
    if kind == "number":
        return draw(st.sampled_from(HOSTILE_NUMBERS))
    if kind == "huge":
        return draw(st.sampled_from(["x" * 200_000, list(range(3000)), {f"k{i}": i for i in range(3000)}]))
    if kind == "deep":
        deep: Any = "x"
        for _ in range(draw(st.integers(20, 200))):
            deep = [deep]
        return deep
    text = draw(st.sampled_from(HOSTILE_TEXT))
    return (current + text) if isinstance(current, str) and draw(st.booleans()) else text


def _edges(desc: Description, node: dict[str, Any]) -> list[Any]:
    edges: list[Any] = []
    for b in desc.branches(node):
        for key, step in (("minimum", -1), ("exclusiveMinimum", 0), ("maximum", 1), ("exclusiveMaximum", 0)):
            if key in b:
                edges += [b[key] + step, b[key] + step * 0.5]
        if "maxLength" in b:
            edges.append("x" * (b["maxLength"] + 1))
        if b.get("minLength"):
            edges.append("")
        if "pattern" in b:
            edges += [" x", "x y", "x\n", "../x", "x" * 400]
        if "enum" in b:
            edges += [str(b["enum"][0]).upper() + "_", f" {b['enum'][0]}"]
    return edges or [-1, "", None]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 60 else f"{text[:50]}... ({len(text)} chars)"


@st.composite
def text_mutated(draw: Any, base_text: str) -> tuple[str, str, str | None]:
    """(text, how, must_refuse): YAML text mutations the parsed form cannot hold: a key given twice, a file cut
    short, characters inserted at a random place."""
    lines = base_text.splitlines()
    kind = draw(st.sampled_from(["duplicate", "cut", "insert"]))
    if kind == "duplicate":
        keyed = [
            i
            for i, line in enumerate(lines)
            if ":" in line and not line.lstrip().startswith(("#", "-")) and line.split(":", 1)[1].strip()
        ]
        i = draw(st.sampled_from(keyed))
        return (
            "\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :]) + "\n",
            f"line {i + 1} given twice",
            "a key given twice",
        )
    if kind == "cut":
        at = draw(st.integers(0, len(base_text)))
        return base_text[:at], f"cut at {at}", None
    at = draw(st.integers(0, len(base_text)))
    piece = draw(
        st.sampled_from(
            [
                "\x00",
                "\t",
                "{",
                "[",
                "&a",
                "*a",
                "!!binary",
                "\u202e",
                "\ufeff",
                "\r",
                "- ",
                "? ",
                "|",
                ">",
                "'",
                '"',
                "\\",
                "%YAML 1.1\n",
                "---\n",
                "<<: *a\n",
            ]
        )
    )
    return base_text[:at] + piece + base_text[at:], f"{piece!r} inserted at {at}", None


# --- running a case ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def timer(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Raise Hang in this thread after `seconds` (POSIX; elsewhere no timer: a hang would be seen as one)."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def ring(*_: Any) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def classify_call(fn: Callable[[], Any]) -> tuple[str, str]:
    """(outcome, message) of a loader call: refused (a GpVerifyError), accepted, traceback or hang."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with timer(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            fn()
    except Accepted:
        return "accepted", ""
    except GpVerifyError as exc:
        return "refused", str(exc)
    except Hang:
        return "hang", ""
    except Exception as exc:  # noqa: BLE001 - what the generator counts
        return "traceback", f"{type(exc).__name__}: {exc}"
    text = out.getvalue() + err.getvalue()
    return ("traceback", text) if "Traceback (most recent call last)" in text else ("accepted", "")


def classify_cli(argv: list[str]) -> tuple[str, str]:
    """(outcome, message) of one in-process `gpverify ARGV`."""
    from gpverify.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    try:
        with timer(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except Accepted:
        code = 0
    except Hang:
        return "hang", ""
    except Exception as exc:  # noqa: BLE001 - what the generator counts
        return "traceback", f"{type(exc).__name__}: {exc}"
    text = out.getvalue() + err.getvalue()
    if "Traceback (most recent call last)" in text:
        return "traceback", text[-800:]
    if code in (0, None):
        return "accepted", ""
    return "refused", text.strip()[-400:] or f"exit {code} without a message"


def outcome_of(case: Case, outcome: str, message: str) -> str:
    if outcome == "accepted" and case.must_refuse:
        return "silent"
    if outcome == "refused" and not message.strip():
        return "traceback"  # a refusal that says nothing is no clean refusal
    return outcome


def run_subprocess(argv: list[str], env: dict[str, str] | None = None, timeout: float = 120.0) -> tuple[str, str]:
    """(outcome, message) of a real `gpverify` process: the sample that proves the in-process runs honest."""
    import subprocess

    exe = shutil.which("gpverify", path=str(Path(sys.executable).parent)) or "gpverify"
    try:
        proc = subprocess.run(
            [exe, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "hang", ""
    text = proc.stdout + proc.stderr
    if "Traceback (most recent call last)" in text:
        return "traceback", text[-800:]
    return ("accepted", "") if proc.returncode == 0 else ("refused", text.strip()[-400:])


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)


def elapsed(started: float) -> float:
    return time.monotonic() - started


# --- the history a command reads, damaged row by row ------------------------------------------------------

HISTORY_COLUMNS = {
    "runs": ["started", "finished", "reports", "summary", "status", "exit_code", "waited", "rounds", "farm", "site"],
    "results": ["outcome", "waiver", "message", "check_id", "host"],
    "facts": ["facts", "host"],
    "baselines": ["facts", "captured", "name", "farm"],
}
DAMAGE: list[Any] = [
    "{",
    "[]",
    "null",
    '"x"',
    "1",
    "",
    "yesterday",
    "9999-99-99",
    "2026-13-01T00:00:00Z",
    "[" * 5000 + "]" * 5000,
    '{"counts": {"failed": "x"}}',
    '{"newly_failing": "many"}',
    '{"html": 5}',
    "\x00",
    1e300,
    -1,
    2**62,
    None,
    b"\xff\xfe",
    "x" * 100_000,
]


def damage_history(path: Path, table: str, column: str, value: Any) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute(f"UPDATE {table} SET {column} = ?", (value,))
        db.commit()
    except sqlite3.IntegrityError:  # NOT NULL: the value cannot be stored, which is no damage to read
        pass
    finally:
        db.close()


def as_json(figures: Figures) -> str:
    return json.dumps(figures.as_dict(), indent=1, sort_keys=True)


# --- the README's figures ---------------------------------------------------------------------------------

SURFACE_NAMES = {
    "inventory": "inventory files",
    "plan": "plan files",
    "plan run": "plans accepted, then run",
    "waiver": "waiver files",
    "scenario": "scenario overlays",
    "check file": "declarative check files (NAME.checks.yml)",
    "history": "damaged history rows",
    "cli": "command-line flags (every command)",
    "subprocess": "the same as real processes",
}


def readme_table(figures: dict[str, Any]) -> str:
    """The README's table of the last `make fuzz` (python tests/hardening/hostile_generator.py prints it)."""
    rows = [
        "| Inputs generated | Cases | Refused with one message | Accepted | Tracebacks | Hangs | Silently accepted |",
        "|---|---|---|---|---|---|---|",
    ]
    for surface, per in sorted(figures["surfaces"].items(), key=lambda kv: list(SURFACE_NAMES).index(kv[0])):
        rows.append(
            f"| {SURFACE_NAMES.get(surface, surface)} | {sum(per.values()):,} | {per['refused']:,} | "
            f"{per['accepted']:,} | {per['traceback']} | {per['hang']} | {per['silent']} |"
        )
    rows.append(
        f"| **all** | **{figures['generated']:,}** | {figures['refused']:,} | {figures['accepted']:,} | "
        f"**{figures['traceback']}** | **{figures['hang']}** | **{figures['silent']}** |"
    )
    return "\n".join(rows)


if __name__ == "__main__":
    print(
        readme_table(
            json.loads(
                Path(
                    sys.argv[1] if len(sys.argv) > 1 else REPO / "tests" / "hardening" / "fuzz-figures.json"
                ).read_text()
            )
        )
    )
