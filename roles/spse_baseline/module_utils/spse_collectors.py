"""The baseline's collectors: one small class per area behind a registry.

testinfra's shape: a ``Collector`` says its ``name`` (the data category it
fills), what it ``requires`` (collectors whose results it reads: the order
dependencies, explicit) and ``collect(ctx)``; package managers and init
systems are subclasses chosen by probing (``select``). ``collect_all`` runs
each collector in its own thread once what it requires is done, so the
command-bound ones (packages, services, ports, psql) wait in parallel. A
collector that fails marks its category incomplete with a reason that never
quotes a value; the host always returns one valid result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import grp
import hashlib
import json
import os
import pwd
import re
import stat
import threading

from ansible.module_utils import spse_discovery as discovery
from ansible.module_utils import spse_hardware, spse_postgres, spse_software
from ansible.module_utils.spse_config import PARSERS, ParseError, directive_values
from ansible.module_utils.spse_host import (
    listdir,
    processes,
    read_text,
    read_value,
    readlink,
    realpath,
    trusted,
    under,
)

# Init scripts of the SPSE stack that name no DAEMON= (their `status` runs Perl or apachectl).
KNOWN_DAEMONS = (
    ("postgresql*", "/usr/lib/postgresql/*/bin/postgres"),
    ("postgresql*", "/usr/pgsql-*/bin/postgres*"),
    ("ssh", "/usr/sbin/sshd"),
    ("sshd", "/usr/sbin/sshd"),
    ("httpd", "/usr/sbin/httpd"),
)
SECRET_BEARING_KINDS = ("pgpass", "private_key")


class Context:
    """What the collectors share: commands, parameters, the scrubber and everything found so far."""

    def __init__(self, module, scrubber, root="/"):
        self.module = module
        self.params = module.params
        self.scrubber = scrubber
        self.root = root
        self.layout = discovery.Layout.detect(root, {
            "apache_conf_dir": self.params.get("apache_conf_dir"),
            "pg_conf_dirs": self.params.get("pg_conf_dirs")})
        self.data = {}
        self.found = {}  # results of collectors that fill no data category
        self.incomplete = {}
        self.measurements = {}
        self.discovery = {}

    def run(self, args):
        # type: (list) -> tuple
        """(rc, out, err) of an argument list (never a shell line), output as text."""
        # handle_exceptions=False: a program that cannot start raises here (and its category is
        # incomplete) instead of fail_json ending a thread after printing a second result.
        # Bytes out, decoded here: undecodable bytes become U+FFFD on every Python, never
        # surrogates that the controller could not write back out.
        rc, out, err = self.module.run_command(
            args, cwd="/", environ_update={"LC_ALL": "C"}, expand_user_and_vars=False,
            handle_exceptions=False, encoding=None)
        return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def path(self, path):
        """Where a host path is for this process (the same, but under ``root`` in tests)."""
        return under(self.root, path)

    def bin(self, name, opt_dirs=()):
        """A program's path or None; never fails the module (that would end a thread)."""
        return self.module.get_bin_path(name, opt_dirs=list(opt_dirs))


class Collector:
    """One area of the baseline. Subclasses set ``name`` and implement ``collect``."""

    name = ""
    requires = ()  # names of collectors whose results ``collect`` reads
    category = None  # where a failure is reported (default: ``name``)
    fills_data = True  # the result is data[name]; else ctx.found[name], for later collectors
    variants = ()  # subclasses, tried in order by ``select``

    @classmethod
    def select(cls, ctx):
        """The variant that fits this host (by probing), or this class itself."""
        for variant in cls.variants:
            if variant.probe(ctx):
                return variant()
        if cls.variants:
            raise RuntimeError("no %s variant fits this host" % cls.name)
        return cls()

    @classmethod
    def probe(cls, ctx):
        return False

    def enabled(self, ctx):
        return True

    def collect(self, ctx):
        raise NotImplementedError


