#!/usr/bin/python
"""Gather a complete SPSE baseline of this host in one module execution.

One run per host is the whole point: every extra task is another round trip
(measured: a task-per-fact playbook took 6.9x Ansible's own fact gathering).
Secrets are replaced by a keyed hash here, on the host, before anything is
returned, so no clear secret ever reaches the controller or its artifacts.
"""

DOCUMENTATION = r"""
module: spse_baseline_facts
short_description: Capture an SPSE server baseline in one execution
description:
  - Returns hardware, OS, packages, services, listening ports, parsed
    configuration files, live PostgreSQL settings and SPSE instances.
  - Secret values are returned only as C(secret:hmac-sha256:...) markers.
options:
  hmac_key:
    description: Key of the installation's secret hash. Never logged.
    type: str
    required: true
  secret_patterns:
    description: Globs of key names whose values are secret.
    type: list
    elements: str
    default: []
  appserv_root:
    description: Folder holding SPSE instances.
    type: path
    default: /home/appserv
  file_stores:
    description: SPSE upload folders (size and mount only, never content).
    type: list
    elements: path
    default: []
  pg_conf_dirs:
    description: PostgreSQL configuration folders; discovered when empty.
    type: list
    elements: path
    default: []
  apache_conf_dir:
    description: Apache configuration root; discovered when empty.
    type: path
  extra_config_files:
    description: More files to record (hash and metadata; parsed when the kind is known).
    type: list
    elements: path
    default: []
  capture_database:
    description: Query the live PostgreSQL server.
    type: bool
    default: true
  capture_spse:
    description: Look for SPSE application instances.
    type: bool
    default: true
author: spse-change
"""

import fnmatch
import glob
import grp
import hashlib
import hmac
import json
import os
import pwd
import re
import stat
import threading

from ansible.module_utils import spse_hardware, spse_software
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spse_config import PARSERS, ParseError, Redactor
from ansible.module_utils.spse_discovery import Layout

# Init scripts of the SPSE stack that name no DAEMON= (their `status` runs Perl or apachectl).
KNOWN_DAEMONS = (
    ("postgresql*", "/usr/lib/postgresql/*/bin/postgres"),
    ("postgresql*", "/usr/pgsql-*/bin/postgres*"),
    ("ssh", "/usr/sbin/sshd"),
    ("sshd", "/usr/sbin/sshd"),
    ("httpd", "/usr/sbin/httpd"),
)
SECRET_BEARING_KINDS = ("pgpass", "private_key")


