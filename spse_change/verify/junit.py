"""JUnit XML for CI: one testsuite per host, one testcase per check, named by its check id.

A waived check is `<skipped>` with the waiver's reason and expiry; a
failed one `<failure>` with its message; a crashed one `<error>`.
Messages hold no secret value (secrets are compared as keyed hashes, shown `***`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from spse_change.store.files import write_atomic

if TYPE_CHECKING:  # plugin imports pytest, which `spse-change` alone need not load
    from spse_change.verify.plugin import CheckResult

ELEMENT = {"failed": "failure", "error": "error", "waived": "skipped"}


def junit_xml(results: Sequence[CheckResult]) -> str:
    suites = ET.Element("testsuites", name="spse-change verify")
    ordered = sorted(results, key=lambda r: (r.host, r.check))
    for host, group in groupby(ordered, key=lambda r: r.host):
        cases = list(group)
        suite = ET.SubElement(suites, "testsuite", name=host, tests=str(len(cases)),
                              failures=str(sum(r.outcome == "failed" for r in cases)),
                              errors=str(sum(r.outcome == "error" for r in cases)),
                              skipped=str(sum(r.outcome == "waived" for r in cases)))
        for result in cases:
            case = ET.SubElement(suite, "testcase", classname=host, name=result.check)
            if result.outcome in ELEMENT:
                text = result.waiver if result.outcome == "waived" else result.message
                if result.outcome == "failed" and result.waiver:
                    text = f"{text} [{result.waiver}]"
                child = ET.SubElement(case, ELEMENT[result.outcome], message=text.splitlines()[0][:500]
                                      if text else "")
                child.text = "\n".join(filter(None, (result.message, result.waiver)))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write_junit(path: Path, results: Sequence[CheckResult]) -> None:
    write_atomic(path, junit_xml(results), mode=0o644)  # a CI artifact; it holds no secret
