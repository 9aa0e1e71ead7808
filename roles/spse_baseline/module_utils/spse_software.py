"""Parse what package managers, init systems and `ss` print, for every family we support.

Pure functions over command output, so each format (dpkg, rpm, systemctl,
LSB init scripts, old and new `ss`) is unit-tested on recorded text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DPKG_QUERY = ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\n"]
RPM_QUERY = ["rpm", "-qa", "--qf", "%{NAME}\t%{EPOCH}:%{VERSION}-%{RELEASE}\n"]


def packages(rows):
    """name -> version; several installed versions (kernels) joined by ", "."""
    found = {}
    for name, version in rows:
        found.setdefault(name, set()).add(version)
    return {name: ", ".join(sorted(v)) for name, v in found.items()}


def dpkg_packages(text):
    return packages(line.split("\t")[1:3] for line in text.splitlines() if line.startswith("ii"))


def rpm_packages(text):
    rows = []
    for line in text.splitlines():
        name, _, version = line.partition("\t")
        epoch, _, rest = version.partition(":")
        rows.append((name, rest if epoch in ("(none)", "0", "") else version))
    return packages(rows)


def systemd_services(unit_files, units):
    """From `systemctl list-unit-files` and `list-units --all --plain` (any systemd version)."""
    result = {}
    for line in unit_files.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(".service") and not parts[0].endswith("@.service"):
            result[parts[0][:-8]] = {"state": "stopped", "enabled": parts[1] == "enabled"}
    for line in units.splitlines():
        parts = line.lstrip(u"\u25cf ").split()
        if len(parts) >= 4 and parts[0].endswith(".service"):
            entry = result.setdefault(parts[0][:-8], {"state": "stopped", "enabled": False})
            entry["state"] = "running" if parts[3] == "running" else "stopped"
    return result


def lsb_daemon(script):
    """The absolute path in an init script's ``DAEMON=`` line (``$NAME`` expanded), or None."""
    names = dict(re.findall(r'^(NAME|DAEMON)=["\']?([^"\'\s;]+)', script, re.M))
    daemon = names.get("DAEMON", "").replace("${NAME}", "$NAME").replace("$NAME", names.get("NAME", "$"))
    return daemon if daemon.startswith("/") and "$" not in daemon else None


def listening_ports(text):
    """`ss -tulnp` output, with or without its header (old iproute2 has no -H)."""
    result = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 5 or parts[0] == "Netid":
            continue
        proc = re.search(r'users:\(\("([^"]+)"', line)
        result["%s/%s" % (parts[0], parts[4])] = {"process": proc.group(1) if proc else None}
    return result
