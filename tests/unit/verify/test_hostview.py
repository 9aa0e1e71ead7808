"""The snapshot host answers testinfra's questions from the snapshot, and raises when it cannot."""

from __future__ import annotations

import pytest

from spse_change.verify.hostview import NotInSnapshot, SnapshotHost
from tests.unit.verify.conftest import HBA, snapshot


def test_service_socket_and_file_answer_from_the_snapshot():
    host = SnapshotHost(snapshot())
    assert host.service("postgresql").is_running and host.service("postgresql").is_enabled
    assert not host.service("nginx").exists and not host.service("nginx").is_running
    assert host.socket("tcp://127.0.0.1:5432").is_listening
    assert host.socket("tcp://[::1]:5432").is_listening
    assert host.socket("tcp://443").is_listening
    assert not host.socket("tcp://0.0.0.0:5432").is_listening
    hba = host.file(HBA)
    assert (hba.exists, hba.user, hba.group, hba.mode, hba.kind) == (
        True, "postgres", "postgres", "0640", "pg_hba")
    assert [f.path for f in host.files(kind="crontab")] == ["/etc/cron.d/spse-backup"]
    assert not host.file("/etc/nope").exists


def test_what_the_snapshot_lacks_raises():
    host = SnapshotHost(snapshot(incomplete={"database": "psql: connection refused"}))
    with pytest.raises(NotInSnapshot, match="database not captured: psql: connection refused"):
        host.postgres_clusters()
    with pytest.raises(NotInSnapshot, match="/etc/nope: no parsed content"):
        _ = host.file("/etc/nope").parsed
