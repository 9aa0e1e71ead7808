"""The standard checks for SPSE servers (ids and descriptions: `default_verify.yml`).

Each test runs once per host of its check's groups; `host` answers from
the snapshot (`hostview.SnapshotHost`), `settings` holds the thresholds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest

from spse_change.verify.hostview import SnapshotHost

LOOPBACK = {"127.0.0.1", "::1"}


@pytest.mark.spse_check("ssh-key-only")
def test_ssh_key_only(host: SnapshotHost) -> None:
    sshd = host.facts["sshd"]
    assert not sshd["error"], sshd["error"]
    effective = sshd["settings"]
    allowing = [name for name in ("passwordauthentication", "kbdinteractiveauthentication",
                                  "challengeresponseauthentication", "permitemptypasswords")
                if effective.get(name) == "yes"]
    assert not allowing, f"sshd -T: {', '.join(f'{n} yes' for n in allowing)} (keys only: set them to no)"
    assert effective.get("pubkeyauthentication", "yes") == "yes", "sshd -T: pubkeyauthentication no"


def _allowed(listen_addresses: str) -> tuple[set[str], bool]:
    """Addresses listen_addresses allows, and whether it allows every address."""
    allowed: set[str] = set()
    for entry in (e.strip() for e in listen_addresses.split(",")):
        if entry in ("*", "0.0.0.0", "::"):
            return allowed, True
        if entry == "localhost":
            allowed |= LOOPBACK
        elif entry:
            allowed.add(entry)
    return allowed, False


@pytest.mark.spse_check("pg-listen")
def test_postgres_listens_only_where_configured(host: SnapshotHost) -> None:
    clusters = host.postgres_clusters()
    assert clusters, "no PostgreSQL cluster captured"
    listeners = [s for s in host.listeners() if s.process in ("postgres", "postmaster")]
    wrong = []
    for name, settings in clusters.items():
        port = int(settings["port"]["setting"])
        allowed, everywhere = _allowed(settings["listen_addresses"]["setting"])
        mine = [s for s in listeners if s.port == port and s.proto == "tcp"]
        wrong += [f"{s.address}:{s.port} ({name}: listen_addresses="
                  f"'{settings['listen_addresses']['setting']}')"
                  for s in mine if not everywhere and s.address not in allowed]
    ports = {int(s["port"]["setting"]) for s in clusters.values()}
    wrong += [f"{s.address}:{s.port} (no cluster is configured for this port)"
              for s in listeners if s.proto == "tcp" and s.port not in ports]
    assert not wrong, f"PostgreSQL listens where it is not configured to: {'; '.join(wrong)}"


@pytest.mark.spse_check("pg-hba-no-trust")
def test_pg_hba_has_no_trust(host: SnapshotHost) -> None:
    files = list(host.files(kind="pg_hba"))
    assert files, "no pg_hba.conf captured"
    trusting = [f"{f.path}: {rule}" for f in files
                for rule, entry in f.parsed.get("rules", {}).items() if entry.get("method") == "trust"]
    assert not trusting, f"trust authentication (no password): {'; '.join(trusting)}"


@pytest.mark.spse_check("apache-configtest")
def test_apache_config_test_passes(host: SnapshotHost) -> None:
    test = host.facts["apache_configtest"]
    assert test["command"], test["output"]
    assert test["rc"] == 0, f"{' '.join(test['command'])} exited {test['rc']}: {test['output']}"


@pytest.mark.spse_check("https-cert")
def test_https_certificate_not_expiring(host: SnapshotHost, settings: Mapping[str, Any]) -> None:
    https = host.facts["https"]
    assert https["not_after"] is not None, https["error"] or "no certificate read"
    days = (https["not_after"] - time.time()) / 86400
    expires = time.strftime("%Y-%m-%d", time.gmtime(https["not_after"]))
    assert days >= settings["cert_min_days"], (
        f"certificate on port {https['port']} expires {expires} ({days:.0f} days; "
        f"at least {settings['cert_min_days']} wanted)" if days >= 0
        else f"certificate on port {https['port']} expired on {expires}")


@pytest.mark.spse_check("app-answers")
def test_application_answers_through_apache(host: SnapshotHost, settings: Mapping[str, Any]) -> None:
    https = host.facts["https"]
    assert https["status"] is not None, https["error"]
    assert https["status"] in settings["app_ok_status"], (
        f"GET https://127.0.0.1:{https['port']}{https['path']} answered {https['status']}")


@pytest.mark.spse_check("time-sync")
def test_time_synchronised(host: SnapshotHost) -> None:
    sync = host.category("os").get("time_sync") or {}
    assert sync.get("service"), "no chrony or ntpd found"
    assert sync.get("synchronized"), f"{sync['service']} reports the clock not synchronised"


@pytest.mark.spse_check("db-backup-job")
def test_database_backup_scheduled(host: SnapshotHost, settings: Mapping[str, Any]) -> None:
    commands = set(settings["backup_commands"])
    jobs = [f"{f.path}: {entry}" for f in host.files(kind="crontab")
            for entry in f.parsed.get("entries", [])
            if commands & {word.rpartition("/")[2] for word in entry.split()}]
    assert jobs, f"no cron entry runs {', '.join(sorted(commands))}"


@pytest.mark.spse_check("free-space")
def test_free_space(host: SnapshotHost, settings: Mapping[str, Any]) -> None:
    volumes = host.facts["volumes"]
    assert volumes, "none of the data or file-store folders exists (spse_verify_volumes)"
    low = []
    for path, vol in sorted(volumes.items()):
        free_pct = 100 * vol["free_bytes"] / vol["size_bytes"] if vol["size_bytes"] else 0
        free_mb = vol["free_bytes"] / 2**20
        if free_pct < settings["free_space_min_percent"] or free_mb < settings["free_space_min_mb"]:
            low.append(f"{path} (on {vol['mount']}): {free_mb:.0f} MB free, {free_pct:.1f}%")
    assert not low, (f"below {settings['free_space_min_percent']}% / {settings['free_space_min_mb']} MB"
                     f" free: {'; '.join(low)}")
