"""Hardware facts read straight from /proc and /sys, with no subprocess but one `ip`.

Ansible's hardware collector answers the same questions but runs lsblk,
findmnt and LVM tools on every call; measured on the lab it was a third of
a whole capture. These readers keep only what a baseline compares, leave
volatile values (free memory, uptime) out, and take ``root`` so they are
unit-tested on directory-tree fixtures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible.module_utils.spse_host import listdir, read_value

ARPHRD = {"1": "ether", "772": "loopback", "32": "infiniband", "512": "ppp", "65534": "tunnel"}
NOT_HARDWARE = ("loop", "ram", "zram")  # their backing volumes show up as mounts


def cpu(root="/"):
    """Model, sockets, cores per socket, threads per core and vCPUs from /proc/cpuinfo."""
    blocks = [b for b in (read_value(root, "/proc/cpuinfo", "") or "").split("\n\n") if b.strip()]
    procs = []
    for block in blocks:
        fields = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "processor" in fields:
            procs.append(fields)
    first = procs[0] if procs else {}
    sockets = len({p.get("physical id", "0") for p in procs}) or None
    cores = int(first.get("cpu cores", 1)) if procs else None
    siblings = int(first.get("siblings", cores or 1)) if procs else None
    return {
        "model": first.get("model name") or first.get("cpu model") or first.get("processor") or None,
        "sockets": sockets,
        "cores": cores,
        "threads_per_core": siblings // cores if cores else None,
        "vcpus": len(procs) or None,
    }


def memory(root="/"):
    match = re.search(r"^MemTotal:\s+(\d+) kB", read_value(root, "/proc/meminfo", "") or "", re.M)
    return {"total_mb": int(match.group(1)) // 1024 if match else None}


def dmi(root="/"):
    """The server's identity: a new product or serial means the server was replaced."""
    base = "/sys/class/dmi/id/"
    return {"vendor": read_value(root, base + "sys_vendor"),
            "product": read_value(root, base + "product_name"),
            "serial": read_value(root, base + "product_serial"),
            "bios_version": read_value(root, base + "bios_version")}


def block_devices(root="/"):
    devices = {}
    for name in listdir(root, "/sys/block"):
        if name.startswith(NOT_HARDWARE):
            continue
        base = "/sys/block/%s/" % name
        sectors = read_value(root, base + "size")  # always 512-byte units
        devices[name] = {
            "size_bytes": int(sectors) * 512 if sectors and sectors.isdigit() else None,
            "model": read_value(root, base + "device/model"),
            "rotational": read_value(root, base + "queue/rotational") == "1",
        }
        if name.startswith("dm-"):  # the LVM name tells a volume from a snapshot's -cow/-real
            devices[name]["dm_name"] = read_value(root, base + "dm/name")
    return devices


def mounts(root="/", statvfs=os.statvfs):
    """Filesystems on a device or network share (Ansible's rule); pseudo filesystems are left out.

    Sizes come from statvfs for local devices only: a hung NFS server must
    not hang the capture.
    """
    result = {}
    for line in (read_value(root, "/proc/mounts", "") or "").splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        device, mount, fstype, options = fields[0], _unescape(fields[1]), fields[2], fields[3]
        network = ":/" in device or device.startswith("//")
        if not (device.startswith("/") or network) or fstype == "none":
            continue
        size = None
        if not network:
            try:
                st = statvfs(mount)
                size = st.f_frsize * st.f_blocks
            except OSError:
                pass
        result[mount] = {"device": device, "fstype": fstype, "size_bytes": size, "options": options}
    return result


