"""Command output of both families, as recorded on real servers, parsed."""

from __future__ import annotations

from ansible.module_utils import spse_software as sw

CENTOS7_UNIT_FILES = """\
httpd.service                                 enabled
postgresql-10.service                         enabled
chronyd.service                               enabled
getty@.service                                enabled
firewalld.service                             disabled
systemd-journald.service                      static
"""
CENTOS7_UNITS = """\
httpd.service                loaded active   running The Apache HTTP Server
postgresql-10.service        loaded active   running PostgreSQL 10 database server
chronyd.service              loaded active   running NTP client/server
firewalld.service            loaded inactive dead    firewalld - dynamic firewall daemon
systemd-journald.service     loaded active   running Journal Service
kdump.service                loaded active   exited  Crash recovery kernel arming
"""


def test_systemd_services_state_and_start_at_boot() -> None:
    assert sw.systemd_services(CENTOS7_UNIT_FILES, CENTOS7_UNITS) == {
        "httpd": {"state": "running", "enabled": True},
        "postgresql-10": {"state": "running", "enabled": True},
        "chronyd": {"state": "running", "enabled": True},
        "firewalld": {"state": "stopped", "enabled": False},
        "systemd-journald": {"state": "running", "enabled": False},
        "kdump": {"state": "stopped", "enabled": False},
    }


def test_rpm_and_dpkg_versions() -> None:
    rpm = ("postgresql10-server\t(none):10.23-1PGDG.rhel7\n"
           "java-1.8.0-openjdk\t1:1.8.0.412.b08-1.el7_9\n"
           "kernel\t(none):3.10.0-1160.el7\nkernel\t(none):3.10.0-1160.119.1.el7\n")
    assert sw.rpm_packages(rpm) == {
        "postgresql10-server": "10.23-1PGDG.rhel7",
        "java-1.8.0-openjdk": "1:1.8.0.412.b08-1.el7_9",
        "kernel": "3.10.0-1160.119.1.el7, 3.10.0-1160.el7",
    }
    dpkg = ("ii \tpostgresql-15\t15.13-0+deb12u1\nrc \told-package\t1.0\n"
            "ii \tapache2\t2.4.62-1~deb12u2\n")
    assert sw.dpkg_packages(dpkg) == {"postgresql-15": "15.13-0+deb12u1",
                                      "apache2": "2.4.62-1~deb12u2"}


def test_listening_ports_with_header_of_old_ss() -> None:
    text = """\
Netid State  Recv-Q Send-Q Local Address:Port  Peer Address:Port
tcp   LISTEN 0      128    *:22                *:*       users:(("sshd",pid=1102,fd=3))
tcp   LISTEN 0      128    127.0.0.1:5432      *:*       users:(("postmaster",pid=1201,fd=4))
tcp   LISTEN 0      100    [::]:443            [::]:*    users:(("httpd",pid=990,fd=6),("httpd",pid=991,fd=6))
udp   UNCONN 0      0      127.0.0.1:323       *:*
"""
    assert sw.listening_ports(text) == {
        "tcp/*:22": {"process": "sshd"},
        "tcp/127.0.0.1:5432": {"process": "postmaster"},
        "tcp/[::]:443": {"process": "httpd"},
        "udp/127.0.0.1:323": {"process": None},
    }


def test_lsb_daemon() -> None:
    assert sw.lsb_daemon("NAME=cron\nDAEMON=/usr/sbin/$NAME\n") == "/usr/sbin/cron"
    assert sw.lsb_daemon('DAEMON="/usr/sbin/exim4"\n') == "/usr/sbin/exim4"
    assert sw.lsb_daemon("PIDFILE=$(. $ENVVARS && echo $PID)\n") is None
    assert sw.lsb_daemon("DAEMON=$BIN/thing\n") is None
