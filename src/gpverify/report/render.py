"""The one Jinja2 environment every HTML page is rendered through: one set of templates, one escaping."""

from __future__ import annotations

import os
import pickle
import sys
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache, PackageLoader, select_autoescape
from jinja2.bccache import Bucket
from markupsafe import Markup

from gpverify.config.redact import Redactor
from gpverify.outcomes import Outcome

__all__ = ["Markup", "page", "piece", "write_atomically"]


@cache
def environment() -> Environment:
    """Loaded once per process and kept: each gate of a run renders its report from the compiled template."""
    return build_environment(bytecode_cache())


def build_environment(compiled: BytecodeCache | None) -> Environment:
    """The environment every page is rendered through, its compiled templates kept in `compiled` (if any)."""
    env = Environment(
        loader=PackageLoader("gpverify.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=compiled,
    )
    env.globals["outcomes"] = list(Outcome)
    env.globals["outcome"] = Outcome.of
    env.filters["label"] = _label
    return env


class _CompiledTemplates(FileSystemBytecodeCache):
    """Jinja2's file cache of compiled templates, where a cache that cannot be read or written is no cache: the
    page is compiled from its template as without one, and never fails for it."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError):  # unreadable or damaged: compile again
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a full or read-only disk: the next run compiles again
            pass


def bytecode_cache(directory: str | None = None) -> BytecodeCache | None:
    """Templates compiled once and kept, as Python keeps its compiled modules, and under the same switch (none
    under PYTHONDONTWRITEBYTECODE or python -B). Compiling the audit's report templates took a twentieth of a
    second of every audit. Jinja2 checks each template's source against its cached code, and keeps the cache in
    a folder of the user's own (mode 0700 in the temporary folder; the user's temporary folder on Windows)."""
    if sys.dont_write_bytecode:
        return None
    try:
        return _CompiledTemplates(directory, pattern="gpverify-%s.jinja2")
    except (OSError, RuntimeError):  # no private temporary folder can be made: compile every time
        return None


def _label(word: str | None) -> str:
    """A stored outcome or status word as every page shows it ("error" -> "could not run"); other words as they are."""
    outcome = Outcome.of(word)
    return outcome.label if outcome else str(word or "")


def page(template: str, **context: Any) -> str:
    """Render one template of report/templates with autoescaping (values are data, never HTML)."""
    return environment().get_template(template).render(**context)


def piece(template: str, macro: str, **context: Any) -> Markup:
    """One macro of a template of report/templates (a part of a page another tool lays out: pytest-html's cells,
    the audit's sections in the report), autoescaped the same way."""
    module = environment().get_template(template).make_module()
    return Markup(str(getattr(module, macro)(**context)))


def write_atomically(path: Path, text: str, redactor: Redactor | None = None) -> None:
    """Write masked text to a temporary file beside `path`, then rename: a kill leaves the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(redactor.text(text) if redactor else text, encoding="utf-8")
    os.replace(tmp, path)