# -- hardware and OS ------------------------------------------------------------------------------


class Hardware(Collector):
    name = "hardware"

    def collect(self, ctx):
        ip = ctx.bin("ip", ["/sbin", "/usr/sbin"])
        ip_out = ctx.run([ip, "-o", "addr", "show"])[1] if ip else ""
        detect = ctx.bin("systemd-detect-virt")
        virt_out = ctx.run([detect])[1] if detect else None
        return {
            "cpu": spse_hardware.cpu(ctx.root),
            "memory": spse_hardware.memory(ctx.root),
            "virtualization": spse_hardware.virtualization(ctx.root, virt_out),
            "dmi": spse_hardware.dmi(ctx.root),
            "block_devices": spse_hardware.block_devices(ctx.root),
            "mounts": spse_hardware.mounts(ctx.root),
            "interfaces": spse_hardware.interfaces(ip_out, ctx.root),
        }


class Os(Collector):
    name = "os"

    def collect(self, ctx):
        uname = os.uname()  # a plain tuple on Python 2
        facts = spse_hardware.distribution(ctx.root)
        facts.update({"kernel": uname[2], "architecture": uname[4],
                      "hostname": uname[1].split(".")[0], "timezone": self._timezone(ctx),
                      "time_sync": self._time_sync(ctx)})
        return facts

    def _timezone(self, ctx):
        named = read_value(ctx.root, "/etc/timezone")
        if named:
            return named
        link = os.path.realpath("/etc/localtime")
        if "/zoneinfo/" in link:
            return link.split("/zoneinfo/", 1)[1]
        # CentOS 6 copies the zone file; its name is in /etc/sysconfig/clock
        match = re.search(r'^ZONE="?([^"\n]+)', read_text(ctx.root, "/etc/sysconfig/clock", ""), re.M)
        return match.group(1) if match else None

    def _time_sync(self, ctx):
        for service, binary, args in (("chrony", "chronyc", ["-n", "tracking"]),
                                      ("ntp", "ntpq", ["-pn"])):
            path = ctx.bin(binary)
            if path:
                rc, out, _err = ctx.run([path] + args)
                synced = rc == 0 and ("Leap status     : Normal" in out or "\n*" in out)
                return {"service": service, "synchronized": synced}
        return {"service": None, "synchronized": False}


# -- software -------------------------------------------------------------------------------------


class Packages(Collector):
    name = "packages"

    def query(self, ctx, args, parse):
        rc, out, err = ctx.run(args)
        if rc != 0:
            raise RuntimeError(err.strip()[:300] or "package query failed")
        return parse(out)


class DpkgPackages(Packages):
    @classmethod
    def probe(cls, ctx):
        return bool(ctx.bin("dpkg-query"))

    def collect(self, ctx):
        return self.query(ctx, [ctx.bin("dpkg-query")] + spse_software.DPKG_QUERY[1:],
                          spse_software.dpkg_packages)


class RpmPackages(Packages):
    @classmethod
    def probe(cls, ctx):
        return bool(ctx.bin("rpm"))

    def collect(self, ctx):
        return self.query(ctx, [ctx.bin("rpm")] + spse_software.RPM_QUERY[1:],
                          spse_software.rpm_packages)


Packages.variants = (DpkgPackages, RpmPackages)


class Services(Collector):
    name = "services"


class SystemdServices(Services):
    @classmethod
    def probe(cls, ctx):
        return os.path.isdir(ctx.path("/run/systemd/system")) and bool(ctx.bin("systemctl"))

    def collect(self, ctx):
        ctl = ctx.bin("systemctl")
        files = ctx.run([ctl, "list-unit-files", "--type=service", "--no-legend", "--no-pager"])[1]
        units = ctx.run([ctl, "list-units", "--type=service", "--all", "--no-legend",
                         "--no-pager", "--plain"])[1]
        return spse_software.systemd_services(files, units)


