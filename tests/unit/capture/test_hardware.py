"""Hardware and OS readers on directory-tree fixtures: what the lab's shared kernel cannot vary."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ansible.module_utils import spse_hardware as hw

CPUINFO_2X4_HT = "".join(
    f"processor\t: {n}\nmodel name\t: Intel(R) Xeon(R) Silver 4210 CPU @ 2.20GHz\n"
    f"physical id\t: {n // 8}\nsiblings\t: 8\ncpu cores\t: 4\n"
    "flags\t\t: fpu vme hypervisor\n\n" for n in range(16))


def tree(root: Path, files: dict[str, str]) -> str:
    for rel, text in files.items():
        path = root / rel.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def test_cpu_topology_two_sockets_hyperthreaded(tmp_path: Path) -> None:
    root = tree(tmp_path, {"/proc/cpuinfo": CPUINFO_2X4_HT})
    assert hw.cpu(root) == {"model": "Intel(R) Xeon(R) Silver 4210 CPU @ 2.20GHz", "sockets": 2,
                            "cores": 4, "threads_per_core": 2, "vcpus": 16}


def test_memory_and_dmi(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "/proc/meminfo": "MemTotal:       16314964 kB\nMemFree:  123 kB\n",
        "/sys/class/dmi/id/sys_vendor": "Dell Inc.\n",
        "/sys/class/dmi/id/product_name": "PowerEdge R740\n",
        "/sys/class/dmi/id/product_serial": "9ZZ8Q21\n",
    })
    assert hw.memory(root) == {"total_mb": 15932}
    assert hw.dmi(root) == {"vendor": "Dell Inc.", "product": "PowerEdge R740",
                            "serial": "9ZZ8Q21", "bios_version": None}


@pytest.mark.parametrize("files, expected", [
    ({"/etc/os-release": 'ID=debian\nVERSION_ID="12"\n', "/etc/debian_version": "12.11\n"},
     {"distribution": "Debian", "version": "12.11", "major_version": "12", "family": "Debian"}),
    ({"/etc/os-release": 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n',
      "/etc/debian_version": "bookworm/sid\n"},
     {"distribution": "Ubuntu", "version": "22.04", "major_version": "22", "family": "Debian"}),
    ({"/etc/os-release": 'ID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n',
      "/etc/redhat-release": "CentOS Linux release 7.9.2009 (Core)\n"},
     {"distribution": "CentOS", "version": "7.9.2009", "major_version": "7", "family": "RedHat"}),
    ({"/etc/redhat-release": "CentOS release 6.10 (Final)\n"},
     {"distribution": "CentOS", "version": "6.10", "major_version": "6", "family": "RedHat"}),
])
def test_distribution(tmp_path: Path, files: dict[str, str], expected: dict) -> None:
    assert hw.distribution(tree(tmp_path, files)) == expected


def test_block_devices_leave_out_loop_devices(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "/sys/block/sda/size": "1953525168\n", "/sys/block/sda/queue/rotational": "1\n",
        "/sys/block/sda/device/model": "ST1000NM0033\n",
        "/sys/block/loop0/size": "1024\n",
        "/sys/block/dm-3/size": "2048\n", "/sys/block/dm-3/dm/name": "vg0-home-real\n",
    })
    assert hw.block_devices(root) == {
        "sda": {"size_bytes": 1953525168 * 512, "model": "ST1000NM0033", "rotational": True},
        "dm-3": {"size_bytes": 2048 * 512, "model": None, "rotational": False,
                 "dm_name": "vg0-home-real"}}


def test_mounts_keep_devices_and_shares_only(tmp_path: Path) -> None:
    root = tree(tmp_path, {"/proc/mounts": (
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        "proc /proc proc rw 0 0\n"
        "tmpfs /run tmpfs rw 0 0\n"
        "/dev/mapper/vg-file /home/file/file\\040prod xfs rw,noatime 0 0\n"
        "nas:/export/backup /mnt/backup nfs4 rw 0 0\n")})

    def statvfs(path: str) -> os.statvfs_result:
        assert not path.startswith("/mnt"), "never statvfs a network share"
        return os.statvfs_result((4096, 4096, 1000, 0, 0, 0, 0, 0, 0, 255))

    assert hw.mounts(root, statvfs) == {
        "/": {"device": "/dev/sda1", "fstype": "ext4", "size_bytes": 4096000,
              "options": "rw,relatime"},
        "/home/file/file prod": {"device": "/dev/mapper/vg-file", "fstype": "xfs",
                                 "size_bytes": 4096000, "options": "rw,noatime"},
        "/mnt/backup": {"device": "nas:/export/backup", "fstype": "nfs4", "size_bytes": None,
                        "options": "rw"},
    }


def test_interfaces_from_sysfs_and_ip_addr(tmp_path: Path) -> None:
    root = tree(tmp_path, {
        "/sys/class/net/eth0/address": "52:54:00:12:34:56\n", "/sys/class/net/eth0/type": "1\n",
        "/sys/class/net/eth0/mtu": "1500\n", "/sys/class/net/eth0/speed": "1000\n",
        "/sys/class/net/lo/address": "00:00:00:00:00:00\n", "/sys/class/net/lo/type": "772\n",
        "/sys/class/net/lo/mtu": "65536\n",
    })
    ip = ("1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n"
          "2: eth0    inet 10.10.1.12/24 brd 10.10.1.255 scope global eth0\\ ...\n"
          "2: eth0    inet6 fe80::5054:ff:fe12:3456/64 scope link \\ ...\n"
          "2: eth0    inet6 2001:db8::12/64 scope global \\ ...\n")
    assert hw.interfaces(ip, root) == {
        "eth0": {"mac": "52:54:00:12:34:56", "type": "ether", "mtu": 1500, "speed": 1000,
                 "ipv4": ["10.10.1.12/24"], "ipv6": ["2001:db8::12/64"]},
        "lo": {"mac": None, "type": "loopback", "mtu": 65536, "speed": None,
               "ipv4": ["127.0.0.1/8"], "ipv6": []},
    }


def test_virtualization_hints(tmp_path: Path) -> None:
    assert hw.virtualization(str(tmp_path), "kvm\n") == {"type": "kvm", "role": "guest"}
    assert hw.virtualization(str(tmp_path), "none\n") == {"type": None, "role": None}
    root = tree(tmp_path, {"/sys/class/dmi/id/product_name": "VMware Virtual Platform\n"})
    assert hw.virtualization(root) == {"type": "VMware", "role": "guest"}
