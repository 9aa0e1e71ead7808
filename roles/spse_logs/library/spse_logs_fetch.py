#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Cut one day out of an SPSE server's logs, scrubbed, into files the controller fetches.

The logs are found where the host keeps them, by the capture's own discovery
(spse_baseline's module_utils): PostgreSQL's live settings (``logging_collector``,
``log_directory``, ``log_filename``, ``log_destination``, Debian's pg_ctlcluster log
when the collector is off), the SPSE instances under the app root, Apache's log
folders. Lines are read as a stream, kept when their entry is of the day (PostgreSQL
and Apache lines carry their date; SPSE's carry only a time, so the file is chosen by
its dated rotation name or by when it was last written), scrubbed of credentials
here (``SecretScrubber.log_line``) and gzip-compressed into a private temporary
folder, each log up to ``max_bytes``. Only metadata is returned: the text never
travels in the module's result, so it never reaches ansible-runner's events.
Runs on Python 2.7 and 3.6+.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: spse_logs_fetch
short_description: Write one day of an SPSE server's logs, scrubbed and compressed, for fetching
options:
  date:
    description: The day, YYYY-MM-DD, in the host's own time (PostgreSQL's log_timezone).
    type: str
    required: true
  max_bytes:
    description: Most bytes kept of each log (uncompressed); past it the log is cut.
    type: int
    required: true
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
  apache_log_dirs:
    description: Apache's log folders.
    type: list
    elements: path
    default: []
  apache_logs:
    description: File name globs of the access logs to read (rotations included); C(!glob)
      excludes.
    type: list
    elements: str
    default: []
  read_database:
    description: Read PostgreSQL's logs.
    type: bool
    default: true
  read_spse:
    description: Read the SPSE application and Apache logs.
    type: bool
    default: true
author: spse-change
"""

RETURN = r"""
spse_logs_json:
  description:
    - One JSON string, C(date), C(dir) (the temporary folder to remove), C(logs) (each
      written log: id, kind, name, path, sources, bytes, lines, cut, day_source and, for
      PostgreSQL, its format and settings) and C(not_read) (kind, name, reason).
  returned: always
  type: str
"""

import bz2
import fnmatch
import gzip
import io
import json
import os
import re
import shutil
import stat
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.spse_collectors import Context, Postgresql
from ansible.module_utils.spse_discovery import spse_instances
from ansible.module_utils.spse_host import realpath, under
from ansible.module_utils.spse_secrets import SecretScrubber

DAY = 86400
# The first date-time of an entry line (PostgreSQL stderr, csvlog, jsonlog): near its start.
PG_STAMP = re.compile(br"(\d{4}-\d\d-\d\d)[ T]\d\d:\d\d:\d\d")
APACHE_STAMP = re.compile(br"\[(\d\d)/(\w{3})/(\d{4}):\d\d:\d\d:\d\d")
MONTHS = dict((name, "%02d" % (n + 1)) for n, name in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]))
ROTATION = re.compile(r"(?:[.-](?:\d+|\d{4}-?\d\d-?\d\d))?(?:\.gz|\.bz2)?$")
PG_EXTENSION = {"csvlog": ".csv", "jsonlog": ".json"}
PG_SETTINGS = ("logging_collector", "log_destination", "log_directory", "log_filename",
               "data_directory", "config_file", "log_line_prefix", "log_min_duration_statement",
               "log_timezone", "server_version_num")


def pg_day(line):
    # type: (bytes) -> object
    found = PG_STAMP.search(line, 0, 96)
    return found.group(1).decode("ascii") if found else None


def apache_day(line):
    # type: (bytes) -> object
    found = APACHE_STAMP.search(line)
    if not found:
        return None
    day, month, year = (g.decode("ascii") for g in found.groups())
    return "%s-%s-%s" % (year, MONTHS.get(month, "00"), day)


def open_raw(path):
    """A regular file, never through a symlink: a log folder's owner must not steer root into
    reading another file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    raw = io.open(fd, "rb")  # noqa: SIM115 (returned open; the caller closes it)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        raw.close()
        raise IOError("not a regular file")
    return raw