class SysvServices(Services):
    """sysvinit (CentOS 6, the lab): enabled = a start link in runlevels 2-5.

    Running = the daemon a script declares (LSB ``DAEMON=``) is in the process table, as
    ``status_of_proc`` decides; only scripts that name no daemon run their own ``status``
    (``service --status-all`` would run every script, a third of the whole capture).
    """

    SKIP = ("README", "skeleton", "rc", "rcS", "functions", "halt", "killall", "reboot")

    @classmethod
    def probe(cls, ctx):
        return os.path.isdir(ctx.path("/etc/init.d"))

    def collect(self, ctx):
        if os.geteuid() != 0:
            raise RuntimeError("needs become (root) to see which daemons run")
        links = set()
        for level in "2345":
            for path in ctx.layout.glob("/etc/rc%s.d/S*" % level) + ctx.layout.glob(
                    "/etc/rc.d/rc%s.d/S*" % level):
                links.add(re.sub(r"^S\d+", "", os.path.basename(path)))
        # A daemon by its binary and by the name it was started as (/usr/sbin/httpd may be a link).
        executables = set()
        for pid, argv in processes(ctx.root):
            executables.update([readlink(ctx.root, "/proc/%d/exe" % pid), argv[0]])
        result = {}
        for name in listdir(ctx.root, "/etc/init.d"):
            path = os.path.join("/etc/init.d", name)
            if name in self.SKIP or name.startswith(".") or not os.access(ctx.path(path), os.X_OK):
                continue
            declared = spse_software.lsb_daemon(read_text(ctx.root, path, ""))
            daemons = [declared] if declared else [
                exe for pattern, exe in KNOWN_DAEMONS if fnmatch.fnmatch(name, pattern)]
            if daemons:
                running = any(fnmatch.fnmatch(exe, d) for d in daemons for exe in executables
                              if exe and exe.startswith("/"))
            else:  # what `service --status-all` decides: exit 0 and something said
                rc, out, err = ctx.run([path, "status"])
                running = rc == 0 and bool(out.strip()) and "usage:" not in (out + err).lower()
            result[name] = {"state": "running" if running else "stopped", "enabled": name in links}
        return result


Services.variants = (SystemdServices, SysvServices)


class Ports(Collector):
    name = "ports"

    def collect(self, ctx):
        ss = ctx.bin("ss", ["/sbin", "/usr/sbin"])
        if not ss:
            raise RuntimeError("ss not found")
        rc, out, err = ctx.run([ss, "-tulnp"])
        if rc != 0:
            raise RuntimeError(err.strip()[:300] or "ss failed")
        return spse_software.listening_ports(out)


# -- discovery: what runs here and where its files are -------------------------------------------


class Postgresql(Collector):
    """Each PostgreSQL cluster with its files: asked of the running server (one psql each), else
    from the family layout when none runs. The server's answer (settings, databases) is kept for
    the database collector; a cluster psql cannot query carries its ``error``."""

    name = "postgresql"
    category = "database"
    fills_data = False

    def collect(self, ctx):
        clusters = discovery.postmasters(ctx.root)
        if clusters:
            parallel(lambda cluster: self._ask(ctx, cluster), clusters)
        else:
            clusters = [self._from_layout(ctx, cluster) for cluster in ctx.layout.pg_clusters()]
        for port, cluster in sorted(self.by_port(clusters).items()):
            ctx.discovery.setdefault("postgresql", {})[port] = dict(
                (name, cluster.get(name))
                for name in ("config_file", "hba_file", "data_directory", "found_by"))
        return clusters

    @staticmethod
    def by_port(clusters):
        """{port: cluster}; of two with one port (a stale copy beside the live one) the first."""
        found = {}
        for cluster in clusters or []:
            found.setdefault(cluster["port"], cluster)
        return found

    def _ask(self, ctx, cluster):
        cluster["found_by"] = discovery.RUNNING
        try:
            out = psql(ctx, cluster, spse_postgres.CLUSTER_DB, spse_postgres.CLUSTER_SQL)
            cluster["server"] = json.loads(out)
        except (RuntimeError, ValueError) as exc:
            cluster["error"] = u"%s" % exc
            return
        rows = cluster["server"].get("settings") or {}
        for name in ("config_file", "hba_file", "data_directory", "port"):
            if name in rows:
                cluster[name] = rows[name]["setting"]

    def _from_layout(self, ctx, cluster):
        """A stopped cluster: its port and hba file as its postgresql.conf says."""
        text = read_text(ctx.root, cluster["config_file"], "")
        try:
            conf = PARSERS["postgresql_conf"].parse(text, ctx.scrubber)
        except ParseError:
            conf = {}
        cluster["port"] = conf.get("port") if (conf.get("port") or "").isdigit() else "5432"
        if conf.get("hba_file"):
            cluster["hba_file"] = conf["hba_file"]
        return cluster


