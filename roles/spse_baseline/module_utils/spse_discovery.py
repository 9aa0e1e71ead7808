"""Find the SPSE-relevant files of a host, for Debian/Ubuntu and RHEL/CentOS layouts.

One small class per OS family (testinfra's shape): the base class lists
what every family shares, subclasses say where their Apache, PostgreSQL
and cron files live. Every path is looked up under ``root`` so the same
code is unit-tested on a directory-tree fixture.
"""

import glob
import os


class Layout:
    """Where a family keeps things; ``detect`` picks the subclass by probing files."""

    family = "unknown"
    apache_dirs = ()
    apache_files = ()
    pg_conf_globs = ()
    pg_data_globs = ()
    cron_spool = ()

    def __init__(self, root="/", overrides=None):
        self.root = root
        self.overrides = overrides or {}

    @staticmethod
    def detect(root="/", overrides=None):
        def exists(path):
            return os.path.exists(os.path.join(root, path.lstrip("/")))

        if exists("/etc/debian_version"):
            return DebianLayout(root, overrides)
        if exists("/etc/redhat-release") or exists("/etc/centos-release"):
            return RhelLayout(root, overrides)
        for cls in (DebianLayout, RhelLayout):
            if any(exists(d) for d in cls.apache_dirs):
                return cls(root, overrides)
        return Layout(root, overrides)

    def glob(self, pattern):
        """Host paths (as seen on the host) matching a pattern under root."""
        base = self.root.rstrip("/")
        return sorted(p[len(base):] if base else p for p in glob.glob(base + pattern))

    def isdir(self, path):
        return os.path.isdir(self.root.rstrip("/") + path)

    def apache_dir(self):
        given = self.overrides.get("apache_conf_dir")
        if given:
            return given
        return next((d for d in self.apache_dirs if self.isdir(d)), None)

    def pg_data_dirs(self):
        return [p for g in self.pg_data_globs for p in self.glob(g) if self.isdir(p)]

    def pg_conf_dirs(self):
        given = self.overrides.get("pg_conf_dirs")
        if given:
            return list(given)
        dirs = [p for g in self.pg_conf_globs for p in self.glob(g) if self.isdir(p)]
        return dirs + [d for d in self.pg_data_dirs() if self.glob(d + "/postgresql.conf")]

    def config_files(self, appserv_root, homes):
        """(path, parser kind) for every file worth recording, in a stable order."""
        found = []

        def add(pattern, kind):
            for path in self.glob(pattern):
                if (path, kind) not in found:
                    found.append((path, kind))

        add(appserv_root.rstrip("/") + "/*/webapp/conf/application.conf", "play_conf")
        for conf_dir in self.pg_conf_dirs():
            add(conf_dir + "/postgresql.conf", "postgresql_conf")
            add(conf_dir + "/conf.d/*.conf", "postgresql_conf")
            add(conf_dir + "/pg_hba.conf", "pg_hba")
        for data_dir in self.pg_data_dirs():
            add(data_dir + "/postgresql.auto.conf", "postgresql_conf")
        for home in homes:
            add(home.rstrip("/") + "/.pgpass", "pgpass")
        apache = self.apache_dir()
        if apache:
            for pattern in self.apache_files:
                add(apache + "/" + pattern, "apache_conf")
        for pattern, kind in COMMON_FILES:
            add(pattern, kind)
        for spool in self.cron_spool:
            add(spool, "crontab")
        return [(p, k) for p, k in found if os.path.isfile(self.root.rstrip("/") + p)]


class DebianLayout(Layout):
    family = "Debian"
    apache_dirs = ("/etc/apache2",)
    apache_files = ("apache2.conf", "ports.conf", "sites-enabled/*", "conf-enabled/*.conf",
                    "mods-enabled/*.conf")
    pg_conf_globs = ("/etc/postgresql/*/*",)  # Debian keeps configuration apart from data
    pg_data_globs = ("/var/lib/postgresql/*/*",)
    cron_spool = ("/var/spool/cron/crontabs/*",)


class RhelLayout(Layout):
    family = "RedHat"
    apache_dirs = ("/etc/httpd",)
    apache_files = ("conf/httpd.conf", "conf.d/*.conf", "conf.modules.d/*.conf")
    pg_data_globs = ("/var/lib/pgsql/*/data", "/var/lib/pgsql/data")  # PGDG and distro
    cron_spool = ("/var/spool/cron/*",)


COMMON_FILES = (
    ("/etc/sysctl.conf", "sysctl"),
    ("/etc/sysctl.d/*.conf", "sysctl"),
    ("/etc/security/limits.conf", "limits"),
    ("/etc/security/limits.d/*.conf", "limits"),
    ("/etc/crontab", "crontab"),
    ("/etc/cron.d/*", "crontab"),
    ("/etc/ssh/sshd_config", "sshd_config"),
    ("/etc/ssh/sshd_config.d/*.conf", "sshd_config"),
    ("/etc/chrony/chrony.conf", "chrony_conf"),
    ("/etc/chrony.conf", "chrony_conf"),
    ("/etc/ntp.conf", "ntp_conf"),
)
