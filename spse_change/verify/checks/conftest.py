"""How verify's checks get their hosts: each `@pytest.mark.spse_check(ID)` test runs once per host
of the check's groups, with `host` (a `SnapshotHost`) and `settings` (thresholds) as arguments.

To add a check: give it an id in `default_verify.yml` (or the project's
checks) and write a test here that takes `host`, marked with that id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from spse_change.verify.plugin import MARKER, NAME, VerifyPlugin


def _plugin(config: pytest.Config) -> VerifyPlugin:
    plugin = config.pluginmanager.get_plugin(NAME)
    if plugin is None:
        raise pytest.UsageError("these checks run through `spse-change verify`")
    return plugin


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    plugin = _plugin(metafunc.config)
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is not None:
        check = plugin.registry.check(marker.args[0])
        hosts = [h for h in plugin.hosts.values() if check.applies_to(h.groups)]
        metafunc.parametrize("host", hosts, ids=[h.name for h in hosts])
    elif "conformance" in metafunc.fixturenames:
        found = [plugin.conformance(host) for host in plugin.expectations]
        metafunc.parametrize("conformance", found, ids=[c.host for c in found])


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Mapping[str, Any]:
    """The checks' thresholds (default_verify.yml, overridden by the project's verify.yml)."""
    return _plugin(request.config).settings
