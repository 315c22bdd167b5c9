"""At least 500 hostile inputs across the inventory, scenario, plan, waiver and CLI surfaces (issue 14):
0 tracebacks, 0 hangs, 0 silent acceptances of the cases that must be refused.

Each case is either *must refuse* (one ConfigError or a non-zero exit with a message that contains the given
words) or *any* (a valid object or one ConfigError, never another exception). Every case runs under a timer: a
case that takes longer than HANG_SECONDS counts as a hang. Cases are generated from a fixed seed, so a failure
names a case that can be run again.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hardening_support import FIGURES, REPO, hardening_figures  # noqa: F401

from gpverify.audit.waivers import load_waivers
from gpverify.cli.main import main
from gpverify.config.inventory import host_specs, load_inventory
from gpverify.errors import ConfigError
from gpverify.lab.scenario import load_scenario
from gpverify.runner.plan import FarmShape, load_plan

HANG_SECONDS = 10
SEED = 14
SHAPE = FarmShape(
    {
        "gpweb01.contoso.local": "web_server",
        "gpsh01.contoso.local": "session_host",
        "gpsh02.contoso.local": "session_host",
        "ws-fin-001.contoso.local": "client",
        "gpten01.contoso.local": "tenant_services",
    },
    "html",
)

BASES = {
    "inventory": (REPO / "inventory.example.yml").read_text(encoding="utf-8"),
    "plan": (REPO / "plans" / "example-plan.yml").read_text(encoding="utf-8"),
    "scenario": "description: hostile\nhosts:\n  gp-sh02:\n    fault: slow\n    services:\n"
    "      session_service: {status: Stopped}\n",
    "waiver": "- check: GP-POST-002\n  host: gp-sh02\n  justification: rebuild\n  approver: jane\n  risk: medium\n"
    "  created: 2026-11-20\n  expires: 2026-12-01\n",
}
# A key whose value each file kind reads as text, for planting a date that does not exist.
TEXT_KEY = {"inventory": "farm", "plan": "title", "scenario": "description", "waiver": "justification"}


def _load(kind: str, path: Path) -> Any:
    if kind == "inventory":
        inv = load_inventory(path)
        host_specs(inv, str(path))
        return inv
    if kind == "plan":
        return load_plan(path, SHAPE)
    if kind == "scenario":
        return load_scenario(str(path))
    return load_waivers(path)


@dataclass
class Case:
    surface: str  # inventory | plan | scenario | waiver | cli
    name: str
    text: str | None = None  # file contents (file surfaces)
    path: str | None = None  # a given path instead (special files)
    argv: list[str] | None = None  # cli surface; "{file}" is replaced by a file holding `text`
    refuse: str | None = None  # must refuse, with a message holding this; None: valid or ConfigError both fine


def _with_value(text: str, key: str, value: str) -> str:
    """The first `key:` line given a new value (same indentation)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.lstrip(" -")
        if stripped.startswith(f"{key}:"):
            lines[i] = line[: len(line) - len(stripped)] + f"{key}: {value}"
            return "\n".join(lines) + "\n"
    raise AssertionError(f"no {key}: line")


def _duplicate_first_nested_key(text: str) -> str:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  ") and not line.lstrip().startswith(("#", "-")) and ":" in line:
            return "\n".join(lines[: i + 1] + [line] + lines[i + 1 :]) + "\n"
    raise AssertionError("no nested key")


LAUGHS = "lol0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)
)
BAD_DATES = ["2026-02-30", "2026-13-01", "2026-00-10", "2026-04-31", "2025-02-29", "2026-01-32"]


