"""Baseline conformance: each approved path of each host is its own check, `conformance:<path>`.

The expectations (and why one fails) are computed from the approved
baseline and the snapshot before the tests run (`verify/conformance.py`).
This is one test per host (thousands of paths as thousands of pytest tests
would cost seconds); the plugin reports every path as its own check, with
its own waiver, in the text, JSON and JUnit output.
"""

from __future__ import annotations

from spse_change.verify.conformance import HostConformance

SHOWN = 5


def test_conformance(conformance: HostConformance) -> None:
    failing = conformance.failing()
    shown = "; ".join(f"{e.check_id}: {e.failure}" for e in failing[:SHOWN])
    more = f" (and {len(failing) - SHOWN} more)" if len(failing) > SHOWN else ""
    assert not failing, f"{len(failing)} path(s) differ from the approved baseline: {shown}{more}"
