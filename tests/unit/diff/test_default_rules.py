"""Every shipped rule has an example it classifies, so rules and docs cannot drift apart."""

from __future__ import annotations

import re
from typing import Any

import pytest

from spse_change.diff import Change, Policy, classify

CONF = "config[/etc/postgresql/15/main/postgresql.conf]"
NIC = {"mac": "52:54:00:ab:cd:ef", "type": "ether", "mtu": 1500}

# rule id -> (path, kind, old, new); the class expected is the rule's own.
EXAMPLES: dict[str, tuple[str, str, Any, Any]] = {
    "HW001": ("hardware.cpu.model", "changed", "Xeon Silver 4210R", "Xeon Gold 6338"),
    "HW002": ("hardware.memory.total_mb", "changed", 32768, 65536),
    "HW003": ("hardware.block_devices.sdc", "added", None, {"size_bytes": 1}),
    "HW004": ("hardware.block_devices.sda.size_bytes", "changed", 480103981056, 960197124096),
    "HW005": ("hardware.mounts./srv/backup", "added", None, {"device": "/dev/sdc1"}),
    "HW006": ("hardware.mounts./.fstype", "changed", "ext4", "xfs"),
    "HW007": ("hardware.mounts./.options", "changed", "rw", "rw,noatime"),
    "HW008": ("hardware.interfaces.eth1", "added", None, NIC),
    "HW009": ("hardware.interfaces.eth0.mac", "changed", "52:54:00:12:34:56", "52:54:00:99:88:77"),
    "HW010": ("hardware.interfaces.eth0.speed", "changed", 1000, 10000),
    "HW011": ("hardware.interfaces.eth0.ipv4", "changed", ["10.0.0.2/24"], ["10.0.0.3/24"]),
    "HW012": ("hardware.dmi.serial", "changed", "7XK2Q83", "9ZZ8Q21"),
    "HW013": ("hardware.dmi.bios_version", "changed", "2.12.2", "2.19.1"),
    "HW014": ("hardware.virtualization.type", "changed", "kvm", "vmware"),
    "OS001": ("os.major_version", "changed", "12", "13"),
    "OS002": ("os.version", "changed", "12.7", "12.8"),
    "OS003": ("os.kernel", "changed", "6.1.0-26-amd64", "6.1.0-27-amd64"),
    "OS004": ("os.architecture", "changed", "i686", "x86_64"),
    "OS005": ("os.time_sync.synchronized", "changed", True, False),
    "OS006": ("os.timezone", "changed", "UTC", "Asia/Jakarta"),
    "DB001": ("database.server_version_num", "changed", "90624", "100023"),
    "DB002": ("database.server_version", "changed", "9.5.25", "9.6.24"),
    "DB003": ("database.server_version", "changed", "15.13", "15.14"),
    "DB004": ("database.settings.work_mem.setting", "changed", "16384", "32768"),
    "DB005": ("database.databases.epns_lat", "removed", {"owner": "epns"}, None),
    "DB006": ("database.extensions.epns_prod.pg_trgm", "changed", "1.5", "1.6"),
    "PKG000": ("packages.postgresql-common", "changed", "248", "278"),
    "PKG001": ("packages.postgresql-16", "added", None, "16.9-1"),
    "PKG002": ("packages.openjdk-17-jre-headless", "changed", "17.0.13+11-2", "21.0.5+11-1"),
    "PKG003": ("packages.openssl", "changed", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1"),
    "PKG004": ("packages[python3.13]", "added", None, "3.13.5-2"),
    "SPSE001": ("spse.instances.spse4_latihan", "added", None, {"version": "4.5"}),
    "SPSE002": ("spse.instances.spse4.version", "changed", "4.5u20240815", "4.6u20250301"),
    "SPSE003": ("spse.instances.spse4.java_version", "changed", "1.8.0_412", "11.0.2"),
    "SPSE004": ("spse.instances.spse4.java_version", "changed", "1.8.0_402", "1.8.0_412"),
    "SPSE005": ("spse.instances.spse4.http_port", "changed", 9009, 9010),
    "SPSE006": ("spse.instances.spse4.path", "changed", "/home/appserv/spse4", "/opt/spse4"),
    "SPSE007": ("spse.file_stores./home/file/file_prod.mount", "changed", "/home", "/home/file"),
    "CFG001": (f"{CONF}.parsed.shared_buffers", "changed", "8GB", "12GB"),
    "SVC001": ("services.cron.enabled", "changed", True, False),
    "PORT001": ("ports.tcp/0.0.0.0:5432", "added", None, {"process": "postgres"}),
}


def test_every_default_rule_has_an_example(policy: Policy) -> None:
    assert sorted(EXAMPLES) == sorted(rule.id for rule in policy.rules)


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_default_rule_classifies_its_example(policy: Policy, rule_id: str) -> None:
    path, kind, old, new = EXAMPLES[rule_id]
    rule = next(rule for rule in policy.rules if rule.id == rule_id)
    category = re.match(r"[^.\[]+", path)[0]  # type: ignore[index]
    result = classify(Change(path, kind, old, new, category), policy)  # type: ignore[arg-type]
    assert (result.rule_id, result.cls) == (rule_id, rule.cls)
    assert rule.description and rule.reason and rule.origin == "default"
