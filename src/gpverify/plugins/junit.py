"""The --junitxml file in gpverify's words: rewritten once pytest has written it (ElementTree, masked).

pytest's junitxml has no public hook for a test suite's properties outside a test (`record_testsuite_property`
is a fixture) nor for a skip's text, which it writes as `path:line: reason` (junitxml offers plugins no way to
shape what it writes: pytest-dev/pytest#2827, open); the file it wrote is the public interface, so gpverify
edits that file after the session, as any JUnit consumer could.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gpverify import session


class JUnit:
    """Registered for a run that checks a farm and writes --junitxml."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.path = Path(os.path.abspath(os.path.expanduser(os.path.expandvars(str(config.option.xmlpath)))))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # junitxml writes the file in its pytest_sessionfinish; a pytest-xdist worker writes none.
        if hasattr(config, "workerinput") or not self.path.is_file():
            return
        tree = ET.parse(self.path)
        properties = [p for group in config.hook.pytest_gpverify_junit_properties(config=config) for p in group or []]
        for suite in tree.getroot().iter("testsuite"):
            _add_properties(suite, properties)
        for skipped in tree.getroot().iter("skipped"):
            # A check not verified (or that does not apply) is a skip to JUnit: its text is gpverify's sentence,
            # not the check's file and line.
            skipped.text = skipped.get("message", "")
        redactor = session.redactor(config)
        for element in tree.getroot().iter():
            element.text = redactor.text(element.text) if element.text else element.text
            element.tail = redactor.text(element.tail) if element.tail else element.tail
            for key, value in element.attrib.items():
                element.attrib[key] = redactor.text(value)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tree.write(tmp, encoding="utf-8", xml_declaration=True)
        os.replace(tmp, self.path)


def _add_properties(suite: ET.Element, properties: list[tuple[str, str]]) -> None:
    if not properties:
        return
    holder = suite.find("properties")
    if holder is None:
        holder = ET.Element("properties")
        suite.insert(0, holder)
    for name, value in properties:
        ET.SubElement(holder, "property", name=name, value=str(value))
