"""The one Jinja2 environment every HTML page is rendered through: one set of templates, one escaping."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from gpverify.config.redact import Redactor
from gpverify.outcomes import Outcome

__all__ = ["Markup", "page", "piece", "write_atomically"]


@cache
def environment() -> Environment:
    """Loaded once per process and kept: each gate of a run renders its report from the compiled template."""
    env = Environment(
        loader=PackageLoader("gpverify.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["outcomes"] = list(Outcome)
    env.globals["outcome"] = Outcome.of
    env.filters["label"] = _label
    return env


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
