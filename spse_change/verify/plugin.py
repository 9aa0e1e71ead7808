"""The pytest plugin `spse-change verify` runs its checks with: data in, one result per (host, check) out.

The checks (`checks/test_*.py`) are ordinary pytest tests: a standard check
is a test function marked `@pytest.mark.spse_check("ID")`, run once per
host of the check's groups (`checks/conftest.py`); the conformance test
runs once per host, and each path it expects is reported as its own check.
This plugin names each test's outcome by host and check id, and applies
waivers: an active waiver turns a failure into `waived`; an expired one
leaves the failure and says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from spse_change.diff.values import masked
from spse_change.verify.conformance import Expectation, HostConformance, host_conformance
from spse_change.verify.hostview import NotInSnapshot, SnapshotHost
from spse_change.verify.registry import CONFORMANCE, Registry
from spse_change.verify.waivers import Waiver

NAME = "spse_verify"
MARKER = "spse_check"


@dataclass(frozen=True)
class CheckResult:
    host: str
    check: str
    outcome: str  # passed | failed | waived | error
    message: str = ""
    waiver: str = ""  # what a waiver says about this result (active or expired)

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "outcome": self.outcome, "message": self.message,
                "waiver": self.waiver}


@dataclass
class VerifyPlugin:
    """Registered under the name `spse_verify`; the checks' conftest reads `hosts`, `registry`,
    `settings` and `conformance(host)` from it."""

    hosts: Mapping[str, SnapshotHost]
    registry: Registry
    expectations: Mapping[str, list[Expectation]]
    waivers: Mapping[tuple[str, str], Waiver]
    today: dt.date
    results: list[CheckResult] = field(default_factory=list)

    @property
    def settings(self) -> Mapping[str, Any]:
        return self.registry.settings

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", f"{MARKER}(id): the standard check this test is")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Iterator[None]:
        outcome = yield
        report = outcome.get_result()
        if report.skipped:  # a check no host of this run is in the groups of (an empty parameter set)
            return
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.results += self._results(item, call)

    def conformance(self, host: str) -> HostConformance:
        """The host's conformance expectations, with the check ids a waiver in force covers."""
        return host_conformance(host, self.expectations[host], self.waivers, self.today)

    def _results(self, item: pytest.Item, call: pytest.CallInfo[None]) -> list[CheckResult]:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        conformance = params.get("conformance")
        if conformance is None:
            return [self._result(item, call)]
        crashed = call.excinfo is not None and not isinstance(call.excinfo.value, AssertionError)
        if crashed:
            exc = call.excinfo.value
            return [self._judged(conformance.host, CONFORMANCE, "error",
                                 f"the check crashed: {type(exc).__name__}: {exc}")]
        return [self._judged(conformance.host, e.check_id, "failed" if e.failure else "passed", e.failure)
                for e in conformance.expectations]

    def _result(self, item: pytest.Item, call: pytest.CallInfo[None]) -> CheckResult:
        host, check = identify(item)
        state, message = "passed", ""
        if call.excinfo is not None:
            exc = call.excinfo.value
            if isinstance(exc, AssertionError):
                # the check's own message; pytest's introspection (when the checks are imported
                # under an outer pytest's assertion rewriting) follows it as "\nassert ..."
                message = str(exc).split("\nassert ")[0].strip()
                state, message = "failed", message or "assertion failed"
            elif isinstance(exc, NotInSnapshot):
                state, message = "failed", f"not in the snapshot: {exc}"
            else:
                state, message = "error", f"the check crashed: {type(exc).__name__}: {exc}"
        return self._judged(host, check, state, message)

    def _judged(self, host: str, check: str, state: str, message: str) -> CheckResult:
        """The result with its waiver applied: one in force turns a failure into `waived`.

        A secret marker a check quotes (a scrubbed cron line, say) is shown as `***`.
        """
        message = masked(message)
        waiver = self.waivers.get((host, check))
        note = waiver.describe(self.today) if waiver else ""
        if waiver and waiver.active(self.today) and state != "passed":
            state = "waived"
        return CheckResult(host, check, state, message, note)


def identify(item: pytest.Item) -> tuple[str, str]:
    """(host, check id) of a collected check."""
    params = item.callspec.params if hasattr(item, "callspec") else {}
    marker = item.get_closest_marker(MARKER)
    if marker is None or "host" not in params:
        raise pytest.UsageError(f"{item.nodeid}: a verify check needs @pytest.mark.{MARKER}(ID) "
                                "and the `host` argument")
    return params["host"].name, marker.args[0]