def _must_refuse_files() -> Iterator[Case]:
    for kind, base in BASES.items():
        top_key = {"inventory": "farm", "plan": "phases", "scenario": "description"}.get(kind, "")
        yield Case(
            kind,
            "duplicate top-level key",
            text=base + f"{top_key}: again\n"
            if kind != "waiver"
            else base.replace("  host: gp-sh02\n", "  host: gp-sh02\n  host: gp-sh01\n"),
            refuse="each key once",
        )
        yield Case(kind, "duplicate nested key", text=_duplicate_first_nested_key(base), refuse="each key once")
        yield Case(kind, "billion laughs", text=LAUGHS + base if kind != "waiver" else LAUGHS, refuse="at most")
        yield Case(
            kind,
            "recursive alias",
            text="loop: &l [*l]\n" + (base if kind != "waiver" else ""),
            refuse="aliases that do not contain themselves",
        )
        for date in BAD_DATES:
            key = "created" if kind == "waiver" else TEXT_KEY[kind]
            yield Case(kind, f"impossible date {date}", text=_with_value(base, key, date), refuse="a real date")
        # A scenario is a shipped name or an overlay file: a folder is neither; a device is a file that is no
        # regular file, as for the other kinds (the one path guard, config/paths.py).
        yield Case(kind, "character device", path="/dev/zero", refuse="regular file")
        yield Case(kind, "folder", path=str(REPO), refuse="an overlay file" if kind == "scenario" else "regular file")
        yield Case(kind, "too large", text="# " + "x" * (1024 * 1024) + "\n" + base, refuse="at most 1024 KB")
        yield Case(kind, "python tag", text="!!python/object/apply:os.system [id]\n", refuse="valid YAML")
    inv = BASES["inventory"]
    for name, old, new, words in [
        ("port true", "  ca_bundle:", "  port: true\n  ca_bundle:", "a valid integer"),
        ("port text", "  ca_bundle:", "  port: '5986'\n  ca_bundle:", "a valid integer"),
        ("read_timeout .inf", "  ca_bundle:", "  read_timeout: .inf\n  ca_bundle:", "finite"),
        ("read_timeout .nan", "  ca_bundle:", "  read_timeout: .nan\n  ca_bundle:", "finite"),
        ("read_timeout 1e300", "  ca_bundle:", "  read_timeout: 1.0e+300\n  ca_bundle:", "less than or equal"),
        ("connect_timeout -1", "  ca_bundle:", "  connect_timeout: -1\n  ca_bundle:", "greater than 0"),
        ("deadline .inf", "  ca_bundle:", "  deadline: .inf\n  ca_bundle:", "finite"),
        ("misspelt session_hosts", "session_hosts:", "sesion_hosts:", "did you mean 'session_hosts'"),
        ("misspelt transport", "  transport:", "  tranport:", "did you mean 'transport'"),
        ("encrypt true", 'encrypt: "yes"', "encrypt: true", "a word in quotes"),
    ]:
        assert old in inv, name
        yield Case("inventory", name, text=inv.replace(old, new, 1), refuse=words)
    for name, value, words in [
        ("address with path", "gpsh01/wsman", "no scheme, port, path"),
        ("address with fragment", "'gpsh01#x'", "no scheme, port, path"),
        ("address with scheme", "'https://gpsh01'", "no scheme, port, path"),
        ("address with port", "'gpsh01:5986'", "no scheme, port, path"),
        ("address with space", "'gp sh01'", "no scheme, port, path"),
    ]:
        yield Case(
            "inventory",
            name,
            text=inv.replace(
                "  - name: gpsh01.contoso.local\n", f"  - name: gpsh01.contoso.local\n    address: {value}\n", 1
            ),
            refuse=words,
        )
    for name, value in [
        ("host name with space", "'gp sh01'"),
        ("host name with semicolon", "'gp;sh01'"),
        ("host name with slash", "'../gpsh01'"),
        ("host name empty", "''"),
    ]:
        yield Case(
            "inventory",
            name,
            text=inv.replace("  - name: gpsh01.contoso.local", f"  - name: {value}", 1),
            refuse="session_hosts[0].name",
        )
    for name, url in [
        ("url without scheme", "gp.contoso.com"),
        ("url without host", "'https://'"),
        ("url ftp", "ftp://gp.contoso.com"),
        ("url with fragment", "'https://gp.contoso.com/#x'"),
    ]:
        yield Case("inventory", name, text=_with_value(inv, "url", url), refuse="web_server.url")
    plan = BASES["plan"]
    for value in [".inf", ".nan", "1.0e+300", "-1", "0", "true"]:
        yield Case(
            "plan",
            f"timeout {value}",
            text=plan.replace("        command: python\n", f"        command: python\n        timeout: {value}\n", 1),
            refuse="timeout",
        )


