"""SPSE test lab, network: the bridge, each host's network namespace and NICs.

Hosts sit on the bridge ``spselab0`` in 198.18.0.0/24 (the machine is .1;
no forwarding, no NAT), each in its network namespace ``spselab-<host>``
with ``eth0`` on a veth whose machine end is ``sl-<host>``.
"""

from __future__ import annotations

import contextlib
import json
import os

from lab_base import run

BRIDGE = "spselab0"
NETNS_PREFIX = "spselab-"
VETH_PREFIX = "sl-"
SUBNET = "198.18.0"
GATEWAY = f"{SUBNET}.1"
FIRST_HOST_IP = 11


def bridge_up() -> None:
    """The lab bridge, with the machine's address on it."""
    run(["ip", "link", "add", BRIDGE, "type", "bridge"])
    run(["ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE])
    run(["ip", "link", "set", BRIDGE, "up"])


def wire(host: dict) -> None:
    """A network namespace with eth0 on the lab bridge and a default route to it."""
    netns, veth = host["netns"], host["veth"]
    run(["ip", "netns", "add", netns])
    run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns])
    run(["ip", "link", "set", veth, "master", BRIDGE, "up"])
    for cmd in (["link", "set", "lo", "up"], ["addr", "add", f"{host['ip']}/24", "dev", "eth0"],
                ["link", "set", "eth0", "up"], ["route", "add", "default", "via", GATEWAY]):
        run(["ip", "-n", netns, *cmd])


def plug_nic(host: dict) -> dict:
    """Plug a new veth NIC (ethN, up, own MAC) into a host's network namespace."""
    links = json.loads(run(["ip", "-n", host["netns"], "-j", "link", "show"]).stdout)
    used = {link["ifname"] for link in links}
    index = next(i for i in range(1, 100) if f"eth{i}" not in used)
    nic, peer = f"eth{index}", f"{VETH_PREFIX}{host['name']}-e{index}"
    run(["ip", "link", "add", peer, "type", "veth", "peer", "name", nic, "netns", host["netns"]])
    run(["ip", "-n", host["netns"], "link", "set", nic, "up"])
    run(["ip", "link", "set", peer, "up"])
    info = json.loads(run(["ip", "-n", host["netns"], "-j", "link", "show", nic]).stdout)[0]
    return {"name": nic, "peer": peer, "mac": info["address"]}


def unplug_nic(host: dict, nic: dict) -> None:
    """Remove a NIC that plug_nic made (its machine end goes with it)."""
    run(["ip", "-n", host["netns"], "link", "delete", nic["name"]])


def remove_links() -> None:
    """Delete every lab network namespace, veth and the bridge (what `down` leaves to us)."""
    for netns in run(["ip", "netns", "list"], check=False).stdout.split("\n"):
        name = netns.split(" ")[0]
        if name.startswith(NETNS_PREFIX):
            run(["ip", "netns", "delete", name], check=False)
    for link in json.loads(run(["ip", "-j", "link", "show"]).stdout or "[]"):
        if link["ifname"] == BRIDGE or link["ifname"].startswith(VETH_PREFIX):
            run(["ip", "link", "delete", link["ifname"]], check=False)


def netns_inodes(host: str | None = None) -> set[int]:
    """Inodes of the lab's network namespaces (or one host's): how their processes are found."""
    inodes = set()
    with contextlib.suppress(OSError):
        for entry in os.scandir("/run/netns"):
            wanted = (entry.name == f"{NETNS_PREFIX}{host}" if host
                      else entry.name.startswith(NETNS_PREFIX))
            if wanted:
                with contextlib.suppress(OSError):
                    inodes.add(os.stat(entry.path).st_ino)
    return inodes