def decompressed(raw, path):
    """The stream of lines: gzip or bzip2 told by the first bytes, else the file itself."""
    head = raw.read(3)
    raw.seek(0)
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if head.startswith(b"BZh"):  # Python 2.7's BZ2File takes no file object
        return bz2.BZ2File(path, "rb")
    return raw


def regular_files(root, folder, match):
    """(host path, mtime, size) of the regular files (not symlinks) in ``folder`` whose name
    ``match`` accepts, oldest first."""
    found = []
    try:
        names = os.listdir(under(root, folder))
    except (IOError, OSError):
        return found
    for name in names:
        if not match(name):
            continue
        path = os.path.join(folder, name)
        try:
            st = os.lstat(under(root, path))
        except (IOError, OSError):
            continue
        if stat.S_ISREG(st.st_mode):
            found.append((path, st.st_mtime, st.st_size))
    return sorted(found, key=lambda item: (item[1], item[0]))


class LogWriter:
    """One log's kept lines, scrubbed and gzip-compressed into a file, up to ``max_bytes``."""

    def __init__(self, folder, log_id, max_bytes, scrubber):
        self.path = os.path.join(folder, log_id + ".gz")
        self.max_bytes = max_bytes
        self.scrubber = scrubber
        self.bytes = 0
        self.lines = 0
        self.cut = False
        self._out = gzip.GzipFile(self.path, "wb", 6, mtime=0)

    def add(self, line):
        # type: (bytes) -> bool
        """Keep one line (newline included); False once the bound is reached."""
        if self.bytes + len(line) > self.max_bytes:
            self.cut = True
            return False
        self._out.write(scrub_bytes(self.scrubber, line))
        self.bytes += len(line)
        self.lines += 1
        return True

    def close(self):
        self._out.close()


def scrub_bytes(scrubber, line):
    # type: (object, bytes) -> bytes
    if isinstance(line, str):  # Python 2: bytes are str, which the scrubber takes as they are
        return scrubber.log_line(line)
    text = line.decode("utf-8", "surrogateescape")
    scrubbed = scrubber.log_line(text)
    return line if scrubbed is text else scrubbed.encode("utf-8", "surrogateescape")


def copy_lines(root, sources, writer, day=None, entry_day=None):
    """Stream ``sources`` into ``writer``; with ``entry_day``, only the lines of entries of
    ``day`` (a line starting with no blank and carrying a date starts an entry; the lines after
    it belong to it). Returns each source's {path, size, mtime, truncated?}."""
    read = []
    for path, mtime, size in sources:
        entry = {"path": path, "size": size, "mtime": int(mtime)}
        read.append(entry)
        keep = entry_day is None
        try:
            raw = open_raw(under(root, path))
        except (IOError, OSError) as exc:
            entry["truncated"] = "cannot open: %s" % (getattr(exc, "strerror", None) or exc)
            continue
        stream = decompressed(raw, under(root, path))
        try:
            for line in stream:
                if entry_day is not None and line[:1] not in (b" ", b"\t"):
                    found = entry_day(line)
                    if found is not None:
                        keep = found == day
                if keep and not writer.add(line):
                    return read
        except (IOError, OSError, EOFError, ValueError) as exc:  # a torn gzip or bzip2 stream
            entry["truncated"] = "%s" % (getattr(exc, "strerror", None) or exc.__class__.__name__)
        finally:
            stream.close()
            raw.close()
    return read


def pg_log_files(settings, root="/"):
    """(format, files, how found) of a cluster's log, from its live settings: the logging
    collector's folder and file name pattern, else Debian's pg_ctlcluster log."""
    destinations = [d.strip() for d in settings["log_destination"].split(",")]
    fmt = next((f for f in ("csvlog", "jsonlog", "stderr") if f in destinations), None)
    if fmt is None:
        return None, [], "log_destination = '%s' writes no file" % settings["log_destination"]
    if settings["logging_collector"] == "on":
        folder = os.path.join(settings["data_directory"], settings["log_directory"])
        pattern = re.sub(r"%.", "*", settings["log_filename"])
        if fmt in PG_EXTENSION:
            pattern = (pattern[:-4] if pattern.endswith(".log") else pattern) + PG_EXTENSION[fmt]
        how = "logging_collector: %s/%s" % (folder, settings["log_filename"])
    else:
        found = re.match(r"^/etc/postgresql/([^/]+)/([^/]+)/", settings["config_file"])
        if not found:
            return fmt, [], "logging_collector = off and no pg_ctlcluster log (not a Debian cluster)"
        folder, pattern = "/var/log/postgresql", "postgresql-%s-%s.log" % found.groups()
        fmt, how = "stderr", "pg_ctlcluster: /var/log/postgresql/%s" % pattern

    def match(name):
        return fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(name, pattern + ".*")
    return fmt, regular_files(root, folder, match), how