def _mutations(rng: random.Random, base: str, count: int = 70) -> Iterator[tuple[str, str]]:
    noise = [
        "\x00",
        "\t",
        "{",
        "[",
        "]",
        ":",
        "&a",
        "*a",
        "!!binary",
        "%YAML 1.1",
        "---",
        "...",
        "'",
        '"',
        "\\",
        "\u202e",
        "ü",
        "\ufeff",
        "\r",
        "- ",
        "? ",
        "|",
        ">",
        "#",
        "2026-02-30",
        "0x",
        ".inf",
        "~",
        "<<: *a",
    ]
    lines = base.splitlines()
    for n in range(count):
        choice = n % 5
        if choice == 0:
            cut = rng.randrange(len(base))
            yield f"truncated at {cut}", base[:cut]
        elif choice == 1:
            at = rng.randrange(len(base))
            yield f"noise at {at}", base[:at] + rng.choice(noise) + base[at:]
        elif choice == 2:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            swapped = list(lines)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            yield f"lines {i}<->{j} swapped", "\n".join(swapped) + "\n"
        elif choice == 3:
            i = rng.randrange(len(lines))
            yield f"line {i} re-indented", "\n".join(lines[:i] + ["   " + lines[i]] + lines[i + 1 :]) + "\n"
        else:
            i = rng.randrange(len(lines))
            yield f"line {i} dropped", "\n".join(lines[:i] + lines[i + 1 :]) + "\n"


def _any_files() -> Iterator[Case]:
    rng = random.Random(SEED)
    for kind, base in BASES.items():
        for name, text in _mutations(rng, base):
            yield Case(kind, name, text=text)


def _cli_cases() -> Iterator[Case]:
    for value in ["nan", "inf", "-inf", "-1", "1e300", "abc", "", "0x10"]:
        yield Case("cli", f"audit --wait {value!r}", argv=["audit", "--lab", "--wait", value], refuse="--wait")
    for value in ["inf", "nan", "0", "-5", "1e300", "x"]:
        yield Case(
            "cli", f"lab --idle-timeout {value!r}", argv=["lab", "--idle-timeout", value], refuse="--idle-timeout"
        )
    for value in ["-3", "0", "x", "1e3", "99999999999999999999"]:
        yield Case(
            "cli", f"history --last {value!r}", argv=["history", "--last", value, "--reports", "{dir}"], refuse="--last"
        )
    for run_id in ["../x", "/etc", "..", "a/b", "../../tmp", "x\x00y", "-", ".hidden/../.."]:
        yield Case(
            "cli",
            f"upgrade --resume {run_id!r}",
            argv=["upgrade", "--resume", run_id, "--reports", "{dir}"],
            refuse="the name of a run folder inside",
        )
    yield Case("cli", "inventory check /dev/zero", argv=["inventory", "check", "/dev/zero"], refuse="regular file")
    yield Case(
        "cli",
        "upgrade --inventory /dev/zero",
        argv=["upgrade", "--inventory", "/dev/zero", "--dry-run"],
        refuse="regular file",
    )
    yield Case(
        "cli",
        "upgrade --plan /dev/zero",
        argv=["upgrade", "--inventory", str(REPO / "inventory.example.yml"), "--plan", "/dev/zero", "--dry-run"],
        refuse="regular file",
    )
    yield Case(
        "cli",
        "lab --scenario /dev/zero",
        argv=["lab", "--scenario", "/dev/zero", "--dir", "{dir}"],
        refuse="regular file",
    )
    for name, text in _mutations(random.Random(SEED + 1), BASES["inventory"], 30):
        yield Case("cli", f"inventory check: {name}", text=text, argv=["inventory", "check", "{file}"])
    for case in _must_refuse_files():
        if case.surface == "plan" and case.text is not None:
            yield Case(
                "cli",
                f"upgrade --plan: {case.name}",
                text=case.text,
                argv=[
                    "upgrade",
                    "--inventory",
                    str(REPO / "inventory.example.yml"),
                    "--plan",
                    "{file}",
                    "--dry-run",
                    "--reports",
                    "{dir}",
                ],
                refuse=case.refuse,
            )
        if case.surface == "inventory" and case.text is not None:
            yield Case(
                "cli",
                f"inventory check: {case.name}",
                text=case.text,
                argv=["inventory", "check", "{file}"],
                refuse=case.refuse,
            )
            yield Case(
                "cli",
                f"upgrade --dry-run: {case.name}",
                text=case.text,
                argv=["upgrade", "--inventory", "{file}", "--dry-run", "--reports", "{dir}"],
                refuse=case.refuse,
            )