def _unescape(path):
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def interfaces(ip_addr_output, root="/"):
    """NICs from /sys/class/net, addresses from `ip -o addr show` (works on iproute2 of any age)."""
    addrs = {}
    for line in ip_addr_output.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[2] not in ("inet", "inet6"):
            continue
        name = fields[1].rstrip(":").split("@")[0]
        scope = fields[fields.index("scope") + 1] if "scope" in fields else "global"
        if fields[2] == "inet6" and scope == "link":
            continue  # derived from the MAC: already compared there
        family = "ipv4" if fields[2] == "inet" else "ipv6"
        addrs.setdefault(name, {"ipv4": [], "ipv6": []})[family].append(fields[3])
    result = {}
    for name in listdir(root, "/sys/class/net"):
        base = "/sys/class/net/%s/" % name
        if name == "bonding_masters":
            continue
        mac = read_value(root, base + "address")
        if os.path.isdir(os.path.join(root, base.lstrip("/"), "bridge")):
            kind = "bridge"
        elif os.path.isdir(os.path.join(root, base.lstrip("/"), "bonding")):
            kind = "bonding"
        else:
            kind = ARPHRD.get(read_value(root, base + "type", ""), "unknown")
        speed = read_value(root, base + "speed")
        mtu = read_value(root, base + "mtu")
        found = addrs.get(name, {"ipv4": [], "ipv6": []})
        result[name] = {
            "mac": None if kind == "loopback" or not mac else mac,
            "type": kind,
            "mtu": int(mtu) if mtu and mtu.isdigit() else None,
            "speed": int(speed) if speed and speed.lstrip("-").isdigit() and int(speed) > 0 else None,
            "ipv4": sorted(found["ipv4"]),
            "ipv6": sorted(found["ipv6"]),
        }
    return result


DISTRIBUTIONS = {"debian": "Debian", "ubuntu": "Ubuntu", "centos": "CentOS", "rhel": "RedHat",
                 "rocky": "Rocky", "almalinux": "AlmaLinux", "ol": "OracleLinux", "fedora": "Fedora"}


def distribution(root="/"):
    """Name, full version and family from os-release, with the files that hold point releases.

    Ansible's own detector would pull its whole fact library into every
    capture; SPSE servers are Debian/Ubuntu or RHEL/CentOS, which this covers
    (CentOS 6 has no os-release: its /etc/redhat-release is read instead).
    """
    fields = {}
    for line in (read_value(root, "/etc/os-release", "") or "").splitlines():
        key, _, value = line.partition("=")
        fields[key.strip()] = value.strip().strip('"')
    ident = fields.get("ID", "").lower()
    like = (fields.get("ID_LIKE", "") + " " + ident).split()
    version = fields.get("VERSION_ID")
    redhat = read_value(root, "/etc/redhat-release") or read_value(root, "/etc/centos-release")
    debian = read_value(root, "/etc/debian_version")
    if ident == "debian" and debian and debian[0].isdigit():
        version = debian  # os-release says "12", debian_version says "12.11"
    elif redhat and (not ident or "rhel" in like or "fedora" in like):
        match = re.search(r"release (\d[\d.]*)", redhat)
        version = match.group(1) if match else version
        if not ident:
            ident = "centos" if redhat.lower().startswith("centos") else "rhel"
    family = ("Debian" if "debian" in like or "ubuntu" in like
              else "RedHat" if {"rhel", "fedora", "centos"} & set(like) or redhat else None)
    return {"distribution": DISTRIBUTIONS.get(ident, ident.capitalize() or None),
            "version": version, "major_version": version.split(".")[0] if version else None,
            "family": family}


def virtualization(root="/", detect_virt_output=None):
    """Guest technology, if any: systemd-detect-virt when it ran, else the kernel's own hints."""
    if detect_virt_output:
        kind = detect_virt_output.strip()
        return {"type": None if kind == "none" else kind, "role": None if kind == "none" else "guest"}
    cgroup = read_value(root, "/proc/1/cgroup", "") or ""
    if "/docker" in cgroup or os.path.exists(os.path.join(root, ".dockerenv")):
        return {"type": "docker", "role": "guest"}
    if "/lxc/" in cgroup:
        return {"type": "lxc", "role": "guest"}
    product = (read_value(root, "/sys/class/dmi/id/product_name", "") or "").lower()
    vendor = (read_value(root, "/sys/class/dmi/id/sys_vendor", "") or "").lower()
    for needle, kind in (("kvm", "kvm"), ("qemu", "kvm"), ("vmware", "VMware"),
                         ("virtualbox", "virtualbox"), ("hvm domu", "xen"), ("xen", "xen"),
                         ("virtual machine", "hyperv"), ("openstack", "openstack")):
        if needle in product or needle in vendor:
            return {"type": kind, "role": "guest"}
    flags = re.search(r"^flags\s*:(.*)$", read_value(root, "/proc/cpuinfo", "") or "", re.M)
    if flags and " hypervisor" in flags.group(1):
        return {"type": "unknown", "role": "guest"}
    return {"type": None, "role": None}