def psql(ctx, cluster, dbname, sql):
    """One query's output, as the OS user owning the cluster's data folder."""
    psql_path = _psql_binary(ctx, cluster.get("bin_dir"))
    runuser = ctx.bin("runuser", ["/sbin", "/usr/sbin"])
    if os.geteuid() != 0 or not runuser:
        raise RuntimeError("needs become (root) and runuser to query PostgreSQL")
    try:
        owner = pwd.getpwuid(os.stat(ctx.path(cluster["data_directory"])).st_uid).pw_name
    except (KeyError, OSError):
        owner = "postgres"
    rc, out, err = ctx.run(spse_postgres.psql_argv(runuser, psql_path, owner, cluster["port"], dbname,
                                                   sql, cluster.get("socket_dir")))
    if rc != 0:
        raise RuntimeError(" ".join(err.split())[:300] or "psql failed")
    return out


def _psql_binary(ctx, bin_dir):
    """The psql beside the running server, else the newest installed: the real binary, not
    Debian's pg_wrapper (a Perl script that costs a start-up each call)."""
    beside = os.path.join(bin_dir or "/nonexistent", "psql")
    if os.path.isfile(ctx.path(beside)) and trusted(ctx.root, beside):
        return beside
    real = sorted(ctx.layout.glob("/usr/lib/postgresql/*/bin/psql")
                  + ctx.layout.glob("/usr/pgsql-*/bin/psql"),
                  key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
    found = real[-1] if real else ctx.bin("psql")
    if not found:
        raise RuntimeError("psql not found")
    return found


class Apache(Collector):
    """Apache's server root and main config file: from the running httpd/apache2, else the
    inventory's or the family layout's."""

    name = "apache"
    category = "config"
    fills_data = False

    def collect(self, ctx):
        server = discovery.apache_server(ctx.root) or ctx.layout.apache()
        if server:
            ctx.discovery["apache"] = dict(server)
        return server


class Instances(Collector):
    """SPSE instances: folders under the app root holding webapp/conf/application.conf."""

    name = "instances"
    category = "spse"
    fills_data = False

    def collect(self, ctx):
        return discovery.spse_instances(ctx.params["appserv_root"], ctx.root)


# -- configuration files --------------------------------------------------------------------------


class Config(Collector):
    """Every file worth recording, parsed where the kind is known, following what includes what
    (Apache's Include, PostgreSQL's include*), each real file once.

    An include is followed only to a file the including file's owner could read: the capture
    reads as root, and a postgres-owned postgresql.conf must not make it parse root's files.
    """

    name = "config"
    requires = ("postgresql", "apache", "instances")

    def collect(self, ctx):
        apache = ctx.found.get("apache") or {}
        self.server_root = apache.get("server_root")
        queue = self._candidates(ctx, apache)
        files, seen = {}, set()
        while queue:
            path, kind = queue.pop(0)
            real = os.path.realpath(ctx.path(path))
            if real in seen or not os.path.isfile(real):
                continue
            seen.add(real)
            entry = self._entry(ctx, path, kind)
            if entry is None:
                continue
            files[path] = entry
            owner = os.stat(real).st_uid
            queue.extend((target, kind) for target, kind in self._included(ctx, path, entry)
                         if _readable_by(ctx.path(target), owner))
        for path in self._private_keys(ctx, files):
            if path not in files and os.path.isfile(ctx.path(path)):
                entry = self._entry(ctx, path, "private_key")
                if entry is not None:
                    files[path] = entry
        return files

    def _candidates(self, ctx, apache):
        """(path, kind) pairs in a stable order; globs expanded."""
        found = []
        for folder in sorted((ctx.found.get("instances") or {}).values()):
            found.append((folder + "/webapp/conf/application.conf", "play_conf"))
            found.extend((os.path.join(folder, script), "shell_script")
                         for script in discovery.START_SCRIPTS)
        for cluster in ctx.found.get("postgresql") or []:
            found.append((cluster["config_file"], "postgresql_conf"))
            found.append((cluster["hba_file"], "pg_hba"))
            if cluster.get("data_directory"):
                found.append((cluster["data_directory"] + "/postgresql.auto.conf", "postgresql_conf"))
            rows = (cluster.get("server") or {}).get("settings") or {}
            found.extend(sorted(set((row["sourcefile"], "postgresql_conf") for row in rows.values()
                                    if row.get("sourcefile"))))
        for home in _homes(("postgres", "root", "appserv")):
            found.append((home.rstrip("/") + "/.pgpass", "pgpass"))
        if apache.get("config_file"):
            found.append((apache["config_file"], "apache_conf"))
        for pattern, kind in discovery.COMMON_FILES + tuple(
                (spool, "crontab") for spool in ctx.layout.cron_spool):
            found.extend((path, kind) for path in ctx.layout.glob(pattern))
        found.extend((path, None) for path in ctx.params.get("extra_config_files") or [])
        return [(p, k) for p, k in found if p]

    def _included(self, ctx, path, entry):
        """(path, kind) of the files this one includes."""
        parsed = entry.get("parsed") or {}
        if entry["kind"] == "apache_conf" and self.server_root:
            roots = [v.strip('"') for v in parsed.get("ServerRoot", [])]
            self.server_root = roots[-1] if roots else self.server_root
            patterns = directive_values(parsed, "Include") + directive_values(parsed, "IncludeOptional")
            return [(p, "apache_conf")
                    for p in discovery.apache_include_paths(patterns, self.server_root, ctx.root)]
        if entry["kind"] == "postgresql_conf":
            base = os.path.dirname(path)
            found = []
            for key, value in sorted(parsed.items()):
                target = value if value.startswith("/") else os.path.join(base, value)
                if key.split(" ")[0] in ("include", "include_if_exists"):
                    found.append((target, "postgresql_conf"))
                elif key.split(" ")[0] == "include_dir":
                    found.extend((p, "postgresql_conf") for p in ctx.layout.glob(target + "/*.conf"))
            return found
        return []

    def _private_keys(self, ctx, files):
        """Key files named by Apache or PostgreSQL, plus SSH host keys: keyed hash only."""
        paths = set(ctx.layout.glob("/etc/ssh/ssh_host_*_key"))
        for entry in files.values():
            if entry["kind"] == "apache_conf":
                for value in directive_values(entry.get("parsed") or {}, "SSLCertificateKeyFile"):
                    value = value.strip('"')
                    paths.add(value if value.startswith("/") or not self.server_root
                              else os.path.join(self.server_root, value))
        for cluster in ctx.found.get("postgresql") or []:
            rows = (cluster.get("server") or {}).get("settings") or {}
            key_file = (rows.get("ssl_key_file") or {}).get("setting")
            if key_file and cluster.get("data_directory"):
                paths.add(os.path.join(cluster["data_directory"], key_file))
        return sorted(paths)

    def _entry(self, ctx, path, kind):
        try:
            st = os.stat(ctx.path(path))
            with open(ctx.path(path), "rb") as fh:
                raw = fh.read()
        except (IOError, OSError) as exc:
            ctx.incomplete["config:" + path] = "unreadable: %s" % exc.strerror
            return None
        entry = {"kind": kind or "unparsed", "owner": _user(st.st_uid), "group": _group(st.st_gid),
                 "mode": "%04o" % stat.S_IMODE(st.st_mode), "size": st.st_size}
        parser = PARSERS.get(kind) if kind else None
        parsed = None
        if parser is not None:
            try:
                parsed = parser.parse(raw.decode("utf-8", "replace"), ctx.scrubber)
            except ParseError as exc:
                entry["parse_error"] = u"%s" % exc
        # A plain digest of a file that holds (or may hold) a secret would let one test guesses.
        if parsed is None or kind in SECRET_BEARING_KINDS or ctx.scrubber.MARKER_RE.search(
                json.dumps(parsed)):
            entry["hmac"] = ctx.scrubber.hmac_hex(raw)
        else:
            entry["sha256"] = hashlib.sha256(raw).hexdigest()
        if parsed is not None:
            entry["parsed"] = parsed
        return entry




# -- live PostgreSQL ------------------------------------------------------------------------------


class Extensions(Collector):
    """Extensions live in each database: one psql per database, all in parallel and beside the
    config collector, the name passed as data in the connection string, never written into a
    script. The cluster query already brought those of the database it connected to.

    ``{data directory: {"found": {database: {extension: version}}, "failed": [database, ...]}}``
    """

    name = "extensions"
    requires = ("postgresql",)
    category = "database"
    fills_data = False

    def enabled(self, ctx):
        return ctx.params.get("capture_database", True)

    def collect(self, ctx):
        result, asks = {}, []
        for cluster in ctx.found.get("postgresql") or []:
            server = cluster.get("server")
            if not server:
                continue
            entry = result[cluster["data_directory"]] = {"found": {}, "failed": []}
            for name, db in sorted((server.get("databases") or {}).items()):
                if name == spse_postgres.CLUSTER_DB:
                    entry["found"][name] = server.get("extensions") or {}
                elif db["connectable"]:
                    asks.append((cluster, entry, name))

        def ask(item):
            cluster, entry, name = item
            try:
                entry["found"][name] = json.loads(
                    psql(ctx, cluster, name, spse_postgres.EXTENSIONS_SQL) or "null") or {}
            except (RuntimeError, ValueError):
                entry["failed"].append(name)

        parallel(ask, asks)
        return result


class Database(Collector):
    """Each cluster's live settings, databases and extensions. The cluster the SPSE instances'
    database URL points to (else the one on 5432, else the only one) is data ``database``; each
    further one ``database_<port>``. A cluster found only by the layout (not running) is
    incomplete, never empty-and-clean."""

    name = "database"
    requires = ("postgresql", "extensions", "config")

    def enabled(self, ctx):
        return ctx.params.get("capture_database", True)

    def collect(self, ctx):
        clusters = Postgresql.by_port(ctx.found.get("postgresql"))
        confs = [e.get("parsed") or {} for e in (ctx.data.get("config") or {}).values()
                 if e["kind"] == "play_conf"]
        main = spse_postgres.main_port(list(clusters), spse_postgres.spse_ports(confs))
        result = {}
        for port, cluster in sorted(clusters.items()):
            key = "database" if port == main else "database_" + port
            ctx.discovery["postgresql"][port]["category"] = key
            try:
                value = self._cluster(ctx, key, cluster)
            except RuntimeError as exc:
                ctx.incomplete[key] = u"%s" % exc
                value = {}
            if key == "database":
                result = value
            else:
                ctx.data[key] = value
        return result

    def _cluster(self, ctx, key, cluster):
        if cluster["found_by"] != discovery.RUNNING:
            if os.geteuid() != 0:  # another user's process table entries are not readable
                raise RuntimeError("needs become (root) to find and query the running PostgreSQL")
            raise RuntimeError("PostgreSQL is not running (its files were found by %s)"
                               % cluster["found_by"])
        if "error" in cluster:
            raise RuntimeError(cluster["error"])
        server = cluster["server"]
        databases = {}
        for name, db in sorted((server.get("databases") or {}).items()):
            ctx.measurements["%s.databases.%s.size_bytes" % (key, name)] = db["size_bytes"]
            databases[name] = {"owner": db["owner"], "encoding": db["encoding"]}
        extensions = (ctx.found.get("extensions") or {}).get(cluster["data_directory"])
        if extensions is None:
            raise RuntimeError("extensions were not collected")
        if extensions["failed"]:
            ctx.incomplete[key + ":extensions"] = "psql failed for %d database(s)" % len(
                extensions["failed"])
        return {"server_version": server["server_version"],
                "server_version_num": server["server_version_num"],
                "settings": spse_postgres.settings(server.get("settings"), ctx.scrubber),
                "databases": databases,
                "extensions": extensions["found"]}


# -- the SPSE application -------------------------------------------------------------------------


class Spse(Collector):
    """Instances (from the application.conf the config collector parsed), every JDK and the one
    each instance runs on, and the file stores (size and mount only, never content)."""

    name = "spse"
    requires = ("instances", "config", "hardware")

    def enabled(self, ctx):
        return ctx.params.get("capture_spse", True)

    def collect(self, ctx):
        config = ctx.data.get("config") or {}
        jdks = discovery.jdks(ctx.root)
        boot_lines = []
        for path, _kind in discovery.COMMON_FILES:
            if (config.get(path) or {}).get("kind") == "shell_script":
                boot_lines.extend((config[path].get("parsed") or {}).get("lines", []))
        instances = {}
        for name, folder in sorted((ctx.found.get("instances") or {}).items()):
            keys = (config.get(folder + "/webapp/conf/application.conf") or {}).get("parsed") or {}
            script = (config.get(os.path.join(folder, discovery.START_SCRIPTS[0])) or {}).get("parsed")
            home, found_by = self._java_home(ctx, jdks, (script or {}).get("lines", []), boot_lines)
            instances[name] = {
                "path": folder,
                "version": keys.get("spse.version") or keys.get("application.version")
                or (read_value(ctx.root, folder + "/webapp/VERSION") or "").split("\n")[0] or None,
                "java_home": home,
                "java_version": self._java_version(ctx, jdks, home),
                "http_port": keys.get("http.port"),
                "http_path": keys.get("http.path"),
                "mode": keys.get("application.mode"),
            }
            ctx.discovery.setdefault("spse", {})[name] = {
                "found_by": discovery.APP_ROOT_SCAN, "java_home_found_by": found_by}
        stores = self._file_stores(ctx)
        if not (instances or stores):
            return {}
        return {"instances": instances, "file_stores": stores, "jdks": jdks}

    def _java_home(self, ctx, jdks, script_lines, boot_lines):
        """(java home, how it was found): the start script's, else rc.local's, else `java` on
        PATH resolved to its JDK."""
        for lines, how in ((script_lines, "start script"), (boot_lines, "rc.local")):
            home = discovery.script_java_home(lines)
            if home:
                real = realpath(ctx.root, home)
                return (real if real in jdks else home), how
        java = ctx.bin("java")
        if not java:
            return None, None
        real = realpath(ctx.root, java)
        home = os.path.dirname(os.path.dirname(real))
        for candidate in (home, os.path.dirname(home)):  # a JDK 8's java is in jre/bin
            if candidate in jdks:
                return candidate, "PATH"
        return home, "PATH"

    def _java_version(self, ctx, jdks, home):
        if not home:
            return None
        known = (jdks.get(home) or {}).get("version")
        java = os.path.join(home, "bin", "java")
        # Only a JDK in the system's own places is run (a JVM start-up, when it has no release
        # file): the start script that named ``home`` is the application user's to write.
        if known or home not in jdks or not trusted(ctx.root, java):
            return known
        _rc, out, err = ctx.run([java, "-version"])
        match = re.search(r'version "([^"]+)"', out + err)
        return match.group(1) if match else None

    def _file_stores(self, ctx):
        mount_points = sorted((ctx.data.get("hardware") or {}).get("mounts") or {}, key=len,
                              reverse=True)
        stores = {}
        for path in ctx.params.get("file_stores") or []:
            if not os.path.isdir(path):
                continue
            mount = next((m for m in mount_points
                          if path == m or path.startswith(m.rstrip("/") + "/")), "/")
            stores[path] = {"mount": mount}
            if mount == path:
                st = os.statvfs(path)
                ctx.measurements["spse.file_stores.%s.used_bytes" % path] = (
                    (st.f_blocks - st.f_bfree) * st.f_frsize)
        return stores


# -- the registry ---------------------------------------------------------------------------------

COLLECTORS = (Packages, Services, Ports, Hardware, Os, Postgresql, Extensions, Apache, Instances,
              Config, Database, Spse)


def check_order(collectors):
    """The collectors in an order where each comes after what it requires; a requirement that no
    collector provides, or a cycle, is a bug of the registry and raises."""
    names = [c.name for c in collectors]
    ordered, pending = [], list(collectors)
    while pending:
        ready = [c for c in pending if all(r in [o.name for o in ordered] for r in c.requires)]
        if not ready:
            missing = sorted(set(r for c in pending for r in c.requires) - set(names))
            raise ValueError("collectors cannot be ordered: %s" % (
                "unknown requirement " + ", ".join(missing) if missing else "a cycle"))
        ordered.extend(ready)
        pending = [c for c in pending if c not in ready]
    return ordered


def run_one(ctx, cls):
    """Run one collector; a failure marks its category incomplete and leaves an empty result."""
    category = cls.category or cls.name
    result = {} if cls.fills_data else None
    try:
        collector = cls.select(ctx)
        if collector.enabled(ctx):
            result = collector.collect(ctx)
    except Exception as exc:  # a category that fails is said, not hidden
        known = isinstance(exc, (RuntimeError, EnvironmentError))
        # The exception's type, never its text when unknown: a parser's KeyError could hold a value.
        ctx.incomplete[category] = u"%s" % exc if known else "%s in the %s collector" % (
            type(exc).__name__, cls.name)
    if cls.fills_data:
        ctx.data[cls.name] = result
    else:
        ctx.found[cls.name] = result


def collect_all(ctx, collectors=COLLECTORS):
    """Every collector in its own thread, each starting once what it requires is done."""
    done = dict((cls.name, threading.Event()) for cls in collectors)

    def work(cls):
        try:
            for name in cls.requires:
                done[name].wait()
            run_one(ctx, cls)
        finally:
            done[cls.name].set()

    parallel(work, check_order(collectors))
    return {"data": ctx.data, "incomplete": ctx.incomplete, "measurements": ctx.measurements,
            "discovery": ctx.discovery}


def _readable_by(path, uid):
    """Whether user ``uid`` may read the file by its owner or other bits (group left out)."""
    try:
        st = os.stat(path)
    except (IOError, OSError):
        return False
    return uid in (0, st.st_uid) or bool(st.st_mode & 0o004)


def parallel(func, items):
    """``func(item)`` for every item, each in its own thread; returns when all are done."""
    threads = [threading.Thread(target=func, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _homes(users):
    homes = []
    for user in users:
        try:
            homes.append(pwd.getpwnam(user).pw_dir)
        except KeyError:
            continue
    return sorted(set(homes))


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return "%d" % uid


def _group(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return "%d" % gid