CASES = [*_must_refuse_files(), *_any_files(), *_cli_cases()]


class Hang(Exception):
    pass


@contextlib.contextmanager
def _timer() -> Iterator[None]:
    def ring(*_: Any) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_file(case: Case, tmp: Path) -> tuple[str, str]:
    """(outcome, message): outcome is accepted, refused, traceback or hang."""
    path = Path(case.path) if case.path else tmp / f"{case.surface}.yml"
    if case.text is not None and not case.path:
        path.write_text(case.text, encoding="utf-8")
    try:
        with _timer():
            _load(case.surface, path)
    except ConfigError as exc:
        return "refused", str(exc)
    except Hang:
        return "hang", ""
    except Exception as exc:  # noqa: BLE001 - what this test counts
        return "traceback", f"{type(exc).__name__}: {exc}"
    return "accepted", ""


def _run_cli(case: Case, tmp: Path) -> tuple[str, str]:
    file = tmp / "inventory.yml"
    if case.text is not None:
        file.write_text(case.text, encoding="utf-8")
    argv = [a.replace("{file}", str(file)).replace("{dir}", str(tmp / "reports")) for a in case.argv or []]
    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    try:
        with _timer(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except Hang:
        return "hang", ""
    except Exception as exc:  # noqa: BLE001
        return "traceback", f"{type(exc).__name__}: {exc}"
    text = out.getvalue() + err.getvalue()
    if "Traceback" in text:
        return "traceback", text
    return ("refused" if code not in (0, None) else "accepted"), text


POSIX = pytest.mark.skipif(
    not hasattr(signal, "setitimer") or not hasattr(os, "mkfifo"),
    reason="the hang timer (SIGALRM) and named pipes are POSIX",
)


@POSIX
def test_hostile_inputs_give_one_message_each(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "fifo.yml")
    cases = CASES + [Case(kind, "named pipe", path=str(tmp_path / "fifo.yml"), refuse="named pipe") for kind in BASES]
    assert len(cases) >= 500, len(cases)
    tracebacks, hangs, silent = [], [], []
    for n, case in enumerate(cases):
        work = tmp_path / f"case{n}"
        work.mkdir()
        outcome, message = (_run_cli if case.surface == "cli" else _run_file)(case, work)
        label = f"{case.surface}: {case.name}"
        if outcome == "traceback":
            tracebacks.append((label, message))
        elif outcome == "hang":
            hangs.append(label)
        elif case.refuse is not None and (outcome != "refused" or case.refuse not in message):
            silent.append((label, outcome, message[:300]))
        FIGURES["hostile inputs tried"] = FIGURES.get("hostile inputs tried", 0) + 1
    FIGURES["hostile input tracebacks"] = len(tracebacks)
    FIGURES["hostile input hangs"] = len(hangs)
    FIGURES["hostile inputs silently accepted"] = len(silent)
    assert not tracebacks, tracebacks[:10]
    assert not hangs, hangs
    assert not silent, "\n".join(map(str, silent))


@POSIX
def test_the_counters_can_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Positive control: the harness reports a traceback, a hang and an acceptance when a loader does that."""
    import test_hostile_inputs as harness

    case = Case("inventory", "control", text="farm: x\n")

    def boom(kind: str, path: Path) -> None:
        raise KeyError("x")

    def spin(kind: str, path: Path) -> None:
        while True:
            pass

    monkeypatch.setattr(harness, "HANG_SECONDS", 0.2)
    for loader, outcome in ((boom, "traceback"), (spin, "hang"), (lambda kind, path: None, "accepted")):
        monkeypatch.setattr(harness, "_load", loader)
        assert harness._run_file(case, tmp_path)[0] == outcome
