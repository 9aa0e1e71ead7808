"""Baseline conformance: each approved path of each host, one test (`conformance:<path>`).

The expectations (and why one fails) are computed from the approved
baseline and the snapshot before the tests run (`verify/conformance.py`);
this test states the verdict, so conformance reads, fails and is waived
like any other check.
"""

from __future__ import annotations

from spse_change.verify.conformance import Expectation


def test_conformance(expectation: tuple[str, Expectation]) -> None:
    _host, expected = expectation
    assert not expected.failure, expected.failure