class Reader:
    """Writes each log of the day into ``folder`` and says what it read and what it could not."""

    def __init__(self, params, scrubber, root="/"):
        self.params = params
        self.scrubber = scrubber
        self.root = root
        self.day = params["date"]
        self.start = time.mktime(time.strptime(self.day, "%Y-%m-%d"))
        self.folder = tempfile.mkdtemp(prefix="spse-logs-")
        self.logs = []
        self.not_read = []

    def recent(self, files):
        """Files written since the day began (a day of slack for log_timezone)."""
        return [f for f in files if f[1] >= self.start - DAY]

    def write(self, log_id, kind, name, sources, entry_day=None, **extra):
        writer = LogWriter(self.folder, log_id, self.params["max_bytes"], self.scrubber)
        try:
            read = copy_lines(self.root, sources, writer, self.day, entry_day)
        finally:
            writer.close()
        log = {"id": log_id, "kind": kind, "name": name, "path": writer.path, "sources": read,
               "bytes": writer.bytes, "lines": writer.lines, "cut": writer.cut,
               "max_bytes": writer.max_bytes}
        log.update(extra)
        self.logs.append(log)
        for source in read:  # a file that could not be opened, or broke off, is not read: never a quiet day
            if "truncated" in source:
                self.missing(kind, name, "%s: %s" % (source["path"], source["truncated"]))
        return log

    def drop_empty(self, logs, kind, name, files):
        """Logs with no entry of the day are none: said so when none of ``logs`` has one."""
        for log in logs:
            if not log["lines"]:
                self.logs.remove(log)
        if not any(log["lines"] for log in logs):
            self.missing(kind, name, "no entry dated %s in %s" % (self.day, ", ".join(f[0] for f in files)))

    def missing(self, kind, name, reason):
        self.not_read.append({"kind": kind, "name": name, "reason": reason})

    # -- PostgreSQL ---------------------------------------------------------------------------

    def postgresql(self, ctx):
        clusters = Postgresql.by_port(Postgresql().collect(ctx))
        if not clusters:
            self.missing("postgresql", "PostgreSQL", "no PostgreSQL cluster found")
        for port, cluster in sorted(clusters.items()):
            name = "PostgreSQL :%s" % port
            rows = (cluster.get("server") or {}).get("settings")
            if not rows:
                self.missing("postgresql", name, "its live settings are unknown (%s)" % (
                    cluster.get("error") or "the server does not run"))
                continue
            settings = dict((key, u"%s" % (rows.get(key) or {}).get("setting", ""))
                            for key in PG_SETTINGS)
            fmt, files, how = pg_log_files(settings, self.root)
            files = self.recent(files)
            if not files:
                self.missing("postgresql", name, "no log file written since %s (%s)" % (self.day, how))
                continue
            log = self.write("postgresql-%s" % port, "postgresql", name, files, pg_day,
                       format=fmt, found_by=how, prefix=settings["log_line_prefix"],
                       min_duration_ms=settings["log_min_duration_statement"],
                       timezone=settings["log_timezone"],
                       day_source="entri bertanggal (log_timezone %s)" % settings["log_timezone"])
            self.drop_empty([log], "postgresql", name, files)

    # -- SPSE application ---------------------------------------------------------------------

    def spse(self):
        instances = spse_instances(self.params["appserv_root"], self.root)
        if not instances:
            self.missing("application", "SPSE", "no SPSE instance under %s" % self.params["appserv_root"])
        for instance, home in sorted(instances.items()):
            folder = os.path.join(home, "webapp", "logs")
            if realpath(self.root, folder) != os.path.normpath(folder):
                # the application's user owns it: a symlink would steer root into /var/log or /etc
                self.missing("application", instance, "%s is a symlink: not followed" % folder)
                continue
            bases = [f[0] for f in regular_files(self.root, folder, lambda n: n.endswith(".log"))]
            if not bases:
                self.missing("application", instance, "no *.log in %s" % folder)
            for base in sorted(bases):
                self.app_log(instance, folder, os.path.basename(base))

    def app_log(self, instance, folder, base):
        """Play lines carry only a time: the day's file is its dated rotation, else the files
        last written on that day."""
        name = "%s %s" % (instance, base)
        dated = re.compile(re.escape(base) + r"[.-]" + re.escape(self.day) + r"(?:\.gz|\.bz2)?$")
        files = regular_files(self.root, folder, dated.match)
        how = "rotasi log: nama berkas bertanggal %s" % self.day
        if not files:
            own = re.compile(re.escape(base) + r"(?:\.\d+)?(?:\.gz|\.bz2)?$")
            files = [f for f in regular_files(self.root, folder, own.match)
                     if time.strftime("%Y-%m-%d", time.localtime(f[1])) == self.day]
            how = ("waktu berkas: terakhir ditulis pada %s (baris hari sebelumnya dapat ikut, bila "
                   "berkas tidak dirotasi harian)" % self.day)
        if not files:
            self.missing("application", name, "no rotation named %s and no file last written that day "
                         "in %s" % (self.day, folder))
            return
        self.write("application-%s-%s" % (instance, base), "application", name, files,
                   instance=instance, day_source=how)

    # -- Apache -------------------------------------------------------------------------------

    def apache_wanted(self, name):
        """A name that some glob matches and no ``!glob`` excludes."""
        patterns = self.params["apache_logs"]
        return (any(fnmatch.fnmatch(name, p) for p in patterns if not p.startswith("!"))
                and not any(fnmatch.fnmatch(name, p[1:]) for p in patterns if p.startswith("!")))

    def apache(self):
        found = {}
        for folder in self.params["apache_log_dirs"]:
            for item in regular_files(self.root, folder, self.apache_wanted):
                base = os.path.join(folder, ROTATION.sub("", os.path.basename(item[0])))
                found.setdefault(base, []).append(item)
        if not found:
            folders = ", ".join(self.params["apache_log_dirs"])
            self.missing("apache", "Apache", "no access log in %s" % folders)
        written, considered = [], []
        for base, files in sorted(found.items()):
            files = self.recent(files)
            considered += files
            if files:
                written.append(self.write("apache-%s" % re.sub(r"[^\w.-]", "_", base.strip("/")), "apache",
                                          base, files, apache_day, day_source="entri bertanggal"))
        if found:  # a quiet vhost beside a busy one is no missing log; no entry in any of them is
            self.drop_empty(written, "apache", "Apache", considered or [(", ".join(sorted(found)), 0, 0)])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            date=dict(type="str", required=True),
            max_bytes=dict(type="int", required=True),
            hmac_key=dict(type="str", required=True, no_log=True),
            secret_patterns=dict(type="list", elements="str", default=[]),
            appserv_root=dict(type="path", default="/home/appserv"),
            apache_log_dirs=dict(type="list", elements="path", default=[]),
            apache_logs=dict(type="list", elements="str", default=[]),
            read_database=dict(type="bool", default=True),
            read_spse=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    if not re.match(r"^\d{4}-\d\d-\d\d$", module.params["date"]):
        module.fail_json(msg="date must be YYYY-MM-DD")
    if module.params["max_bytes"] <= 0:
        module.fail_json(msg="max_bytes must be positive")
    if len(module.params["hmac_key"]) < 32:
        module.fail_json(msg="hmac_key is too short (need at least 32 characters)")
    scrubber = SecretScrubber(module.params["hmac_key"].encode("utf-8"), module.params["secret_patterns"])
    reader = Reader(module.params, scrubber)
    try:
        if module.params["read_database"]:
            reader.postgresql(Context(module, scrubber))
        if module.params["read_spse"]:
            reader.spse()
            reader.apache()
    except BaseException:  # the playbook removes the folder it is told of; here none is told
        shutil.rmtree(reader.folder, ignore_errors=True)
        raise
    module.exit_json(changed=False, spse_logs_json=json.dumps(
        {"date": reader.day, "dir": reader.folder, "logs": reader.logs, "not_read": reader.not_read}))


if __name__ == "__main__":
    main()
