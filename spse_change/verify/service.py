"""`verify_hosts`: snapshot every host in one playbook run, then run the checks locally with pytest.

    result = verify_hosts(VerifyRequest(project, inventory=(Path("inventory/lpse"),)))
    result.failed          # True when any check failed (waived ones do not count)

`expected` overrides the approved baseline per host: `apply` passes the
state a change plans (the approved baseline with the change applied), so
conformance is judged against it; records are then not consulted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from spse_change.diff import load_policy
from spse_change.errors import SpseChangeError
from spse_change.project import Project
from spse_change.records import RecordStore
from spse_change.runner.playbook import ProgressHandler
from spse_change.store.baselines import BaselineStore
from spse_change.verify.conformance import Expectation, expected_state
from spse_change.verify.hostview import SnapshotHost
from spse_change.verify.plugin import NAME, CheckResult, VerifyPlugin
from spse_change.verify.registry import CONFORMANCE, load_registry
from spse_change.verify.snapshot import Snapshot, take_snapshots
from spse_change.verify.waivers import load_waivers

CHECKS = Path(__file__).with_name("checks")
SCHEMA = "spse-change/verify/1"


@dataclass(frozen=True)
class VerifyRequest:
    project: Project
    inventory: Sequence[Path] = ()
    limit: str | None = None
    verbosity: int = 0
    vault_password_file: Path | None = None
    become_password: str | None = field(default=None, repr=False)
    expected: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # host -> baseline
    today: dt.date | None = None  # for waivers' expiry; default: today
    via: str | None = None  # an execution node that runs the playbook (docs/nodes.md)


@dataclass
class VerifyResult:
    results: list[CheckResult] = field(default_factory=list)
    interrupted: signal.Signals | None = None
    unfinished: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(r.outcome in ("failed", "error") for r in self.results) or bool(self.unfinished)

    def by_host(self) -> dict[str, list[CheckResult]]:
        hosts: dict[str, list[CheckResult]] = {}
        for result in sorted(self.results, key=lambda r: (r.host, r.check)):
            hosts.setdefault(result.host, []).append(result)
        return hosts

    def to_json(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "interrupted": self.interrupted.name if self.interrupted else None,
                "unfinished": self.unfinished,
                "hosts": {host: {"failed": sum(r.outcome in ("failed", "error") for r in found),
                                 "waived": sum(r.outcome == "waived" for r in found),
                                 "passed": sum(r.outcome == "passed" for r in found),
                                 "checks": [r.to_json() for r in found]}
                          for host, found in self.by_host().items()}}


def verify_hosts(request: VerifyRequest, progress: ProgressHandler | None = None) -> VerifyResult:
    project = request.project
    load_waivers(project.root, load_registry(project.root))  # bad input: exit 2 before any host runs
    snapshots = take_snapshots(project, request.inventory, request.limit, request.verbosity,
                               request.vault_password_file, request.become_password, progress,
                               request.via)
    result = VerifyResult(interrupted=snapshots.interrupted, unfinished=snapshots.unfinished)
    result.results += [CheckResult(host, "snapshot", "failed", why)
                       for host, why in snapshots.failed.items()]
    if not snapshots.interrupted and snapshots.hosts:
        result.results += run_checks(project, snapshots.hosts, request.expected,
                                     request.today or dt.date.today())
    return result


def run_checks(project: Project, snapshots: Mapping[str, Snapshot],
               expected: Mapping[str, Mapping[str, Any]] | None = None,
               today: dt.date | None = None) -> list[CheckResult]:
    """The checks on snapshots already taken: standard checks, then conformance, waivers applied."""
    registry = load_registry(project.root)
    waivers = load_waivers(project.root, registry)
    hosts = {name: SnapshotHost(snap) for name, snap in snapshots.items()}
    expectations = _expectations(project, hosts, expected or {})
    plugin = VerifyPlugin(hosts, registry, expectations, waivers, today or dt.date.today())
    _run_checks(plugin)
    return plugin.results


def _expectations(project: Project, hosts: Mapping[str, SnapshotHost],
                  expected: Mapping[str, Mapping[str, Any]]) -> dict[str, list[Expectation]]:
    store = BaselineStore(project.records_dir)
    policy = load_policy(project.root)
    records = RecordStore(project)
    found: dict[str, list[Expectation]] = {}
    for name, host in hosts.items():
        if name in expected:
            found[name] = expected_state(expected[name], host.snapshot.baseline, policy)
            continue
        approved = store.approved_id(name)
        if approved is None:
            found[name] = [Expectation("", "", "no approved baseline: spse-change baseline "
                                       f"approve {name}@latest --reason TEXT")]
            continue
        found[name] = expected_state(store.load(f"{name}@approved"), host.snapshot.baseline, policy,
                                     records.covering(name, approved))
    return found


def _run_checks(plugin: VerifyPlugin) -> None:
    """pytest in this process, quiet: the service returns data, the CLI prints."""
    args = [str(CHECKS), "-c", str(CHECKS / "pytest.ini"), "--rootdir", str(CHECKS),
            "-p", "no:cacheprovider", "--assert=plain", "-q"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = pytest.main(args, plugins=[_Named(plugin)])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
        raise SpseChangeError(f"the verify checks did not run (pytest exit {int(code)}): "
                              f"{lines[-1] if lines else 'no output'}", code=3)


class _Named:
    """Registers the plugin under its name so the checks' conftest finds it."""

    def __init__(self, plugin: VerifyPlugin) -> None:
        self.plugin = plugin

    def pytest_configure(self, config: pytest.Config) -> None:
        config.pluginmanager.register(self.plugin, NAME)


__all__ = ["CONFORMANCE", "VerifyRequest", "VerifyResult", "run_checks", "verify_hosts"]
