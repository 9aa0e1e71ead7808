"""Find what runs on a host, and where its files are: from the running services first.

A running PostgreSQL or Apache knows its own files (its process's command
line, PostgreSQL's ``postmaster.pid``); the per-family layouts (testinfra's
shape: one small class per OS family) are the fallback when a service is
down. Every path is looked up under ``root`` so all of it is unit-tested on
directory-tree fixtures.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

from ansible.module_utils.spse_host import listdir, processes, read_text, readlink, realpath, trusted, under

RUNNING = "running server"
LAYOUT = "layout"
INVENTORY = "inventory"
APP_ROOT_SCAN = "app root scan"


class Layout:
    """Where a family keeps things; ``detect`` picks the subclass by probing files."""

    family = "unknown"
    apache_roots = ()  # (server root, main config file relative to it)
    pg_conf_globs = ()  # configuration folders kept apart from the data (Debian)
    pg_data_globs = ()  # data folders holding their own configuration (PGDG, EL)
    cron_spool = ()

    def __init__(self, root="/", overrides=None):
        self.root = root
        self.overrides = overrides or {}

    @staticmethod
    def detect(root="/", overrides=None):
        def exists(path):
            return os.path.exists(under(root, path))

        if exists("/etc/debian_version"):
            return DebianLayout(root, overrides)
        if exists("/etc/redhat-release") or exists("/etc/centos-release"):
            return RhelLayout(root, overrides)
        for cls in (DebianLayout, RhelLayout):
            if any(exists(server_root) for server_root, _conf in cls.apache_roots):
                return cls(root, overrides)
        return Layout(root, overrides)

    def glob(self, pattern):
        """Host paths (as seen on the host) matching a pattern under root."""
        base = self.root.rstrip("/")
        return sorted(p[len(base):] if base else p for p in glob.glob(base + pattern))

    def isfile(self, path):
        return os.path.isfile(under(self.root, path))

    def apache(self):
        """{server_root, config_file, found_by} of the first main config file present, or None."""
        given = self.overrides.get("apache_conf_dir")
        if given:
            candidates = [(given, conf) for conf in ("conf/httpd.conf", "apache2.conf", "httpd.conf")]
        else:
            candidates = self.apache_roots
        for server_root, conf in candidates:
            if self.isfile(os.path.join(server_root, conf)):
                return {"server_root": server_root, "config_file": os.path.join(server_root, conf),
                        "found_by": INVENTORY if given else LAYOUT}
        return None

    def pg_clusters(self):
        """{config_file, hba_file, data_directory, found_by} of each cluster whose files are here.

        The data folder of a Debian cluster is ``/var/lib/postgresql/<ver>/<name>`` for the
        configuration folder ``/etc/postgresql/<ver>/<name>``.
        """
        given = self.overrides.get("pg_conf_dirs")
        if given:
            dirs = [(d, d if self.isfile(d + "/PG_VERSION") else None) for d in given]
        else:
            dirs = [(d, "/var/lib/postgresql/" + "/".join(d.split("/")[-2:]))
                    for g in self.pg_conf_globs for d in self.glob(g)]
            dirs += [(d, d) for g in self.pg_data_globs for d in self.glob(g)]
        return [{"config_file": conf_dir + "/postgresql.conf", "hba_file": conf_dir + "/pg_hba.conf",
                 "data_directory": data_dir, "found_by": INVENTORY if given else LAYOUT}
                for conf_dir, data_dir in dirs if self.isfile(conf_dir + "/postgresql.conf")]


class DebianLayout(Layout):
    family = "Debian"
    apache_roots = (("/etc/apache2", "apache2.conf"),)
    pg_conf_globs = ("/etc/postgresql/*/*",)  # Debian keeps configuration apart from data
    cron_spool = ("/var/spool/cron/crontabs/*",)


class RhelLayout(Layout):
    family = "RedHat"
    apache_roots = (("/etc/httpd", "conf/httpd.conf"),)
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
    # EL starts spse4 from rc.local (no unit file); /etc/rc.local links there on EL
    ("/etc/rc.d/rc.local", "shell_script"),
    ("/etc/rc.local", "shell_script"),
)


# -- running PostgreSQL ---------------------------------------------------------------------------

POSTMASTER_NAMES = ("postgres", "postmaster")


def _option(argv, flag):
    """The value of ``-X value`` or ``-Xvalue`` in argv (the last one wins), or None."""
    found = None
    for index, arg in enumerate(argv):
        if arg == flag and index + 1 < len(argv):
            found = argv[index + 1]
        elif arg.startswith(flag) and len(arg) > len(flag):
            found = arg[len(flag):]
    return found


def _setting(argv, name):
    """A server setting given as ``-c name=value`` or ``--name=value`` (dashes for underscores)."""
    found = None
    for index, arg in enumerate(argv):
        if arg == "-c" and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("-c") or arg.startswith("--"):
            value = arg[2:]
        else:
            continue
        key, equals, rest = value.partition("=")
        if equals and key.replace("-", "_") == name:
            found = rest
    return found


def _environ(root, pid, name):
    text = read_text(root, "/proc/%d/environ" % pid) or ""
    for item in text.split("\x00"):
        if item.startswith(name + "="):
            return item.split("=", 1)[1]
    return None


def postmasters(root="/"):
    """Each running PostgreSQL cluster, from the process table: one dict per data folder.

    Only processes of a trusted binary (``spse_host.trusted``) count: anyone can start a process
    named ``postgres``.

    ``{pid, bin_dir, data_directory, port, socket_dir, config_file, hba_file}``; port and socket folder
    come from the cluster's ``postmaster.pid`` (what it really listens on), else from ``-p``
    (else 5432). Backends rewrite their command line (``postgres: checkpointer``), so only the
    postmaster matches; with ``update_process_title=off`` they do not, hence one per data folder.
    """
    clusters = {}
    for pid, argv in processes(root):
        if os.path.basename(argv[0]) not in POSTMASTER_NAMES:
            continue
        exe = readlink(root, "/proc/%d/exe" % pid)
        if not exe or not trusted(root, exe):
            continue
        data_dir = _option(argv, "-D") or _environ(root, pid, "PGDATA")
        if not data_dir:
            continue
        if not data_dir.startswith("/"):
            data_dir = os.path.join(readlink(root, "/proc/%d/cwd" % pid) or "/", data_dir)
        data_dir = os.path.normpath(data_dir)
        if data_dir in clusters:
            continue
        pid_file = (read_text(root, data_dir + "/postmaster.pid") or "").split("\n")
        port = pid_file[3].strip() if len(pid_file) > 3 else ""
        if not port.isdigit():
            given = _option(argv, "-p")
            port = given if given and given.isdigit() else "5432"
        socket_dir = pid_file[4].strip() if len(pid_file) > 4 else ""
        clusters[data_dir] = {
            "pid": pid, "bin_dir": os.path.dirname(exe),
            "data_directory": data_dir, "port": port,
            "socket_dir": socket_dir if socket_dir.startswith("/") else None,
            # PostgreSQL's own defaults; the server's answer replaces them when psql can ask
            "config_file": _setting(argv, "config_file") or data_dir + "/postgresql.conf",
            "hba_file": _setting(argv, "hba_file") or data_dir + "/pg_hba.conf",
        }
    return [clusters[d] for d in sorted(clusters)]


# -- running Apache -------------------------------------------------------------------------------

# Compiled-in HTTPD_ROOT and SERVER_CONFIG_FILE of the distributions' builds, by binary name.
# Reading them from `httpd -V` would cost a process, and Debian's apache2 needs its envvars for -V.
APACHE_DEFAULTS = {
    "httpd": ("/etc/httpd", "conf/httpd.conf"),
    "apache2": ("/etc/apache2", "apache2.conf"),
}


def apache_server(root="/"):
    """{server_root, config_file, found_by} of the running Apache (its first process), or None.

    ``-d`` and ``-f`` on its command line win over the binary's compiled-in defaults; a relative
    config file is relative to the server root, as in httpd. A config file that is not
    ``trusted`` is not followed: the capture reads what it includes as root.
    """
    for _pid, argv in processes(root):
        name = os.path.basename(argv[0])
        if name not in APACHE_DEFAULTS:
            continue
        server_root = _option(argv, "-d") or APACHE_DEFAULTS[name][0]
        config_file = os.path.join(server_root, _option(argv, "-f") or APACHE_DEFAULTS[name][1])
        if trusted(root, config_file):
            return {"server_root": server_root, "config_file": config_file, "found_by": RUNNING}
    return None


def apache_include_paths(patterns, server_root, root="/"):
    """Files an Include/IncludeOptional argument names: globs relative to ServerRoot, folders
    read whole (recursively, in name order), as httpd does. Unexpanded ``${VAR}``s are skipped."""
    found = []
    for pattern in patterns:
        pattern = pattern.strip().strip('"\'')
        if not pattern or "${" in pattern:
            continue
        if not pattern.startswith("/"):
            pattern = os.path.join(server_root, pattern)
        for path in sorted(glob.glob(under(root, pattern))):
            host_path = "/" + os.path.relpath(path, root) if root != "/" else path
            if os.path.isdir(path):
                for folder, dirs, files in os.walk(path):
                    dirs.sort()
                    relative = os.path.relpath(folder, path)
                    found.extend(os.path.normpath(os.path.join(host_path, relative, name))
                                 for name in sorted(files))
            else:
                found.append(host_path)
    return found


# -- SPSE -----------------------------------------------------------------------------------------

START_SCRIPTS = ("spse4",)


def spse_instances(app_root, root="/"):
    """{name: folder} of each SPSE instance: a folder under the app root with
    ``webapp/conf/application.conf``."""
    return dict((name, os.path.join(app_root, name)) for name in listdir(root, app_root)
                if os.path.isfile(under(root, os.path.join(app_root, name, "webapp/conf/application.conf"))))


JDK_GLOBS = ("/usr/local/src/jdk*", "/usr/lib/jvm/*", "/usr/java/*")


def jdks(root="/"):
    """{java home: {"version"}} of every JDK/JRE in the usual places, keyed by real path (the
    distributions' symlinks to one JDK count once); version from its ``release`` file."""
    found = {}
    for pattern in JDK_GLOBS:
        for path in sorted(glob.glob(under(root, pattern))):
            if not os.path.isfile(os.path.join(path, "bin", "java")):
                continue
            home = realpath(root, os.path.relpath(path, root))
            found[home] = {"version": java_release_version(read_text(root, home + "/release"))}
    return found


def java_release_version(text):
    match = re.search(r'^JAVA_VERSION="([^"]+)"', text or "", re.M)
    return match.group(1) if match else None


_JAVA_HOME = re.compile(r"(?:^|[\s;])(?:export\s+)?JAVA_HOME=[\"']?(/[^\"'\s;:$`]+)")
_PATH_BIN = re.compile(r"(?:^|[\s;])(?:export\s+)?PATH=[\"']?(/[^\"'\s;:$`]+)/bin(?=[:\"'\s;]|$)")
_JAVA_BIN = re.compile(r"(/[^\"'\s;:$`]+)/bin/java(?=[\"'\s;]|$)")


def script_java_home(lines):
    """The Java home a start script sets: its ``JAVA_HOME=``, else a ``PATH=`` whose first entry
    is a ``.../bin``, else a literal ``.../bin/java`` it runs; None when it leaves Java to PATH.
    Only literal absolute paths count: nothing is expanded or run."""
    for pattern in (_JAVA_HOME, _PATH_BIN, _JAVA_BIN):
        for line in lines:
            match = pattern.search(line)
            if match:
                return match.group(1).rstrip("/")
    return None
