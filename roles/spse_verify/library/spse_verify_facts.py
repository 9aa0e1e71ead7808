#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Read, in one execution, what `spse-change verify` needs beyond the baseline capture.

sshd's effective authentication settings (``sshd -T``), the Apache
configuration test, the HTTPS certificate's expiry and an HTTPS request
through Apache to the SPSE path, and the free space of the data and
file-store volumes. Nothing is changed; every command is a fixed argument
list (paths from the inventory, never from files read here). Runs on
Python 2.7 and 3.6+.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: spse_verify_facts
short_description: Read the SPSE verify checks' runtime facts in one execution
options:
  apache_configtest:
    description: Command (argument list) that tests the Apache configuration; empty picks
      C(httpd -t -f /etc/httpd/conf/httpd.conf) on the EL layout, else C(apache2ctl -t).
    type: list
    elements: str
    default: []
  check_apache:
    description: Run the Apache checks (hosts of C(spse_app)).
    type: bool
    default: true
  https_port:
    description: Port Apache serves HTTPS on (connected to on 127.0.0.1).
    type: int
    default: 443
  app_path:
    description: URL path of the SPSE application behind Apache.
    type: str
    default: /eproc4
  volumes:
    description: Data and file-store folders whose free space is reported (those that exist).
    type: list
    elements: path
    default: []
author: spse-change
"""

RETURN = r"""
spse_verify_json:
  description: One JSON string holding C(sshd), C(apache_configtest), C(https) and C(volumes).
  returned: always
  type: str
"""

import calendar
import json
import os
import socket
import ssl
import time

from ansible.module_utils.basic import AnsibleModule

C_LOCALE = {"LC_ALL": "C", "LANG": "C"}
EL_HTTPD_CONF = "/etc/httpd/conf/httpd.conf"


def configtest_command(module):
    """The configured command, else the layout's own (fixed paths, probed only for existence)."""
    if module.params["apache_configtest"]:
        return module.params["apache_configtest"]
    httpd = module.get_bin_path("httpd", opt_dirs=["/usr/sbin"])
    if httpd and os.path.isfile(EL_HTTPD_CONF):
        return [httpd, "-t", "-f", EL_HTTPD_CONF]
    for name in ("apache2ctl", "apachectl"):
        path = module.get_bin_path(name, opt_dirs=["/usr/sbin"])
        if path:
            return [path, "-t"]
    return None


def apache_configtest(module):
    command = configtest_command(module)
    if command is None:
        return {"command": None, "rc": None, "output": "no httpd, apache2ctl or apachectl found"}
    rc, out, err = module.run_command(command, environ_update=C_LOCALE)
    lines = (err + out).strip().splitlines()
    return {"command": command, "rc": rc, "output": "\n".join(lines[-5:])}


def _tls_socket(port):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    if hasattr(ssl, "SSLContext"):
        context = ssl.SSLContext(getattr(ssl, "PROTOCOL_TLS", None) or ssl.PROTOCOL_SSLv23)
        context.verify_mode = ssl.CERT_NONE  # the expiry is judged here; trust is not the question
        return context.wrap_socket(raw)
    return ssl.wrap_socket(raw, cert_reqs=ssl.CERT_NONE)  # pragma: no cover (Python 2.7.8 and older)


def not_after(module, der):
    """The certificate's notAfter as seconds since the epoch, read by openssl from stdin."""
    pem = ssl.DER_cert_to_PEM_cert(der)
    openssl = module.get_bin_path("openssl")
    if not openssl:
        return None, "openssl not found"
    rc, out, err = module.run_command([openssl, "x509", "-noout", "-enddate"], data=pem,
                                      environ_update=C_LOCALE)
    if rc != 0 or not out.startswith("notAfter="):
        return None, (err or out).strip()[:200]
    try:
        parsed = time.strptime(out.strip()[len("notAfter="):], "%b %d %H:%M:%S %Y %Z")
    except ValueError as exc:
        return None, "%s" % exc
    return calendar.timegm(parsed), ""


def https(module):
    """Connect to Apache's HTTPS port, read the certificate, GET the SPSE path."""
    port, path = module.params["https_port"], module.params["app_path"]
    result = {"port": port, "path": path, "error": "", "not_after": None, "status": None}
    try:
        conn = _tls_socket(port)
    except (socket.error, ssl.SSLError, OSError) as exc:
        result["error"] = "cannot connect to 127.0.0.1:%d over TLS: %s" % (port, exc)
        return result
    try:
        result["not_after"], why = not_after(module, conn.getpeercert(binary_form=True))
        if why:
            result["error"] = "certificate: %s" % why
        request = "GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path
        conn.sendall(request.encode("ascii"))
        head = b""
        while b"\r\n" not in head and len(head) < 4096:
            chunk = conn.recv(1024)
            if not chunk:
                break
            head += chunk
        status = head.split(b"\r\n", 1)[0].split()
        if len(status) >= 2 and status[1].isdigit():
            result["status"] = int(status[1])
        else:
            result["error"] = "no HTTP status line from %s" % path
    except (socket.error, ssl.SSLError, OSError) as exc:
        result["error"] = "HTTPS request for %s failed: %s" % (path, exc)
    finally:
        conn.close()
    return result


SSHD_AUTH = ("passwordauthentication", "kbdinteractiveauthentication",
             "challengeresponseauthentication", "permitemptypasswords", "pubkeyauthentication",
             "authenticationmethods")


def sshd(module):
    """sshd's effective authentication keywords (``sshd -T``: includes, defaults and order applied)."""
    path = module.get_bin_path("sshd", opt_dirs=["/usr/sbin"])
    if not path:
        return {"error": "sshd not found", "settings": {}}
    rc, out, err = module.run_command([path, "-T"], environ_update=C_LOCALE)
    if rc != 0:
        return {"error": "sshd -T failed: %s" % " ".join(err.split())[:200], "settings": {}}
    settings = {}
    for line in out.splitlines():
        name, _sep, value = line.strip().partition(" ")
        if name in SSHD_AUTH:
            settings[name] = value.strip()
    return {"error": "", "settings": settings}


def mount_of(path, mounts):
    path = os.path.realpath(path)
    best = "/"
    for point in mounts:
        if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) > len(best):
            best = point
    return best


def volumes(module):
    mounts = []
    with open("/proc/mounts") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) > 1:
                mounts.append(fields[1].replace("\\040", " "))
    found = {}
    for path in module.params["volumes"]:
        if not os.path.isdir(path):
            continue
        st = os.statvfs(path)
        found[path] = {"mount": mount_of(path, mounts), "size_bytes": st.f_blocks * st.f_frsize,
                       "free_bytes": st.f_bavail * st.f_frsize}
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            apache_configtest=dict(type="list", elements="str", default=[]),
            check_apache=dict(type="bool", default=True),
            https_port=dict(type="int", default=443),
            app_path=dict(type="str", default="/eproc4"),
            volumes=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    result = {"volumes": volumes(module), "sshd": sshd(module), "apache_configtest": None,
              "https": None}
    if module.params["check_apache"]:
        result["apache_configtest"] = apache_configtest(module)
        result["https"] = https(module)
    module.exit_json(changed=False, spse_verify_json=json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
