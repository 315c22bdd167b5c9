"""Reading YAML an operator or an attacker may hand in: one ConfigError naming the file, the line and the problem."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gpverify.config.paths import MAX_FILE_BYTES
from gpverify.config.yamlfile import parse_yaml, read_yaml
from gpverify.errors import ConfigError

LAUGHS = (
    "\n".join(
        ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    )
    + "\n"
)


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "session_hosts: [a]\nfarm: x\nsession_hosts: [b]\n",
            "line 3",
            "expected each key once, but 'session_hosts' appears on line 1 and line 3",
        ),
        ("winrm:\n  port: 1\n  port: 2\n", "line 3", "expected each key once, but 'port' appears on line 2 and line 3"),
        ("created: 2026-02-30\n", "line 1", "expected a real date, got '2026-02-30'"),
        ("expires: 2026-13-01\n", "line 1", "expected a real date, got '2026-13-01'"),
        (LAUGHS, "line 1", "expected aliases that add at most 100,000 values once expanded"),
        ("a: &x [*x]\n", "line 1", "expected aliases that do not contain themselves"),
        ("[" * 3000, "line 1", "expected valid YAML (exceeded maximum nesting depth)"),  # libyaml's own bound
        (
            "a: !!python/object/apply:os.system [ls]\n",
            "line 1",
            "expected valid YAML (could not determine a constructor",
        ),
    ],
)
def test_hostile_yaml_is_one_message(text: str, where: str, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as exc:
        parse_yaml(text, "f.yml")
    assert exc.value.file == "f.yml" and exc.value.field == where
    assert str(exc.value).startswith(f"f.yml: {where}: {message}"), str(exc.value)
    assert time.monotonic() - started < 10  # a hang detector, not a speed test: the bomb is refused unexpanded


def test_yaml_1_1_words_stay_text_and_numbers_keep_their_spelling() -> None:
    data = parse_yaml("encrypt: yes\noff: on\nflag: true\nprofile: 18.10\nn: 3\n", "f.yml")
    assert data["encrypt"] == "yes" and data["off"] == "on" and data["flag"] is True and data["n"] == 3
    assert data["profile"] == 18.1 and data["profile"].text == "18.10"


def test_plain_aliases_still_work() -> None:
    assert parse_yaml("a: &w {x: 1}\nb: *w\n", "f.yml") == {"a": {"x": 1}, "b": {"x": 1}}


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "character device"), ("/", "folder")])
def test_special_files_are_refused_before_reading(path: str, kind: str) -> None:
    with pytest.raises(ConfigError, match=f"expected the inventory file to be a regular file \\(this is a {kind}\\)"):
        read_yaml(path, "inventory file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes in the file system are POSIX")
def test_a_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="named pipe"):
        read_yaml(fifo, "plan file")


def test_a_file_over_the_cap_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yml"
    big.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(ConfigError, match=r"expected a waiver file of at most 1024 KB \(this one has"):
        read_yaml(big, "waiver file")


def test_a_large_document_without_aliases_is_bounded_by_its_size_alone() -> None:
    hosts = "\n".join(
        f"- {{name: gp-sh{i:05d}, address: 127.0.0.1, winrm: {{port: {40000 + i}}}}}" for i in range(12_000)
    )
    data = parse_yaml("session_hosts:\n" + hosts + "\n", "big.yml")
    assert len(data["session_hosts"]) == 12_000  # 120,000 values written out, no alias among them


def test_a_large_document_cannot_hide_aliases_that_expand() -> None:
    hosts = "\n".join(f"- {{name: gp-sh{i:05d}}}" for i in range(30_000))
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    laughs += "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    laughs += "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    with pytest.raises(ConfigError, match="aliases that add at most 100,000 values"):
        parse_yaml(laughs + "hosts:\n" + hosts + "\n", "big.yml")