class Capture:
    """Collects one host's baseline; each category fails alone, into ``incomplete``."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.key = self.params["hmac_key"].encode("utf-8")
        self.redactor = Redactor(self.key, self.params["secret_patterns"])
        self.incomplete = {}
        self.measurements = {}
        self.mount_points = []
        self.layout = Layout.detect("/", {"apache_conf_dir": self.params["apache_conf_dir"],
                                          "pg_conf_dirs": self.params["pg_conf_dirs"]})

    def run(self, args, **kwargs):
        """Run a command with an argument list (never a shell line)."""
        return self.module.run_command(args, environ_update={"LC_ALL": "C"}, **kwargs)

    def section(self, name, func):
        try:
            return func()
        except Exception as exc:  # a category that fails is said, not hidden
            known = isinstance(exc, (RuntimeError, OSError))
            self.incomplete[name] = str(exc) if known else f"{type(exc).__name__}: {exc}"
            return {}

    def collect(self):
        """Sections that mostly wait on commands run in threads while the rest runs here."""
        data = {"database": {}, "spse": {}}

        def background(name, func):
            thread = threading.Thread(target=lambda: data.__setitem__(name, self.section(name, func)))
            thread.start()
            return thread

        threads = [background("services", self.services), background("packages", self.packages),
                   background("ports", self.ports)]
        data["config"] = self.section("config", self.config)
        if self.params["capture_database"]:
            data["database"] = self.section("database", lambda: self.database(data["config"]))
        data["hardware"] = self.section("hardware", self.hardware)
        data["os"] = self.section("os", self.os_facts)
        if self.params["capture_spse"]:
            data["spse"] = self.section("spse", lambda: self.spse(data["config"]))
        for thread in threads:
            thread.join()
        return {"data": data, "incomplete": self.incomplete, "measurements": self.measurements}

    # -- hardware and OS

    def hardware(self):
        _, ip_out, _ = self.run(["ip", "-o", "addr", "show"])
        detect = self.module.get_bin_path("systemd-detect-virt")
        virt_out = self.run([detect])[1] if detect else None
        hw = {
            "cpu": spse_hardware.cpu(),
            "memory": spse_hardware.memory(),
            "virtualization": spse_hardware.virtualization("/", virt_out),
            "dmi": spse_hardware.dmi(),
            "block_devices": spse_hardware.block_devices(),
            "mounts": spse_hardware.mounts(),
            "interfaces": spse_hardware.interfaces(ip_out),
        }
        self.mount_points = sorted(hw["mounts"], key=len, reverse=True)
        return hw

    def os_facts(self):
        uname = os.uname()
        return dict(spse_hardware.distribution(), **{
            "kernel": uname.release,
            "architecture": uname.machine,
            "hostname": uname.nodename.split(".")[0],
            "timezone": self._timezone(),
            "time_sync": self._time_sync(),
        })

    def _timezone(self):
        if os.path.exists("/etc/timezone"):
            with open("/etc/timezone") as fh:
                return fh.read().strip()
        link = os.path.realpath("/etc/localtime")
        return link.split("/zoneinfo/", 1)[1] if "/zoneinfo/" in link else None

    def _time_sync(self):
        for service, binary, args in (("chrony", "chronyc", ["-n", "tracking"]),
                                      ("ntp", "ntpq", ["-pn"])):
            path = self.module.get_bin_path(binary)
            if path:
                rc, out, _ = self.run([path, *args])
                synced = rc == 0 and ("Leap status     : Normal" in out or "\n*" in out)
                return {"service": service, "synchronized": synced}
        return {"service": None, "synchronized": False}

    # -- software

    def packages(self):
        dpkg = self.module.get_bin_path("dpkg-query")
        query = [dpkg, *spse_software.DPKG_QUERY[1:]] if dpkg else spse_software.RPM_QUERY
        rc, out, err = self.run(query)
        if rc != 0:
            raise RuntimeError(err.strip() or "package query failed")
        return spse_software.dpkg_packages(out) if dpkg else spse_software.rpm_packages(out)

    def services(self):
        if os.path.isdir("/run/systemd/system"):
            return self._systemd_services()
        return self._sysv_services()

    def _systemd_services(self):
        ctl = self.module.get_bin_path("systemctl", required=True)
        _, files, _ = self.run([ctl, "list-unit-files", "--type=service", "--no-legend", "--no-pager"])
        _, units, _ = self.run([ctl, "list-units", "--type=service", "--all", "--no-legend",
                                "--no-pager", "--plain"])
        return spse_software.systemd_services(files, units)

    def _sysv_services(self):
        """sysvinit (CentOS 6, the lab): enabled = a start link in runlevels 2-5.

        Running = the daemon a script declares (LSB ``DAEMON=``) is in the
        process table, as ``status_of_proc`` decides; only scripts that name
        no daemon run their own ``status`` (``service --status-all`` would
        run every script, a third of the whole capture).
        """
        scripts = sorted(os.listdir("/etc/init.d")) if os.path.isdir("/etc/init.d") else []
        links = set()
        for level in "2345":
            for path in glob.glob(f"/etc/rc{level}.d/S*") + glob.glob(f"/etc/rc.d/rc{level}.d/S*"):
                links.add(re.sub(r"^S\d+", "", os.path.basename(path)))
        if os.geteuid() != 0:
            raise RuntimeError("needs become (root) to see which daemons run")
        executables = _running_executables()
        skip = {"README", "skeleton", "rc", "rcS", "functions", "halt", "killall", "reboot"}
        result = {}
        for name in scripts:
            path = os.path.join("/etc/init.d", name)
            if name in skip or name.startswith(".") or not os.access(path, os.X_OK):
                continue
            text = _read_first(path, whole=True) or ""
            declared = spse_software.lsb_daemon(text)
            daemons = [declared] if declared else [
                exe for pattern, exe in KNOWN_DAEMONS if fnmatch.fnmatch(name, pattern)]
            if daemons:
                running = any(fnmatch.fnmatch(exe, d) for d in daemons for exe in executables)
            else:  # what `service --status-all` decides: exit 0 and something said
                rc, out, err = self.run([path, "status"])
                running = rc == 0 and bool(out.strip()) and "usage:" not in (out + err).lower()
            result[name] = {"state": "running" if running else "stopped", "enabled": name in links}
        return result

    def ports(self):
        ss = self.module.get_bin_path("ss", required=True)
        rc, out, err = self.run([ss, "-tulnp"])
        if rc != 0:
            raise RuntimeError(err.strip())
        return spse_software.listening_ports(out)

    # -- configuration files

    def config(self):
        files = {}
        for path, kind in self._config_candidates():
            real = os.path.realpath(path)
            if path in files or not os.path.isfile(real):
                continue
            entry = self._config_file(path, kind)
            if entry is not None:
                files[path] = entry
        for path in self._private_key_paths(files):
            if path not in files and os.path.isfile(path):
                entry = self._config_file(path, "private_key")
                if entry is not None:
                    files[path] = entry
        return files

    def _config_candidates(self):
        """(path, parser kind) pairs: discovered for the OS family, plus the inventory's extras."""
        homes = self._homes(("postgres", "root", "appserv"))
        found = self.layout.config_files(self.params["appserv_root"], homes)
        return found + [(path, None) for path in self.params["extra_config_files"]]

    @staticmethod
    def _homes(users):
        homes = []
        for user in users:
            try:
                homes.append(pwd.getpwnam(user).pw_dir)
            except KeyError:
                continue
        return sorted(set(homes))

    def _private_key_paths(self, files):
        """Key files named by Apache or PostgreSQL, plus SSH host keys: keyed hash only."""
        paths = set(glob.glob("/etc/ssh/ssh_host_*_key"))
        for entry in files.values():
            parsed = entry.get("parsed") or {}
            if entry.get("kind") == "apache_conf":
                paths.update(_directive_values(parsed, "SSLCertificateKeyFile"))
            elif entry.get("kind") == "postgresql_conf" and parsed.get("ssl_key_file"):
                paths.add(parsed["ssl_key_file"])
        return sorted(paths)

    def _config_file(self, path, kind):
        try:
            st = os.stat(path)
            with open(path, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            self.incomplete[f"config:{path}"] = f"unreadable: {exc.strerror}"
            return None
        entry = {"kind": kind or "unparsed", "owner": _user(st.st_uid), "group": _group(st.st_gid),
                 "mode": f"{stat.S_IMODE(st.st_mode):04o}", "size": st.st_size}
        parser = PARSERS.get(kind) if kind else None
        parsed = None
        if parser is not None:
            try:
                parsed = parser.parse(raw.decode("utf-8", "replace"), self.redactor)
            except ParseError as exc:
                entry["parse_error"] = str(exc)
        secret_bearing = kind in SECRET_BEARING_KINDS or kind is None or (
            parsed is not None and "secret:hmac-sha256:" in json.dumps(parsed))
        if secret_bearing:  # a plain digest of a secret-bearing file would let one test guesses
            entry["hmac"] = hmac.new(self.key, raw, hashlib.sha256).hexdigest()
        else:
            entry["sha256"] = hashlib.sha256(raw).hexdigest()
        if parsed is not None:
            entry["parsed"] = parsed
        return entry

    # -- live PostgreSQL

    def _psql(self, port, sql=None, script=None):
        """Run psql as postgres over the local socket; one process per call, so calls are few."""
        # The real binary, not Debian's pg_wrapper (a Perl script that costs a start-up each call).
        real = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql") + glob.glob("/usr/pgsql-*/bin/psql"),
                      key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
        psql = real[-1] if real else self.module.get_bin_path("psql")
        if not psql:
            raise RuntimeError("psql not found")
        runuser = self.module.get_bin_path("runuser", opt_dirs=["/sbin", "/usr/sbin"])
        if os.geteuid() != 0 or not runuser:
            raise RuntimeError("needs become (root) to query PostgreSQL as postgres")
        args = [runuser, "-u", "postgres", "--", psql, "-XAtq", "-p", str(port), "-d", "postgres"]
        args += ["-c", sql] if sql else ["-f", "-"]
        rc, out, err = self.run(args, cwd="/", data=script)
        if rc != 0:
            raise RuntimeError(" ".join(err.split())[:300] or "psql failed")
        return out

    def database(self, config):
        port = "5432"
        for _path, entry in sorted(config.items()):
            if entry.get("kind") == "postgresql_conf" and "port" in entry.get("parsed", {}):
                port = entry["parsed"]["port"]
        if not self.layout.pg_conf_dirs() and not self.module.get_bin_path("psql"):
            return {}  # no PostgreSQL on this host: absent, not incomplete
        info = json.loads(self._psql(port, sql=DATABASE_SQL))
        settings = {}
        for name, s in info["settings"].items():
            s["setting"] = self.redactor.redact(name, s["setting"]) if s["setting"] else s["setting"]
            settings[name] = s
        databases = {}
        for name, db in info["databases"].items():
            self.measurements[f"database.databases.{name}.size_bytes"] = db.pop("size_bytes")
            databases[name] = db
        # Extensions live in each database: one psql that connects to each in turn.
        script = "".join('\\c "{}"\n{};\n'.format(name.replace('"', '""'), EXTENSIONS_SQL)
                         for name, db in sorted(databases.items()) if not db.pop("is_template"))
        extensions = {}
        for line in self._psql(port, script=script).splitlines() if script else []:
            row = json.loads(line)
            extensions[row["db"]] = row["ext"] or {}
        return {"server_version": info["server_version"],
                "server_version_num": info["server_version_num"],
                "settings": settings, "databases": databases, "extensions": extensions}

    # -- SPSE application

    def spse(self, config):
        """Instances from the application.conf files the config section already parsed."""
        instances = {}
        java = self._java_version()
        for conf, entry in sorted(config.items()):
            if entry.get("kind") != "play_conf" or not conf.startswith(self.params["appserv_root"]):
                continue
            keys = entry.get("parsed") or {}
            root = os.path.dirname(os.path.dirname(os.path.dirname(conf)))
            instances[os.path.basename(root)] = {
                "path": root,
                "version": keys.get("spse.version") or keys.get("application.version")
                or _read_first(os.path.join(root, "webapp", "VERSION")),
                "java_version": java,
                "http_port": keys.get("http.port"),
                "http_path": keys.get("http.path"),
                "mode": keys.get("application.mode"),
            }
        stores = {}
        for path in self.params["file_stores"]:
            if not os.path.isdir(path):
                continue
            mount = next((m for m in self.mount_points
                          if path == m or path.startswith(m.rstrip("/") + "/")), "/")
            stores[path] = {"mount": mount}
            if mount == path:
                st = os.statvfs(path)
                self.measurements[f"spse.file_stores.{path}.used_bytes"] = (
                    (st.f_blocks - st.f_bfree) * st.f_frsize)
        return {"instances": instances, "file_stores": stores} if instances or stores else {}

    def _java_version(self):
        for release in sorted(glob.glob("/usr/local/src/jdk*/release")) + sorted(
                glob.glob("/usr/lib/jvm/*/release")):
            match = re.search(r'^JAVA_VERSION="([^"]+)"', _read_first(release, whole=True) or "", re.M)
            if match:
                return match.group(1)
        java = self.module.get_bin_path("java")
        if java:
            _, out, err = self.run([java, "-version"])
            match = re.search(r'version "([^"]+)"', out + err)
            if match:
                return match.group(1)
        return None


DATABASE_SQL = """
SELECT json_build_object(
  'server_version', current_setting('server_version'),
  'server_version_num', current_setting('server_version_num')::int,
  'settings', (SELECT json_object_agg(name, json_build_object(
      'setting', setting, 'unit', unit, 'source', source, 'pending_restart', pending_restart))
    FROM pg_settings WHERE source NOT IN ('client', 'session') AND name <> 'application_name'),
  'databases', (SELECT json_object_agg(datname, json_build_object(
      'owner', pg_get_userbyid(datdba), 'encoding', pg_encoding_to_char(encoding),
      'is_template', datistemplate OR NOT datallowconn, 'size_bytes', pg_database_size(oid)))
    FROM pg_database))
"""
EXTENSIONS_SQL = ("SELECT json_build_object('db', current_database(), "
                  "'ext', (SELECT json_object_agg(extname, extversion) FROM pg_extension))")


def _running_executables():
    found = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                found.add(os.readlink(f"/proc/{pid}/exe").replace(" (deleted)", ""))
            except OSError:
                continue
    return found


def _directive_values(tree, name):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _directive_values(value, name)
        elif key.lower() == name.lower():
            for arg in value:
                yield arg.strip('"')


def _read_first(path, whole=False):
    try:
        with open(path) as fh:
            text = fh.read()
    except OSError:
        return None
    return text if whole else (text.strip().splitlines() or [None])[0]


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            hmac_key=dict(type="str", required=True, no_log=True),
            secret_patterns=dict(type="list", elements="str", default=[]),
            appserv_root=dict(type="path", default="/home/appserv"),
            file_stores=dict(type="list", elements="path", default=[]),
            pg_conf_dirs=dict(type="list", elements="path", default=[]),
            apache_conf_dir=dict(type="path"),
            extra_config_files=dict(type="list", elements="path", default=[]),
            capture_database=dict(type="bool", default=True),
            capture_spse=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    if len(module.params["hmac_key"]) < 32:
        module.fail_json(msg="hmac_key is too short (need at least 32 characters)")
    # One JSON string rather than a deep structure: Ansible then walks one value, not
    # thousands (no_log scrubbing, result processing), which halves its controller time.
    result = json.dumps(Capture(module).collect(), sort_keys=True, separators=(",", ":"))
    module.exit_json(changed=False, spse_baseline_json=result)


if __name__ == "__main__":
    main()
