"""Every shipped rule has examples it takes and near misses it must leave to another rule.

As ansible-lint does with its pass/fail fixtures: the test asserts exactly
which examples each rule takes, so a pattern that grows or shrinks fails.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from spse_change.diff import Change, Policy, classify

CONF = "config[/etc/postgresql/15/main/postgresql.conf]"
NIC = {"mac": "52:54:00:ab:cd:ef", "type": "ether", "mtu": 1500}
VOLUME = {"device": "/dev/sdc1", "fstype": "xfs", "size_bytes": 10**12, "options": "rw"}
SNAP = {"device": "/dev/loop3", "fstype": "squashfs", "size_bytes": 0, "options": "ro"}
DISK = {"size_bytes": 10**12, "model": "PERC", "rotational": False}
Example = tuple[str, str, Any, Any]  # path, kind, old, new


def added(path: str, value: Any) -> Example:
    return (path, "added", None, value)


def removed(path: str, value: Any) -> Example:
    return (path, "removed", value, None)


# rule id -> examples the rule must take (its class is the rule's own)
PASS: dict[str, list[Example]] = {
    "HW015": [added("hardware.interfaces.veth3f2a1b", NIC), added("hardware.interfaces.tun0", NIC),
              removed("hardware.interfaces.tap0", NIC), added("hardware.interfaces.docker0", NIC),
              added("hardware.interfaces.br-5e2c9a", NIC), added("hardware.interfaces.virbr0", NIC),
              ("hardware.interfaces.tun0.ipv4", "changed", ["10.8.0.2/24"], ["10.8.0.6/24"])],
    "HW016": [added("hardware.mounts[/snap/core20/2379]", SNAP),
              ("hardware.mounts[/snap/lxd/1].size_bytes", "changed", 1, 2)],
    "HW017": [added("hardware.mounts[/var/lib/snapd/snap/core/1]", SNAP)],
    "HW018": [added("hardware.block_devices.loop0", DISK), removed("hardware.block_devices.zram0", DISK),
              ("hardware.block_devices.loop7.size_bytes", "changed", 1, 2)],
    "HW020": [added("hardware.block_devices.vg0-backup-cow", DISK),
              added("hardware.block_devices.vg0-root-real", DISK)],
    "HW021": [added("hardware.block_devices.dm-4", {**DISK, "dm_name": "centos-snap-cow"}),
              removed("hardware.block_devices.dm-3", {**DISK, "dm_name": "centos-root-real"})],
    "HW001": [("hardware.cpu.model", "changed", "Xeon Silver 4210R", "Xeon Gold 6338")],
    "HW002": [("hardware.memory.total_mb", "changed", 32768, 65536)],
    "HW003": [added("hardware.block_devices.sdc", DISK)],
    "HW004": [("hardware.block_devices.sda.size_bytes", "changed", 480103981056, 960197124096)],
    "HW005": [added("hardware.mounts[/srv/data1]", VOLUME)],
    "HW006": [("hardware.mounts[/].fstype", "changed", "ext4", "xfs")],
    "HW007": [("hardware.mounts[/].options", "changed", "rw", "rw,noatime")],
    "HW008": [added("hardware.interfaces.eth1", NIC)],
    "HW009": [("hardware.interfaces.eth0.mac", "changed", "52:54:00:12:34:56", "52:54:00:99:88:77")],
    "HW010": [("hardware.interfaces.eth0.speed", "changed", 1000, 10000)],
    "HW011": [("hardware.interfaces.eth0.ipv4", "changed", ["10.0.0.2/24"], ["10.0.0.3/24"])],
    "HW012": [("hardware.dmi.serial", "changed", "7XK2Q83", "9ZZ8Q21")],
    "HW013": [("hardware.dmi.bios_version", "changed", "2.12.2", "2.19.1")],
    "HW014": [("hardware.virtualization.type", "changed", "kvm", "vmware")],
    "OS001": [("os.major_version", "changed", "12", "13")],
    "OS002": [("os.version", "changed", "12.7", "12.8")],
    "OS003": [("os.kernel", "changed", "6.1.0-26-amd64", "6.1.0-27-amd64")],
    "OS004": [("os.architecture", "changed", "i686", "x86_64")],
    "OS005": [("os.time_sync.synchronized", "changed", True, False)],
    "OS006": [("os.timezone", "changed", "UTC", "Asia/Jakarta")],
    "DB001": [("database.server_version_num", "changed", "90624", "100023"),
              ("database_5433.server_version_num", "changed", "130016", "150008")],
    "DB002": [("database.server_version", "changed", "9.5.25", "9.6.24"),
              ("database_5433.server_version", "changed", "13.16", "15.8")],
    "DB003": [("database.server_version", "changed", "15.13", "15.14"),
              ("database_5433.server_version_num", "changed", "130016", "130018")],
    "DB004": [("database.settings.work_mem.setting", "changed", "16384", "32768"),
              ("database_5433.settings.work_mem.setting", "changed", "4096", "8192")],
    "DB005": [removed("database.databases.epns_lat", {"owner": "epns"}),
              added("database_5433.databases.epns_arsip", {"owner": "epns"})],
    "DB006": [("database.extensions.epns_prod.pg_trgm", "changed", "1.5", "1.6"),
              ("database_5433.extensions.epns_arsip.pg_trgm", "changed", "1.5", "1.6")],
    "PKG000": [("packages.postgresql-common", "changed", "248", "278")],
    "PKG005": [added("packages.openjdk-17-jre-headless", "17.0.13+11-2"),
               removed("packages[java-1.8.0-openjdk]", "1:1.8.0.412.b08-1.el7_9")],
    "PKG001": [added("packages.postgresql-16", "16.9-1"), removed("packages.httpd", "2.4.6-99.el7")],
    "PKG002": [("packages.openjdk-17-jre-headless", "changed", "17.0.13+11-2", "21.0.5+11-1")],
    "PKG003": [("packages.openssl", "changed", "3.0.15-1~deb12u1", "3.0.16-1~deb12u1")],
    "PKG004": [added("packages[python3.13]", "3.13.5-2")],
    "SPSE001": [added("spse.instances.spse4_latihan", {"version": "4.5"})],
    "SPSE002": [("spse.instances.spse4.version", "changed", "4.5u20240815", "4.6u20250301")],
    "SPSE003": [("spse.instances.spse4.java_version", "changed", "1.8.0_412", "11.0.2")],
    "SPSE004": [("spse.instances.spse4.java_version", "changed", "1.8.0_402", "1.8.0_412")],
    "SPSE005": [("spse.instances.spse4.http_port", "changed", 9009, 9010)],
    "SPSE006": [("spse.instances.spse4.path", "changed", "/home/appserv/spse4", "/opt/spse4")],
    "SPSE007": [("spse.file_stores[/home/file/file_prod].mount", "changed", "/home", "/home/file")],
    "SPSE008": [("spse.instances.spse4.java_home", "changed",
                 "/usr/lib/jvm/java-1.8.0-openjdk-1.8.0.402", "/usr/lib/jvm/java-1.8.0-openjdk-1.8.0.412")],
    "SPSE009": [added("spse.jdks[/usr/lib/jvm/java-17-openjdk-amd64]", {"version": "17.0.13"}),
                ("spse.jdks[/opt/jdk8].version", "changed", "1.8.0_402", "1.8.0_412")],
    "CFG001": [(f"{CONF}.parsed.shared_buffers", "changed", "8GB", "12GB"),
               ("config[/etc/ssh/sshd_config].parsed.port", "changed", "22", "2222")],
    "SVC001": [("services.cron.enabled", "changed", True, False)],
    "PORT001": [added("ports[tcp/0.0.0.0:5432]", {"process": "postgres"}),
                removed("ports[tcp/[::]:22]", {"process": "sshd"})],
}

# rule id -> near misses: (example, the rule that must take it instead)
FAIL: dict[str, list[tuple[Example, str]]] = {
    "HW015": [(added("hardware.interfaces.eth1", NIC), "HW008"),
              (added("hardware.interfaces.br0", NIC), "HW008"),
              (added("hardware.interfaces.ens192", NIC), "HW008")],
    "HW016": [(added("hardware.mounts[/srv/data1]", VOLUME), "HW005"),
              (added("hardware.mounts[/srv/snap]", VOLUME), "HW005")],
    "HW017": [(added("hardware.mounts[/srv/data1]", VOLUME), "HW005"),
              # the lab adds its disk through a loop device: still a volume, still major
              (added("hardware.mounts[/srv/data1]", {**VOLUME, "device": "/dev/loop9",
                                                     "fstype": "ext4"}), "HW005"),
              (("hardware.mounts[/media/img].fstype", "changed", "squashfs", "xfs"), "HW006")],
    "HW018": [(added("hardware.block_devices.sdb", DISK), "HW003"),
              (added("hardware.block_devices.nvme0n1", DISK), "HW003")],
    "HW020": [(removed("hardware.block_devices.dm-0", DISK), "HW003"),
              (added("hardware.block_devices.vg0-data", DISK), "HW003")],
    "HW021": [(added("hardware.block_devices.dm-2", {**DISK, "dm_name": "centos-home"}), "HW003"),
              (("hardware.block_devices.dm-0.size_bytes", "changed", 1, 2), "HW004")],
    "DB004": [(("os.database_hint", "changed", 1, 2), "UNMATCHED")],
    "PKG005": [(added("packages.postgresql-16", "16.9-1"), "PKG001"),
               (added("packages.javascript-common", "11"), "PKG004")],
    "SPSE003": [(("spse.instances.spse4.java_version", "changed", "1.8.0_402", "1.8.0_412"),
                 "SPSE004")],
}


def run(policy: Policy, example: Example) -> str:
    path, kind, old, new = example
    category = re.match(r"[^.\[]+", path)[0]  # type: ignore[index]
    return classify(Change(path, kind, old, new, category), policy).rule_id  # type: ignore[arg-type]


def test_every_default_rule_has_an_example(policy: Policy) -> None:
    assert sorted(PASS) == sorted(rule.id for rule in policy.rules)
    assert set(FAIL) <= set(PASS)


@pytest.mark.parametrize("rule_id", sorted(PASS))
def test_default_rule_takes_exactly_its_examples(policy: Policy, rule_id: str) -> None:
    rule = next(rule for rule in policy.rules if rule.id == rule_id)
    misses = [example for example, _ in FAIL.get(rule_id, [])]
    taken = [example for example in PASS[rule_id] + misses if run(policy, example) == rule_id]
    assert taken == PASS[rule_id]
    assert len(taken) == len(PASS[rule_id])
    assert rule.description and rule.reason and rule.origin == "default"


@pytest.mark.parametrize("rule_id", sorted(FAIL))
def test_near_misses_go_to_the_right_rule(policy: Policy, rule_id: str) -> None:
    assert [run(policy, example) for example, _ in FAIL[rule_id]] == [
        instead for _, instead in FAIL[rule_id]]


@pytest.mark.parametrize(("rule_id", "cls"), [
    ("HW015", "ignore"), ("HW016", "ignore"), ("HW017", "ignore"), ("HW018", "ignore"),
    ("HW020", "ignore"), ("HW021", "ignore"), ("HW005", "major"),
    ("HW008", "major"), ("PKG005", "minor"), ("SPSE008", "minor"), ("SPSE009", "minor"),
])
def test_transient_devices_ignored_and_lab_hardware_major(policy: Policy, rule_id: str,
                                                          cls: str) -> None:
    """The lab adds eth1 and a disk at /srv/data1: those stay major; VPNs and snaps do not count."""
    assert next(rule.cls for rule in policy.rules if rule.id == rule_id) == cls
